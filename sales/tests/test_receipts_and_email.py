"""#15: a payment's received_on (back-dating window, never in the future), the reference a
cheque or bank transfer needs, the customer's e-mail; through the services, the admin and
the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditLog
from sales.models import CreditNote, Customer, Payment
from sales.services import customer_create, customer_update, payment_record, sale_post, sale_void

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


# --- received_on -------------------------------------------------------------------------


def test_received_on_defaults_to_today_and_is_audited(credit_customer, manager):
    payment = payment_record(customer=credit_customer, amount="10.00", actor=manager)
    assert payment.received_on == today()
    assert payment.received_by == manager
    entry = AuditLog.objects.get(action="payment_record", object_id=str(payment.pk))
    assert entry.data["received_on"] == today().isoformat()


def test_received_on_may_be_back_dated_within_the_window(credit_customer, manager, settings):
    settings.PAYMENT_BACKDATE_DAYS = 31
    day = today() - timedelta(days=31)
    payment = payment_record(
        customer=credit_customer, amount="10.00", actor=manager, received_on=day
    )
    payment.refresh_from_db()
    assert payment.received_on == day


@pytest.mark.parametrize(
    ("days_back", "code"), [(-1, "received_on_future"), (32, "received_on_too_old")]
)
def test_received_on_outside_the_window_is_refused(
    credit_customer, manager, settings, days_back, code
):
    settings.PAYMENT_BACKDATE_DAYS = 31
    with pytest.raises(ValidationError) as exc:
        payment_record(
            customer=credit_customer,
            amount="10.00",
            actor=manager,
            received_on=today() - timedelta(days=days_back),
        )
    assert exc.value.error_dict["received_on"][0].code == code
    assert not Payment.objects.exists()


def test_the_window_is_a_setting(credit_customer, manager, settings):
    settings.PAYMENT_BACKDATE_DAYS = 0
    with pytest.raises(ValidationError) as exc:
        payment_record(
            customer=credit_customer,
            amount="10.00",
            actor=manager,
            received_on=today() - timedelta(days=1),
        )
    assert exc.value.error_dict["received_on"][0].code == "received_on_too_old"


def test_received_on_must_be_a_date(credit_customer, manager):
    with pytest.raises(ValidationError) as exc:
        payment_record(
            customer=credit_customer,
            amount="10.00",
            actor=manager,
            received_on=timezone.now(),  # type: ignore[arg-type]
        )
    assert exc.value.error_dict["received_on"][0].code == "invalid"


@pytest.mark.parametrize("method", ["CHEQUE", "BANK"])
def test_a_cheque_or_transfer_needs_its_reference(credit_customer, manager, method):
    with pytest.raises(ValidationError) as exc:
        payment_record(
            customer=credit_customer, amount="10.00", actor=manager, method=method, reference=" "
        )
    assert exc.value.error_dict["reference"][0].code == "reference_required"
    assert not Payment.objects.exists()
    payment = payment_record(
        customer=credit_customer, amount="10.00", actor=manager, method=method, reference="7781"
    )
    assert payment.reference == "7781"


def test_a_keyed_retry_without_received_on_replays(credit_customer, manager):
    first = payment_record(
        customer=credit_customer, amount="10.00", actor=manager, idempotency_key="k1"
    )
    again = payment_record(
        customer=credit_customer, amount="10.00", actor=manager, idempotency_key="k1"
    )
    assert again.pk == first.pk
    with pytest.raises(ValidationError) as exc:
        payment_record(
            customer=credit_customer,
            amount="10.00",
            actor=manager,
            idempotency_key="k1",
            received_on=today() - timedelta(days=1),
        )
    assert exc.value.error_dict["idempotency_key"][0].code == "idempotency_key_reused"


def test_the_api_takes_and_shows_received_on(credit_customer, loaded_vehicle):
    api = APIClient()
    api.force_authenticate(loaded_vehicle)
    day = today() - timedelta(days=2)
    response = api.post(
        "/api/payments/",
        {"customer": credit_customer.code, "amount": "10.00", "received_on": day.isoformat()},
        format="json",
        HTTP_IDEMPOTENCY_KEY="rcv-1",
    )
    assert response.status_code == 201, response.data
    assert response.data["received_on"] == day.isoformat()
    assert response.data["received_by"] == loaded_vehicle.username
    future = api.post(
        "/api/payments/",
        {
            "customer": credit_customer.code,
            "amount": "10.00",
            "received_on": (today() + timedelta(days=1)).isoformat(),
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="rcv-2",
    )
    assert future.status_code == 400
    assert "received_on" in future.data["error"]["fields"]
    assert Payment.objects.count() == 1


def test_the_admin_form_takes_received_on(client, manager, credit_customer):
    client.force_login(manager)
    day = today() - timedelta(days=3)
    data = {
        "customer": credit_customer.pk,
        "amount": "25.00",
        "method": "CHEQUE",
        "reference": "CHQ 1",
        "received_on": day.isoformat(),
    }
    url = reverse("admin:sales_payment_add")
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    assert f"Received on {day.day} {day:%b %Y}." in preview.context["preview_lines"]
    response = client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.received_on == day
    page = client.get(reverse("admin:sales_payment_change", args=[payment.pk])).content.decode()
    assert "Received on" in page
    assert "CHQ 1" in page
    assert manager.username in page


def test_the_admin_form_names_the_field_of_a_refused_date(client, manager, credit_customer):
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_payment_add"),
        {
            "customer": credit_customer.pk,
            "amount": "25.00",
            "method": "CASH",
            "received_on": (today() + timedelta(days=1)).isoformat(),
            "_preview": "1",
        },
    )
    assert response.context["stage"] == "entry"
    assert "after today" in str(response.context["form"].errors["received_on"])
    assert not Payment.objects.exists()


# --- e-mail --------------------------------------------------------------------------------


def test_customer_create_takes_an_email(north, head_office):
    customer = customer_create(
        code="C950", name="Lake Inn", depot=north, actor=head_office, email=" a@lake.example "
    )
    assert (customer.email, customer.email_invoices) == ("a@lake.example", True)
    assert customer.documents_by_email
    quiet = customer_create(
        code="C951", name="Hill Inn", depot=north, actor=head_office, email_invoices=False
    )
    assert (quiet.email, quiet.documents_by_email) == ("", False)


def test_a_bad_address_is_refused_naming_the_field(north, head_office):
    with pytest.raises(ValidationError) as exc:
        customer_create(code="C952", name="X", depot=north, actor=head_office, email="not-mail")
    assert exc.value.error_dict["email"][0].code == "invalid"
    assert not Customer.objects.filter(code="C952").exists()


def test_customer_update_changes_and_checks_the_email(credit_customer, head_office):
    customer_update(
        customer=credit_customer,
        actor=head_office,
        data={"email": "pay@harbour.example", "email_invoices": False},
    )
    credit_customer.refresh_from_db()
    assert (credit_customer.email, credit_customer.email_invoices) == (
        "pay@harbour.example",
        False,
    )
    entry = AuditLog.objects.filter(action="customer_update").latest("seq")
    assert entry.data["changes"]["email"] == {"old": "", "new": "pay@harbour.example"}
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=credit_customer, actor=head_office, data={"email": "a@@b"})
    assert exc.value.error_dict["email"][0].code == "invalid"
    credit_customer.refresh_from_db()
    assert credit_customer.email == "pay@harbour.example"


def test_the_customer_admin_shows_and_checks_the_email(client, head_office, credit_customer):
    client.force_login(head_office)
    url = reverse("admin:sales_customer_change", args=[credit_customer.pk])
    page = client.get(url).content.decode()
    assert 'name="email"' in page
    assert 'name="email_invoices"' in page
    data = {
        "name": credit_customer.name,
        "address": "",
        "phone": "",
        "email": "bad address",
        "email_invoices": "on",
        "depot": credit_customer.depot_id,
        "is_active": "on",
        "payment_type": "CREDIT",
        "credit_limit": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    response = client.post(url, {**data, "email": "ok@harbour.example"})
    assert response.status_code == 302
    credit_customer.refresh_from_db()
    assert credit_customer.email == "ok@harbour.example"


def test_the_customer_api_shows_the_email(cash_customer, loaded_vehicle, head_office):
    customer_update(customer=cash_customer, actor=head_office, data={"email": "c@x.example"})
    api = APIClient()
    api.force_authenticate(loaded_vehicle)
    response = api.get(f"/api/customers/{cash_customer.code}/")
    assert response.status_code == 200
    assert response.data["email"] == "c@x.example"


# --- credit notes in the admin ---------------------------------------------------------------


@pytest.fixture
def voided(cash_customer, loaded_vehicle, products, manager):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1, "empties_returned": 0}],
    )
    return sale_void(transaction=sale, actor=manager, reason="Entered twice")


def test_a_voided_sale_shows_its_credit_note(client, manager, voided, cash_customer):
    client.force_login(manager)
    page = client.get(reverse("admin:sales_transaction_change", args=[voided.pk]))
    text = page.content.decode()
    note = voided.credit_note
    assert note.number in text
    assert "Entered twice" in text
    assert f"{note.amount:,.2f}" in text  # money as people read it: 2,200.00


def test_a_posted_sale_shows_no_credit_note(
    client, manager, cash_customer, loaded_vehicle, products
):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1, "empties_returned": 0}],
    )
    client.force_login(manager)
    text = client.get(reverse("admin:sales_transaction_change", args=[sale.pk])).content.decode()
    assert "CN-" not in text


def test_the_credit_note_list_is_read_only_and_searchable(client, manager, voided):
    client.force_login(manager)
    url = reverse("admin:sales_creditnote_changelist")
    note = voided.credit_note
    page = client.get(url, {"q": note.number.lower()})
    assert page.status_code == 200
    text = page.content.decode()
    assert note.number in text
    assert voided.number in text
    assert voided.customer.code in text
    assert note.number not in client.get(url, {"q": "CN-1999-000001"}).content.decode()
    assert client.get(reverse("admin:sales_creditnote_add")).status_code == 403
    detail = client.get(reverse("admin:sales_creditnote_change", args=[note.pk]))
    assert detail.status_code == 200
    assert "Entered twice" in detail.content.decode()


def test_another_depots_manager_does_not_see_the_credit_note(client, user_factory, south, voided):
    other = user_factory("MANAGER", depots=[south])
    client.force_login(other)
    page = client.get(reverse("admin:sales_creditnote_changelist"))
    assert page.status_code == 200
    assert voided.credit_note.number not in page.content.decode()
    note = CreditNote.objects.get()
    detail = client.get(reverse("admin:sales_creditnote_change", args=[note.pk]))
    assert detail.status_code in (302, 404)
