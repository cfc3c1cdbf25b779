"""occurred_at on distributions (#17, offline capture): a load sheet or empty return
keeps when it happened beside when it was posted; its number, ledger and audit time are
the posting's; a moment in the future or older than SYNC_MAX_AGE_DAYS is refused with
nothing written; the idempotency key fingerprints the moment."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.idempotency import REUSED
from core.models import AuditLog
from stock.models import Distribution, StockMovement
from stock.services import distribution_create, distribution_post, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def depot_stock(north, head_office, products):
    for code in ("12.7KG", "9KG"):
        stock_receive(depot=north, product=products[code], quantity=50, actor=head_office)
    return products


def written() -> tuple[int, int, int]:
    return Distribution.objects.count(), StockMovement.objects.count(), AuditLog.objects.count()


def load(rep, north, products, **extra) -> Distribution:
    return distribution_post(
        sales_rep=rep,
        depot=north,
        kind="COLLECTION",
        lines=[
            {"product": products["12.7KG"], "quantity": 5},
            {"product": products["9KG"], "quantity": 2},
        ],
        actor=rep,
        **extra,
    )


def test_a_load_sheet_keeps_when_it_happened(depot_stock, north, sales_rep):
    happened = timezone.now() - timedelta(hours=30)
    sheet = load(sales_rep, north, depot_stock, occurred_at=happened)
    sheet.refresh_from_db()
    assert sheet.occurred_at == happened
    assert sheet.created_at > happened + timedelta(hours=29)
    movements = StockMovement.objects.filter(reference=sheet.distribution_no)
    assert movements.count() == 2
    assert {m.created_at for m in movements} == {sheet.created_at}
    entry = AuditLog.objects.get(action="distribution_post", object_id=str(sheet.pk))
    assert entry.data["occurred_at"] == happened.isoformat()
    assert entry.created_at == sheet.created_at


def test_a_one_product_distribution_keeps_its_moment(depot_stock, north, sales_rep):
    happened = timezone.now() - timedelta(days=2)
    one = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=depot_stock["9KG"],
        quantity=1,
        kind="COLLECTION",
        actor=sales_rep,
        occurred_at=happened,
    )
    one.refresh_from_db()
    assert one.occurred_at == happened
    entry = AuditLog.objects.get(action="distribution_create", object_id=str(one.pk))
    assert entry.data["occurred_at"] == happened.isoformat()


def test_without_occurred_at_it_happened_when_posted(depot_stock, north, sales_rep):
    at = timezone.now() - timedelta(hours=2)
    sheet = load(sales_rep, north, depot_stock, at=at)
    sheet.refresh_from_db()
    assert sheet.occurred_at == sheet.created_at == at


def test_a_sheet_on_new_years_eve_synced_on_new_years_day_takes_the_new_years_number(
    north, head_office, sales_rep, products
):
    zone = timezone.get_default_timezone()
    year = timezone.localdate().year
    eve = datetime(year - 1, 12, 31, 23, 40, tzinfo=zone)
    new_year = datetime(year, 1, 1, 0, 5, tzinfo=zone)
    stock_receive(depot=north, product=products["12.7KG"], quantity=10, actor=head_office, at=eve)
    sheet = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=products["12.7KG"],
        quantity=3,
        kind="COLLECTION",
        actor=sales_rep,
        occurred_at=eve + timedelta(minutes=10),
        at=new_year,
    )
    assert sheet.distribution_no == f"DST-{year}-000001"


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (timedelta(minutes=6), "occurred_at_future"),
        (-timedelta(days=7, minutes=1), "occurred_at_too_old"),
    ],
)
def test_a_moment_in_the_future_or_too_old_is_refused_with_nothing_written(
    depot_stock, north, sales_rep, offset, code
):
    before = written()
    when = timezone.now() + offset
    for call in (
        lambda: load(sales_rep, north, depot_stock, occurred_at=when, idempotency_key="d1"),
        lambda: distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=depot_stock["9KG"],
            quantity=1,
            kind="COLLECTION",
            actor=sales_rep,
            occurred_at=when,
        ),
    ):
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.error_dict["occurred_at"][0].code == code
        assert written() == before
    assert load(sales_rep, north, depot_stock, idempotency_key="d1").distribution_no


def test_a_naive_moment_or_not_a_moment_is_refused(depot_stock, north, sales_rep):
    before = written()
    naive = datetime(2026, 11, 30, 9, 15)  # noqa: DTZ001 - the point
    for value, code in ((naive, "occurred_at_naive"), ("yesterday", "invalid")):
        with pytest.raises(ValidationError) as refused:
            load(sales_rep, north, depot_stock, occurred_at=value)
        assert refused.value.error_dict["occurred_at"][0].code == code
    assert written() == before


def test_the_key_replays_the_same_moment_and_refuses_another(depot_stock, north, sales_rep):
    happened = timezone.now() - timedelta(hours=3)
    first = load(sales_rep, north, depot_stock, occurred_at=happened, idempotency_key="sheet")
    elsewhere = happened.astimezone(timezone.get_fixed_timezone(-5 * 60))  # the same instant
    again = load(sales_rep, north, depot_stock, occurred_at=elsewhere, idempotency_key="sheet")
    assert again.pk == first.pk
    before = written()
    for other in (happened - timedelta(seconds=1), None):
        with pytest.raises(ValidationError) as refused:
            load(sales_rep, north, depot_stock, occurred_at=other, idempotency_key="sheet")
        assert refused.value.error_dict["idempotency_key"][0].code == REUSED
    assert written() == before
    one = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=depot_stock["9KG"],
        quantity=1,
        kind="COLLECTION",
        actor=sales_rep,
        occurred_at=happened,
        idempotency_key="one",
    )
    with pytest.raises(ValidationError):
        distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=depot_stock["9KG"],
            quantity=1,
            kind="COLLECTION",
            actor=sales_rep,
            idempotency_key="one",
        )
    assert one.distribution_no.startswith("DST-")


def test_the_last_moment_a_datetime_holds_is_refused_not_a_crash(depot_stock, north, sales_rep):
    edge = datetime(9999, 12, 31, 23, 30, tzinfo=timezone.get_fixed_timezone(-300))
    with pytest.raises(ValidationError) as refused:
        load(sales_rep, north, depot_stock, occurred_at=edge, idempotency_key="edge")
    assert refused.value.error_dict["occurred_at"][0].code == "occurred_at_future"
