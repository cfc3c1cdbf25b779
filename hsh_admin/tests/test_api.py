"""The field API: who may do what, one error shape, Idempotency-Key, lockout, throttles."""

import pytest
from rest_framework.test import APIClient

from sales.models import Customer, Transaction
from sales.services import rate_set
from stock.models import Product
from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(north, south, head_office, sales_rep, user_factory):
    """NORTH: sales_rep with stock, customer C1. SOUTH: another rep and a manager."""
    cyl = Product.objects.get(code="12.7KG")
    stock_receive(depot=north, product=cyl, quantity=50, actor=head_office)
    distribution = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=20,
        kind="COLLECTION",
        actor=sales_rep,
    )
    c1 = Customer.objects.create(code="C1", name="Hotel", depot=north, payment_type="CREDIT")
    rate_set(customer=c1, product=cyl, rate="3000", actor=head_office)
    other_rep = user_factory("SALES", depots=[south], username="southrep")
    south_manager = user_factory("MANAGER", depots=[south], username="southmanager")
    return {
        "cyl": cyl,
        "c1": c1,
        "distribution": distribution,
        "users": {
            "anonymous": None,
            "sales": sales_rep,
            "other_sales": other_rep,
            "other_manager": south_manager,
            "admin": head_office,
        },
    }


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def post_sale(client, quantity=1, key=None, customer="C1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/sales/",
        {
            "customer": customer,
            "lines": [{"product": "12.7KG", "quantity": quantity, "empties_returned": quantity}],
        },
        format="json",
        **headers,
    )


# endpoint -> actor -> expected status
GETS = {
    "/api/me/stock/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 200,
        "other_manager": 200,
        "admin": 200,
    },
    "/api/customers/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 200,
        "other_manager": 200,
        "admin": 200,
    },
    "/api/customers/C1/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 404,
        "other_manager": 404,
        "admin": 200,
    },
    "/api/distributions/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 200,
        "other_manager": 200,
        "admin": 200,
    },
    "/api/distributions/{dist}/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 404,
        "other_manager": 404,
        "admin": 200,
    },
    "/api/sales/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 200,
        "other_manager": 200,
        "admin": 200,
    },
    "/api/sales/{sale}/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 404,
        "other_manager": 404,
        "admin": 200,
    },
    "/api/payments/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 200,
        "other_manager": 200,
        "admin": 200,
    },
    "/api/payments/{payment}/": {
        "anonymous": 401,
        "sales": 200,
        "other_sales": 404,
        "other_manager": 404,
        "admin": 200,
    },
    "/api/reports/sales-register/": {
        "anonymous": 401,
        "sales": 403,
        "other_sales": 403,
        "other_manager": 200,
        "admin": 200,
    },
    "/api/schema/": {
        "anonymous": 200,
        "sales": 200,
        "other_sales": 200,
        "other_manager": 200,
        "admin": 200,
    },
    "/api/docs/": {
        "anonymous": 200,
        "sales": 200,
        "other_sales": 200,
        "other_manager": 200,
        "admin": 200,
    },
}
ACTORS = ["anonymous", "sales", "other_sales", "other_manager", "admin"]


@pytest.fixture
def documents(world):
    from sales.services import payment_record, sale_post

    rep = world["users"]["sales"]
    sale = sale_post(
        customer=world["c1"],
        sales_rep=rep,
        actor=rep,
        lines=[{"product": world["cyl"], "quantity": 1}],
    )
    payment = payment_record(customer=world["c1"], amount="100", actor=rep)
    return {
        "dist": world["distribution"].distribution_no,
        "sale": sale.number,
        "payment": payment.number,
    }


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", GETS)
def test_who_may_read_what(world, documents, endpoint, actor):
    response = client_for(world["users"][actor]).get(endpoint.format(**documents))
    assert response.status_code == GETS[endpoint][actor]


def test_lists_show_only_what_the_role_sees(world, documents):
    users = world["users"]
    assert [
        c["code"] for c in client_for(users["sales"]).get("/api/customers/").data["results"]
    ] == ["C1"]
    assert client_for(users["other_sales"]).get("/api/customers/").data["results"] == []
    assert client_for(users["other_manager"]).get("/api/sales/").data["results"] == []
    assert len(client_for(users["admin"]).get("/api/sales/").data["results"]) == 1
    mine = client_for(users["sales"]).get("/api/me/stock/").data
    assert {
        "location": "vehicle",
        "depot": "NORTH",
        "product": "12.7KG",
        "state": "FULL",
        "quantity": 19,
    } in mine


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("sales", 201), ("other_manager", 403), ("admin", 403)],
)
def test_only_a_sales_rep_posts_a_sale(world, actor, expected):
    response = post_sale(client_for(world["users"][actor]))
    assert response.status_code == expected


def test_another_depots_rep_cannot_sell_to_my_customer(world):
    response = post_sale(client_for(world["users"]["other_sales"]))
    assert response.status_code == 400
    assert "customer" in response.data["error"]["fields"]


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("sales", 201), ("other_manager", 403), ("admin", 403)],
)
def test_only_a_sales_rep_posts_distributions_and_payments(world, actor, expected):
    client = client_for(world["users"][actor])
    collection = client.post(
        "/api/distributions/",
        {"depot": "NORTH", "product": "12.7KG", "quantity": 2, "kind": "COLLECTION"},
    )
    payment = client.post("/api/payments/", {"customer": "C1", "amount": "10.00"})
    assert collection.status_code == expected
    assert payment.status_code == expected


