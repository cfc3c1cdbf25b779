"""What the reviews of the representative's day found, each failing before its fix:
terms changed on an open account, a manager confirming the cash-up they counted, meter
readings running backwards in time, sync retries answered wrongly after a change or a
manager's decision, a repost landing in a depot the manager does not manage, and
requests that gave a 500 or ran a query per line."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from sales.api_sync import repost_as_representative
from sales.models import Customer, SyncRefusal, Transaction
from sales.services import (
    cashup_confirm,
    cashup_post,
    customer_update,
    cylinder_return,
    deposit_set,
    payment_record,
    sale_post,
)
from sales.services.sync import sync_refusal_dismiss, sync_refusal_repost

pytestmark = pytest.mark.django_db
D = Decimal


def codes(error: ValidationError) -> set[str]:
    return {e.code for errors in error.error_dict.values() for e in errors}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def sync(user, documents):
    return api(user).post("/api/sync/", {"documents": documents}, format="json")


# --- money -------------------------------------------------------------------------


def test_terms_change_only_on_a_settled_account(
    customer_factory, loaded_vehicle, products, head_office
):
    """Before: a credit customer owing 6,800.00 switched to cash, then returned the two
    cylinders and was paid their 800.00 deposit in cash, inside an unpaid invoice."""
    deposit_set(product=products["12.7KG"], amount="400", actor=head_office)
    credit = customer_factory("CREDIT")
    line = {"product": products["12.7KG"], "quantity": 2, "empties_returned": 0}
    sale_post(customer=credit, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=[line])
    with pytest.raises(ValidationError) as refused:
        customer_update(customer=credit, actor=head_office, data={"payment_type": "CASH"})
    assert codes(refused.value) == {"account_not_settled"}
    assert "owes 6,800.00" in str(refused.value)
    credit.refresh_from_db()
    assert credit.payment_type == "CREDIT"

    payment_record(customer=credit, amount="6800", actor=head_office)
    customer_update(customer=credit, actor=head_office, data={"payment_type": "CASH"})
    returned = cylinder_return(
        customer=credit,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
    )
    assert (returned.refund_amount, returned.refund_to) == (D("800.00"), "CASH")


def test_a_manager_does_not_confirm_the_cash_up_they_counted(
    user_factory, north, manager, sales_rep, head_office
):
    counted = cashup_post(sales_rep=sales_rep, counted_cash="0", actor=manager)
    with pytest.raises(ValidationError) as refused:
        cashup_confirm(cashup=counted, actor=manager)
    assert refused.value.code == "own_cashup"
    other = user_factory("MANAGER", depots=[north])
    assert cashup_confirm(cashup=counted, actor=other).status == "CONFIRMED"


def test_a_reading_taken_earlier_but_higher_is_refused(customer_factory, loaded_vehicle):
    """Before: 150 posted live, then 160 captured an hour earlier was accepted, so by
    time the meter read 160 then 150."""
    customer = customer_factory("CASH")
    earlier = timezone.now()  # after the customer's rates took effect
    sale_post(
        customer=customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, meter_reading="150"
    )
    with pytest.raises(ValidationError) as refused:
        sale_post(
            customer=customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            meter_reading="160",
            occurred_at=earlier,
        )
    assert codes(refused.value) == {"meter_reading_out_of_order"}
    assert Transaction.objects.count() == 1
    later = sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        meter_reading="160",
        occurred_at=timezone.now(),
    )
    assert later.metered == D("10.00")


# --- sync --------------------------------------------------------------------------


def a_sale(client_id, customer, quantity=1):
    return {
        "client_id": client_id,
        "type": "sale",
        "occurred_at": timezone.now().isoformat(),  # the rates are from the fixtures' now
        "customer": customer.code,
        "lines": [{"product": "12.7KG", "quantity": quantity, "empties_returned": quantity}],
    }


def test_a_retry_of_a_posted_document_replays_whatever_changed_since(
    customer_factory, loaded_vehicle
):
    """Before: the customer closed after the sale posted, and the identical retry was
    refused ("No customer ... among yours") and a refusal opened: a handheld would enter
    the sale again."""
    customer = customer_factory("CASH")
    document = a_sale("r-1", customer)
    first = sync(loaded_vehicle, [document]).json()["results"][0]
    assert first["status"] == "posted"
    Customer.objects.filter(pk=customer.pk).update(is_active=False)
    again = sync(loaded_vehicle, [document]).json()["results"][0]
    assert (again["status"], again["number"]) == ("replayed", first["number"])
    assert not SyncRefusal.objects.exists()


def test_after_a_managers_decision_a_resend_gets_a_final_answer(
    customer_factory, loaded_vehicle, manager
):
    customer = customer_factory("CASH")
    too_many = a_sale("m-1", customer, quantity=500)
    assert sync(loaded_vehicle, [too_many]).json()["results"][0]["status"] == "refused"
    refusal = SyncRefusal.objects.get(client_id="m-1")
    corrected = {**too_many, "lines": [{"product": "12.7KG", "quantity": 1}]}
    reposted = sync_refusal_repost(
        refusal=refusal, document=corrected, actor=manager, post=repost_as_representative
    )
    resent = sync(loaded_vehicle, [too_many]).json()["results"][0]
    assert (resent["status"], resent["number"]) == ("replayed", reposted.reposted_number)

    other = a_sale("m-2", customer, quantity=500)
    sync(loaded_vehicle, [other])
    sync_refusal_dismiss(
        refusal=SyncRefusal.objects.get(client_id="m-2"), actor=manager, reason="Typo"
    )
    final = sync(loaded_vehicle, [other]).json()["results"][0]
    assert final["status"] == "refused"
    assert final["error"]["code"] == "sync_refusal_dismissed"
    assert "Typo" in final["error"]["message"]


def test_a_reused_client_id_is_answered_not_kept(customer_factory, loaded_vehicle):
    customer = customer_factory("CASH")
    assert sync(loaded_vehicle, [a_sale("dup", customer)]).json()["results"][0]["number"]
    other = sync(loaded_vehicle, [a_sale("dup", customer, quantity=2)]).json()["results"][0]
    assert other["error"]["code"] == "idempotency_key_reused"
    assert not SyncRefusal.objects.exists()  # no repost could post under it


def test_a_repost_may_not_land_in_a_depot_the_manager_does_not_manage(
    customer_factory, loaded_vehicle, manager, south, head_office
):
    customer = customer_factory("CASH")
    sync(loaded_vehicle, [a_sale("x-1", customer, quantity=500)])
    refusal = SyncRefusal.objects.get(client_id="x-1")
    # The representative's customer moved to SOUTH since; the NORTH manager reposts.
    other = customer_factory("CASH", depot=south)
    moved = {**a_sale("x-1", other), "customer": other.code}
    with pytest.raises((PermissionDenied, ValidationError)):
        sync_refusal_repost(
            refusal=refusal, document=moved, actor=manager, post=repost_as_representative
        )
    assert Transaction.objects.count() == 0
    refusal.refresh_from_db()
    assert refusal.status == "OPEN"


# --- requests that must be a 400 ------------------------------------------------------


def test_deeply_nested_sync_json_is_a_400(sales_rep):
    body = '{"documents": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = api(sales_rep).post("/api/sync/", body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize("day", ["0000-01-01", "٢٠٢٦-11-30"])
def test_odd_days_are_a_400_naming_date(sales_rep, day):
    answer = api(sales_rep).get("/api/me/day/", {"date": day})
    assert answer.status_code == 400
    assert "date" in answer.json()["error"]["fields"]


def test_a_sale_of_too_many_lines_is_refused_before_reading_them(sales_rep, customer_factory):
    customer = customer_factory("CASH")
    lines = [{"product": "12.7KG", "quantity": 1}] * 500
    with CaptureQueriesContext(connection) as queries:
        answer = api(sales_rep).post(
            "/api/sales/", {"customer": customer.code, "lines": lines}, format="json"
        )
    assert answer.status_code == 400
    assert [f for f in answer.json()["error"]["fields"] if f.startswith("lines")]
    assert len(queries) < 50  # not a product lookup per line
