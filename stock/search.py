"""What the admin header's search finds in stock (core.search): load sheets and empty
returns (distributions), transfers and count sheets, by number."""

from core import display
from core.search import document_kind
from stock.custody_models import StockCount, Transfer
from stock.models import Distribution


def _distribution(dist: Distribution) -> str:
    return (
        f"{dist.distribution_no} · {dist.get_kind_display()} · {dist.sales_rep} · "
        f"{display.quantity(dist.quantity)} cylinders · {display.day(dist.occurred_at)}"
    )


def _transfer(transfer: Transfer) -> str:
    return (
        f"{transfer.number} · {transfer.from_depot.name} to {transfer.to_depot.name} · "
        f"{transfer.get_state_display()} · {display.day(transfer.created_at)}"
    )


def _count(count: StockCount) -> str:
    where = f"vehicle of {count.sales_rep}" if count.sales_rep_id else count.depot.name
    return f"{count.number} · {where} · {display.day(count.created_at)}"


document_kind(
    order=50,
    title="Distributions (load sheets and empty returns)",
    model=Distribution,
    prefix="DST",
    number_field="distribution_no",
    describe=_distribution,
    select_related=("sales_rep",),
)
document_kind(
    order=70,
    title="Transfers",
    model=Transfer,
    prefix="TRF",
    describe=_transfer,
    select_related=("from_depot", "to_depot"),
)
document_kind(
    order=80,
    title="Count sheets",
    model=StockCount,
    prefix="CNT",
    describe=_count,
    select_related=("depot", "sales_rep"),
)
