"""at= on the sales postings (#14): the moment a document is posted, passed in (the demo
seed and tests only), stamps the document, its number's year, its ledger rows, the
history rows and allocations it writes, and its audit entry; the chain still verifies."""

from datetime import datetime, timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.core.exceptions import ValidationError
from django.db import migrations, models
from django.utils import timezone

from core.models import AuditLog, Depot, User
from core.selectors import audit_chain_check
from sales.models import Customer, PaymentAllocation, Rate
from sales.selectors import rate_in_force
from sales.services import customer_create, payment_record, rate_set, sale_post, sale_void
from stock.models import Product, StockMovement

pytestmark = pytest.mark.django_db


def new_years_eve() -> datetime:
    """23:59 on 31 December of last year, business time: the last minute of a year."""
    year = timezone.localdate().year - 1
    return datetime(year, 12, 31, 23, 59, tzinfo=timezone.get_default_timezone())


def audit_entry(action: str, obj: models.Model) -> AuditLog:
    return AuditLog.objects.get(action=action, object_id=str(obj.pk))


@pytest.fixture
def hotel(north: Depot, head_office: User, products: dict[str, Product]) -> Customer:
    """A credit customer with a bulk tank, opened and priced a month before the eve."""
    opened = new_years_eve() - timedelta(days=30)
    customer = customer_create(
        code="H1", name="Hotel", depot=north, payment_type="CREDIT", actor=head_office, at=opened
    )
    for code, rate in (("12.7KG", "3000"), ("BULK", "250")):
        rate_set(customer=customer, product=products[code], rate=rate, actor=head_office, at=opened)
    return customer


def test_an_account_and_its_rates_are_stamped_with_their_moment(
    hotel: Customer, products: dict[str, Product]
) -> None:
    opened = new_years_eve() - timedelta(days=30)
    hotel.refresh_from_db()
    assert hotel.created_at == opened
    assert hotel.history.get().history_date == opened
    assert audit_entry("customer_create", hotel).created_at == opened
    rate = Rate.objects.get(customer=hotel, product=products["12.7KG"])
    assert (rate.created_at, rate.effective_from) == (opened, opened)  # "from now" is `at`
    assert rate.history.get().history_date == opened
    assert audit_entry("rate_set", rate).created_at == opened
    cyl = products["12.7KG"]
    assert rate_in_force(customer=hotel, product=cyl, at=opened) == Decimal("3000")
    assert audit_chain_check().intact


def test_a_rate_at_a_moment_is_checked_against_that_moment(
    hotel: Customer, head_office: User, products: dict[str, Product]
) -> None:
    """The versions already in force are those up to `at`: a rate set at an earlier moment
    than a version already written is refused as one that would never apply."""
    later = new_years_eve()
    rate_set(customer=hotel, product=products["9KG"], rate="2000", actor=head_office, at=later)
    with pytest.raises(ValidationError, match="would never apply"):
        rate_set(
            customer=hotel,
            product=products["9KG"],
            rate="2100",
            actor=head_office,
            effective_from=(later - timedelta(days=1)).date(),
            at=later + timedelta(hours=1),
        )


def test_a_credit_sale_at_new_years_eve_is_numbered_and_dated_in_that_year(
    hotel: Customer, loaded_vehicle: User, head_office: User, products: dict[str, Product]
) -> None:
    eve = new_years_eve()
    paid = payment_record(customer=hotel, amount="1000", actor=head_office, at=eve)
    sale = sale_post(
        customer=hotel,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
        meter_reading="10",
        at=eve,
    )
    sale.refresh_from_db()
    assert sale.created_at == eve
    assert sale.number == f"TX-{eve.year}-000001"
    assert paid.number == f"PAY-{eve.year}-000001"
    dates = sale.history.values_list("history_date", flat=True)
    assert list(dates) == [eve, eve]  # posted, then settled by the money on account
    ledger = StockMovement.objects.filter(doc_type="sales.transaction", doc_id=sale.pk)
    assert set(ledger.values_list("created_at", flat=True)) == {eve}
    assert audit_entry("sale_post", sale).created_at == eve
    # what the sale wrote besides: the money on account settling it, the meter reading
    allocation = PaymentAllocation.objects.get(transaction=sale)
    assert allocation.created_at == eve
    assert paid.history.order_by("-history_id")[0].history_date == eve
    hotel.refresh_from_db()
    assert hotel.last_meter_reading == Decimal("10")
    assert hotel.history.order_by("-history_id")[0].history_date == eve
    assert audit_chain_check().intact


def test_a_void_and_a_payment_are_stamped_with_their_moment(
    hotel: Customer, loaded_vehicle: User, head_office: User, products: dict[str, Product]
) -> None:
    eve = new_years_eve()
    sale = sale_post(
        customer=hotel,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 2}],
        at=eve - timedelta(hours=2),
    )
    payment = payment_record(customer=hotel, amount="6000", actor=head_office, at=eve)
    payment.refresh_from_db()
    assert payment.created_at == eve
    assert payment.number == f"PAY-{eve.year}-000001"
    dates = payment.history.values_list("history_date", flat=True)
    assert list(dates) == [eve, eve]  # recorded, then settling the sale
    assert PaymentAllocation.objects.get().created_at == eve
    assert sale.history.order_by("-history_id")[0].history_date == eve  # settled then
    assert audit_entry("payment_record", payment).created_at == eve

    new_year = eve + timedelta(minutes=1)
    voided = sale_void(transaction=sale, actor=head_office, reason="returned", at=new_year)
    voided.refresh_from_db()
    assert voided.voided_at == new_year
    assert voided.number == f"TX-{eve.year}-000001"  # a sale keeps its number
    assert voided.history.order_by("-history_id")[0].history_date == new_year
    released = PaymentAllocation.objects.get(amount__lt=0)
    assert released.created_at == new_year
    void_rows = StockMovement.objects.filter(kind="VOID", doc_id=sale.pk)
    assert set(void_rows.values_list("created_at", flat=True)) == {new_year}
    assert audit_entry("sale_void", sale).created_at == new_year
    assert audit_chain_check().intact


def test_the_migration_changes_django_state_only() -> None:
    """created_at went from auto_now_add to a default: no SQL (rates and allocations are
    big tables)."""
    migration = import_module("sales.migrations.0010_created_at_set_by_services").Migration
    for operation in migration.operations:
        assert isinstance(operation, migrations.SeparateDatabaseAndState)
        assert operation.database_operations == []
