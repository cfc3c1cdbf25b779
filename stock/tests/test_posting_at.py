"""at= on the stock postings (#14): the moment a document is posted, passed in (the demo
seed and tests only), stamps the document, its number's year, its ledger rows, the levels'
history rows and its audit entry; the audit chain still verifies."""

from datetime import datetime, timedelta
from importlib import import_module

import pytest
from django.db import migrations, models
from django.utils import timezone

from core.models import AuditLog, Depot, User
from core.selectors import audit_chain_check
from stock.models import Distribution, Product, StockLevel, StockMovement
from stock.services import distribution_create, stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


def new_years_eve() -> datetime:
    """23:59 on 31 December of last year, business time: the last minute of a year."""
    year = timezone.localdate().year - 1
    return datetime(year, 12, 31, 23, 59, tzinfo=timezone.get_default_timezone())


def audit_entry(action: str, obj: models.Model) -> AuditLog:
    return AuditLog.objects.get(action=action, object_id=str(obj.pk))


def assert_levels_dated(movements: list[StockMovement], moment: datetime) -> None:
    """Each level the movements changed has a history row of that moment, and its
    updated_at is the moment."""
    for movement in movements:
        for level_id in (movement.from_level_id, movement.to_level_id):
            if level_id is None:
                continue
            level = StockLevel.objects.get(pk=level_id)
            assert level.updated_at == moment
            # its history row of this move (by id: earlier postings may be dated later)
            assert level.history.order_by("-history_id")[0].history_date == moment


def test_a_receipt_at_a_moment_is_stamped_with_it(north: Depot, head_office: User) -> None:
    moment = new_years_eve()
    cyl = Product.objects.get(code="12.7KG")
    movement = stock_receive(depot=north, product=cyl, quantity=5, actor=head_office, at=moment)
    movement.refresh_from_db()
    assert movement.created_at == moment
    assert audit_entry("stock_receive", movement).created_at == moment
    assert_levels_dated([movement], moment)
    assert audit_chain_check().intact


def test_a_count_at_a_moment_is_stamped_with_it(north: Depot, head_office: User) -> None:
    moment = new_years_eve()
    cyl = Product.objects.get(code="12.7KG")
    movement = stock_adjust(
        product=cyl,
        state="FULL",
        counted=7,
        reason="count",
        actor=head_office,
        depot=north,
        at=moment,
    )
    movement.refresh_from_db()
    assert movement.created_at == moment
    assert audit_entry("stock_adjust", movement).created_at == moment
    assert_levels_dated([movement], moment)


def test_a_distribution_at_new_years_eve_is_numbered_and_dated_in_that_year(
    north: Depot, head_office: User, sales_rep: User
) -> None:
    moment = new_years_eve()
    cyl = Product.objects.get(code="12.7KG")
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    distribution = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=4,
        kind="COLLECTION",
        actor=head_office,
        at=moment,
    )
    distribution.refresh_from_db()
    assert distribution.created_at == moment
    assert distribution.distribution_no == f"DST-{moment.year}-000001"
    assert distribution.history.get().history_date == moment
    ledger = list(
        StockMovement.objects.filter(doc_type="stock.distribution", doc_id=distribution.pk)
    )
    assert [row.created_at for row in ledger] == [moment]
    assert_levels_dated(ledger, moment)
    assert audit_entry("distribution_create", distribution).created_at == moment
    assert audit_chain_check().intact
    # The moment is not left on the instance: a later save is dated by the clock.
    assert not hasattr(distribution, "_history_date")


def test_without_at_a_distribution_is_stamped_now(
    north: Depot, head_office: User, sales_rep: User
) -> None:
    cyl = Product.objects.get(code="12.7KG")
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    before = timezone.now()
    distribution = distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=1,
        kind="COLLECTION",
        actor=head_office,
    )
    assert before <= distribution.created_at <= timezone.now()
    stamps = {
        distribution.created_at,
        distribution.history.get().history_date,
        audit_entry("distribution_create", distribution).created_at,
        *StockMovement.objects.filter(
            doc_id=distribution.pk, doc_type="stock.distribution"
        ).values_list("created_at", flat=True),
    }
    assert stamps == {distribution.created_at}  # one moment, read once


def test_a_naive_moment_is_refused(north: Depot, head_office: User) -> None:
    cyl = Product.objects.get(code="12.7KG")
    with pytest.raises(TypeError, match="timezone-aware"):
        stock_receive(
            depot=north,
            product=cyl,
            quantity=1,
            actor=head_office,
            at=datetime.now() - timedelta(days=1),  # noqa: DTZ005 - naive on purpose
        )
    assert not StockMovement.objects.exists()
    assert not Distribution.objects.exists()


def test_the_ledger_migration_changes_django_state_only() -> None:
    """created_at went from auto_now_add to a default: no SQL (the ledger is big)."""
    migration = import_module("stock.migrations.0010_created_at_set_by_postings").Migration
    for operation in migration.operations:
        assert isinstance(operation, migrations.SeparateDatabaseAndState)
        assert operation.database_operations == []