def test_a_sale_posts_and_answers_with_the_document(world):
    response = post_sale(client_for(world["users"]["sales"]), quantity=2)
    assert response.status_code == 201
    body = response.data
    assert body["status"] == "POSTED"
    assert body["total_amount"] == "6000.00"
    assert body["sold"][0] == {
        "product": "12.7KG",
        "quantity": 2,
        "empties_returned": 2,
        "rate": "3000.00",
        "subtotal": "6000.00",
    }


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        (
            {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 0}]},
            "lines[0].quantity",
            "greater than or equal to 1",
        ),
        (
            {"customer": "NOPE", "lines": [{"product": "12.7KG", "quantity": 1}]},
            "customer",
            "No customer NOPE among yours.",
        ),
        (
            {"customer": "C1", "lines": [{"product": "12.7KG", "quantity": 21}]},
            None,
            "Only 20 full 12.7KG cylinders on vehicle",
        ),
        ({"customer": "C1", "meter_reading": "abc"}, "meter_reading", "valid number"),
        ({"customer": "C1"}, None, "at least one cylinder line or a meter reading"),
    ],
)
def test_errors_have_one_shape_and_name_the_field(world, payload, field, text):
    response = client_for(world["users"]["sales"]).post("/api/sales/", payload, format="json")
    assert response.status_code == 400
    error = response.data["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    if field:
        assert any(text in m for m in error["fields"][field]), error
    else:
        assert text in error["message"]
    assert Transaction.objects.count() == 0


def test_garbage_bodies_are_400s(world):
    client = client_for(world["users"]["sales"])
    for body in (
        '{"customer": ',
        "[]",
        '{"lines": "x", "customer": "C1"}',
        '{"customer": "C1", "lines": [{"product": null, "quantity": "1e9"}]}',
    ):
        response = client.post("/api/sales/", body, content_type="application/json")
        assert response.status_code == 400, body
        assert "error" in response.data


def test_a_retry_with_the_same_key_gets_the_first_response(world):
    client = client_for(world["users"]["sales"])
    first = post_sale(client, key="hh-1-0001")
    again = post_sale(client, key="hh-1-0001")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.data["number"] == first.data["number"]
    assert again["Idempotent-Replay"] == "true"
    assert Transaction.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409(world):
    client = client_for(world["users"]["sales"])
    post_sale(client, key="hh-1-0002")
    response = post_sale(client, quantity=3, key="hh-1-0002")
    assert response.status_code == 409
    assert response.data["error"]["code"] == "idempotency_key_reused"
    assert Transaction.objects.count() == 1


def test_a_refused_post_keeps_no_key(world):
    client = client_for(world["users"]["sales"])
    assert post_sale(client, quantity=99, key="hh-1-0003").status_code == 400
    assert post_sale(client, quantity=1, key="hh-1-0003").status_code == 201


def test_keys_belong_to_their_user(world, user_factory, north):
    other = user_factory("SALES", depots=[north])
    stock_receive(depot=north, product=world["cyl"], quantity=5, actor=world["users"]["admin"])
    distribution_create(
        sales_rep=other,
        depot=north,
        product=world["cyl"],
        quantity=5,
        kind="COLLECTION",
        actor=other,
    )
    assert post_sale(client_for(world["users"]["sales"]), key="same").status_code == 201
    response = post_sale(client_for(other), key="same")
    assert response.status_code == 201
    assert "Idempotent-Replay" not in response
    assert Transaction.objects.count() == 2


def test_failed_api_logins_lock_out_the_admin_login_too(world, client, settings):
    rep = world["users"]["other_manager"]
    api = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/auth/token/", {"username": rep.username, "password": "wrong"})
    locked = api.post(
        "/api/auth/token/", {"username": rep.username, "password": "correct-horse-battery"}
    )
    assert locked.status_code == 429
    assert locked.data["error"]["code"] == "locked_out"
    page = client.post(
        "/admin/login/", {"username": rep.username, "password": "correct-horse-battery"}
    )
    assert "_auth_user_id" not in client.session
    assert page.status_code in (200, 403, 429)


def test_a_token_opens_the_api(world):
    api = APIClient()
    token = api.post(
        "/api/auth/token/", {"username": "northrep", "password": "correct-horse-battery"}
    )
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.data['access']}")
    assert api.get("/api/me/stock/").status_code == 200


def test_the_token_endpoint_is_rate_limited(world, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/minute", "writes": "100/minute"}
    )
    api = APIClient()
    codes = [
        api.post("/api/auth/token/", {"username": "x", "password": "y"}).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_with_one_key_post_once(world, concurrently):
    rep = world["users"]["sales"]

    def retry():
        response = post_sale(client_for(rep), quantity=2, key="handheld-9-000777")
        return response.status_code, response.data.get("number")

    outcomes = concurrently([retry] * 10)
    assert [o[0] for o in outcomes] == [201] * 10, outcomes
    assert len({o[1] for o in outcomes}) == 1
    assert Transaction.objects.count() == 1


def test_a_nul_byte_in_a_code_is_a_400(world):
    response = client_for(world["users"]["sales"]).post(
        "/api/distributions/",
        {"depot": "\x00", "product": "12.7KG", "quantity": 1, "kind": "COLLECTION"},
    )
    assert response.status_code == 400
    assert "depot" in response.data["error"]["fields"]
