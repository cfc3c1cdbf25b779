"""Deposit rates (deposit_set, deposits_in_force), the deposit-exempt customer, and the
deposit held read back (sales.selectors)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditLog
from sales.models import DepositRate
from sales.selectors import (
    cylinders_held,
    deposit_held,
    deposit_in_force,
    deposits_in_force,
)
from sales.services import customer_create, customer_update, deposit_set, sale_post

pytestmark = pytest.mark.django_db

D = Decimal


def test_a_version_is_in_force_from_its_moment(products, head_office):
    cyl = products["12.7KG"]
    now = timezone.now()
    first = deposit_set(product=cyl, amount="400.00", actor=head_office, at=now)
    later = deposit_set(
        product=cyl, amount="450", actor=head_office, effective_from=now + timedelta(days=2)
    )
    assert (first.amount, first.effective_from, first.created_by) == (D("400"), now, head_office)
    assert deposit_in_force(product=cyl, at=now - timedelta(seconds=1)) == 0
    assert deposit_in_force(product=cyl, at=now + timedelta(days=1)) == D("400")
    assert deposit_in_force(product=cyl, at=later.effective_from) == D("450")
    audit = AuditLog.objects.get(action="deposit_set", object_id=str(later.pk))
    assert (audit.data["product"], audit.data["amount"], audit.data["previous"]) == (
        "12.7KG",
        "450.00",
        "400.00",
    )


def test_a_date_means_the_start_of_that_day(products, head_office):
    day = timezone.localdate() + timedelta(days=3)
    version = deposit_set(
        product=products["9KG"], amount="300", actor=head_office, effective_from=day
    )
    moment = timezone.localtime(version.effective_from)
    assert (moment.date(), moment.hour, moment.minute) == (day, 0, 0)


def test_deposits_in_force_reads_every_product_in_one_query(products, head_office):
    deposit_set(product=products["12.7KG"], amount="500", actor=head_office)
    deposit_set(product=products["12.7KG"], amount="550", actor=head_office)  # the later wins
    deposit_set(product=products["9KG"], amount="350", actor=head_office)
    asked = [products["12.7KG"], products["9KG"], products["14KG"]]
    with CaptureQueriesContext(connection) as queries:
        found = deposits_in_force(products=asked, at=timezone.now())
    assert len(queries) == 1
    assert found == {
        products["12.7KG"].pk: D("550"),
        products["9KG"].pk: D("350"),
        products["14KG"].pk: 0,  # none set: nothing charged
    }


@pytest.mark.parametrize(
    ("amount", "code"),
    [("-0.01", "amount_too_small"), ("1.005", "too_many_decimals"), ("abc", "not_an_amount")],
)
def test_a_bad_amount_is_refused_on_its_field(products, head_office, amount, code):
    with pytest.raises(ValidationError) as exc:
        deposit_set(product=products["12.7KG"], amount=amount, actor=head_office)
    assert exc.value.error_dict["amount"][0].code == code
    assert DepositRate.objects.count() == 0
    assert not AuditLog.objects.filter(action="deposit_set").exists()


def test_a_zero_deposit_is_a_version(products, head_office):
    assert deposit_set(product=products["12.7KG"], amount="0", actor=head_office).amount == 0


def test_only_cylinders_carry_a_deposit(products, head_office):
    with pytest.raises(ValidationError) as exc:
        deposit_set(product=products["BULK"], amount="100", actor=head_office)
    assert exc.value.error_dict["product"][0].code == "product_not_cylinder"
    assert DepositRate.objects.count() == 0


def test_only_head_office_sets_a_deposit(products, manager, sales_rep):
    for actor in (manager, sales_rep):
        with pytest.raises(PermissionDenied):
            deposit_set(product=products["12.7KG"], amount="100", actor=actor)
    assert DepositRate.objects.count() == 0


def test_a_deposit_may_not_reprice_a_posted_sale(
    cash_customer, loaded_vehicle, products, head_office
):
    cyl = products["12.7KG"]
    line = {"product": cyl, "quantity": 1, "empties_returned": 0}
    sale = sale_post(
        customer=cash_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=[line]
    )
    with pytest.raises(ValidationError) as exc:
        deposit_set(
            product=cyl,
            amount="500",
            actor=head_office,
            effective_from=sale.created_at - timedelta(minutes=1),
        )
    assert exc.value.error_dict["effective_from"][0].code == "reprices_history"
    assert "would reprice sales already posted" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        deposit_set(product=cyl, amount="500", actor=head_office, effective_from=date(2001, 1, 1))
    assert exc.value.error_dict["effective_from"][0].code == "reprices_history"
    assert DepositRate.objects.count() == 0
    assert deposit_set(product=cyl, amount="500", actor=head_office).amount == D("500")


def test_deposit_held_adds_up_per_product_and_in_all(
    credit_customer, loaded_vehicle, products, head_office
):
    deposit_set(product=products["12.7KG"], amount="500", actor=head_office)
    deposit_set(product=products["9KG"], amount="300", actor=head_office)
    lines = [
        {"product": products["12.7KG"], "quantity": 2, "empties_returned": 0},
        {"product": products["9KG"], "quantity": 3, "empties_returned": 1},
    ]
    sale = sale_post(
        customer=credit_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=lines
    )
    assert sale.deposit_amount == D("1600.00")
    assert deposit_held(customer=credit_customer, product=products["12.7KG"]) == D("1000.00")
    assert deposit_held(customer=credit_customer, product=products["9KG"]) == D("600.00")
    assert deposit_held(customer=credit_customer) == D("1600.00")
    assert cylinders_held(customer=credit_customer, product=products["9KG"]) == 2
    assert cylinders_held(customer=credit_customer, product=products["14KG"]) == 0


def test_the_exempt_flag_is_set_and_changed_through_the_services(north, head_office):
    customer = customer_create(
        code="OWN1", name="Owns cylinders", depot=north, actor=head_office, deposit_exempt=True
    )
    assert customer.deposit_exempt is True
    customer_update(customer=customer, actor=head_office, data={"deposit_exempt": False})
    customer.refresh_from_db()
    assert customer.deposit_exempt is False
    audit = AuditLog.objects.filter(action="customer_update").latest("id")
    assert "deposit_exempt" in str(audit.data["changes"])
