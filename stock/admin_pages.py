"""What the page of a posted stock document shows, in words: its lines (product, full or
empty, cylinders; for a count sheet what the system held, what was counted and the
variance), the movements it posted, and the documents around it (the representative's
other documents of the day, its audit entry). The template is
templates/admin/stock/document_change_form.html; every value goes through core.display.

Each page reads a fixed number of queries, whatever the number of lines."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.admin_history import HistoryPanel
from core.display import day, moment, quantity
from stock.models import (
    Distribution,
    DistributionKind,
    DistributionLine,
    StockCount,
    StockMovement,
    StockState,
    Transfer,
)


@dataclass(frozen=True)
class Cell:
    """One value of a table; `url` makes it a link, `num` aligns it right."""

    text: str
    url: str = ""
    num: bool = False


@dataclass
class Panel:
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    foot: list[Cell] = field(default_factory=list)
    empty: str = "None."
    slug: str = "lines"

    @property
    def heads(self) -> list[tuple[str, bool]]:
        """Each header, and whether its column holds numbers (aligned right)."""
        sample = self.rows[0] if self.rows else self.foot
        return [
            (header, i < len(sample) and sample[i].num) for i, header in enumerate(self.headers)
        ]


def num(value) -> Cell:
    return Cell(quantity(value), num=True)


def signed(value: int) -> Cell:
    """A variance as a clerk reads it: +3, -2, 0 (grouped)."""
    text = quantity(abs(value))
    return Cell(f"+{text}" if value > 0 else f"-{text}" if value < 0 else "0", num=True)


def product_cell(product) -> Cell:
    return Cell(f"{product.code} · {product.name}" if product.name else product.code)


def admin_url(name: str, *args) -> str:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def vehicle_words(rep) -> str:
    return f"vehicle {rep.vehicle_no or 'without a number'} ({rep.get_full_name() or rep.username})"


# --- The movements a document posted --------------------------------------------------


def movements_panel(document) -> Panel:
    rows = (
        StockMovement.objects.filter(doc_type=document._meta.label_lower, doc_id=document.pk)
        .select_related(
            "product",
            "from_level__depot",
            "from_level__sales_rep",
            "to_level__depot",
            "to_level__sales_rep",
        )
        .order_by("id")
    )
    return Panel(
        title="Stock movements it posted",
        headers=["When", "Movement", "Product", "Full or empty", "Cylinders", "From", "To"],
        rows=[
            [
                Cell(moment(m.created_at)),
                Cell(m.get_kind_display()),
                Cell(m.product.code),
                Cell(StockState(m.state).label),
                num(m.quantity),
                Cell(m.from_level.location_label if m.from_level_id else "-"),
                Cell(m.to_level.location_label if m.to_level_id else "-"),
            ]
            for m in rows
        ],
        empty="None: every count matched, or nothing moved.",
        slug="movements",
    )


def audit_link(number: str) -> Cell:
    url = admin_url("core_auditlog_changelist")
    return Cell("Its audit log entry", f"{url}?q={number}" if url else "")


# --- Distribution (load sheet, empty return) -------------------------------------------


def distribution_what(obj: Distribution) -> str:
    rep, depot = obj.sales_rep, obj.depot.code
    if obj.kind == DistributionKind.COLLECTION:
        return f"Load sheet: full cylinders from depot {depot} onto the {vehicle_words(rep)}."
    return f"Empty return: empty cylinders from the {vehicle_words(rep)} back to depot {depot}."


def distribution_panels(obj: Distribution) -> list[Panel]:
    lines = list(
        DistributionLine.objects.filter(distribution=obj).select_related("product").order_by("id")
    )
    full = obj.kind == DistributionKind.COLLECTION
    rows = [
        [
            product_cell(line.product),
            num(line.quantity) if full else Cell("-", num=True),
            Cell("-", num=True) if full else num(line.quantity),
        ]
        for line in lines
    ]
    total = sum(line.quantity for line in lines)
    panel = Panel(
        title=f"{obj.get_kind_display()}: the cylinders on this document",
        headers=["Product", "Full", "Empty"],
        rows=rows,
        foot=[
            Cell("Total"),
            num(total) if full else Cell("-", num=True),
            Cell("-", num=True) if full else num(total),
        ],
        empty="No lines.",
    )
    return [panel, movements_panel(obj), distribution_related(obj)]


def _same_day(moment_at):
    start = timezone.localtime(moment_at).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def distribution_related(obj: Distribution) -> Panel:
    """The representative's other distributions and count sheets of the same day, and the
    document's audit entry."""
    start, end = _same_day(obj.occurred_at)
    others = (
        Distribution.objects.filter(
            sales_rep_id=obj.sales_rep_id, occurred_at__gte=start, occurred_at__lt=end
        )
        .exclude(pk=obj.pk)
        .order_by("occurred_at", "id")[:20]
    )
    counts = StockCount.objects.filter(
        sales_rep_id=obj.sales_rep_id, created_at__gte=start, created_at__lt=end
    ).order_by("created_at", "id")[:5]
    rows = [
        [
            Cell(d.distribution_no, admin_url("stock_distribution_change", d.pk)),
            Cell(d.get_kind_display()),
            Cell(moment(d.occurred_at)),
            num(d.quantity),
        ]
        for d in others
    ]
    rows += [
        [
            Cell(c.number, admin_url("stock_stockcount_change", c.pk)),
            Cell("Count sheet of the vehicle"),
            Cell(moment(c.created_at)),
            Cell("", num=True),
        ]
        for c in counts
    ]
    return Panel(
        title=f"Related documents: {obj.sales_rep.username} on {day(obj.occurred_at)}",
        headers=["Document", "What", "When", "Cylinders"],
        rows=rows,
        foot=[audit_link(obj.distribution_no), Cell(""), Cell(""), Cell("")],
        empty="No other load sheet, empty return or count sheet that day.",
        slug="related",
    )


# --- Transfer ---------------------------------------------------------------------------


def transfer_what(obj: Transfer) -> str:
    state = StockState(obj.state).label.lower()
    route = f"from depot {obj.from_depot.code} to depot {obj.to_depot.code}"
    return f"{state.capitalize()} cylinders {route}."


def transfer_panels(obj: Transfer) -> list[Panel]:
    lines = list(obj.lines.all())  # prefetched with their products
    full = obj.state == StockState.FULL
    total = sum(line.quantity for line in lines)
    return [
        Panel(
            title="The cylinders transferred",
            headers=["Product", "Full", "Empty"],
            rows=[
                [
                    product_cell(line.product),
                    num(line.quantity) if full else Cell("-", num=True),
                    Cell("-", num=True) if full else num(line.quantity),
                ]
                for line in lines
            ],
            foot=[
                Cell("Total"),
                num(total) if full else Cell("-", num=True),
                Cell("-", num=True) if full else num(total),
            ],
            empty="No lines.",
        ),
        movements_panel(obj),
        Panel(
            title="Related documents",
            headers=["Document", "What"],
            rows=[
                [
                    Cell(f"Stock at depot {obj.to_depot.code}", _levels_url(obj.to_depot_id)),
                    Cell("Where the cylinders are now"),
                ],
            ],
            foot=[audit_link(obj.number), Cell("")],
            slug="related",
        ),
    ]


def _levels_url(depot_id) -> str:
    url = admin_url("stock_stocklevel_changelist")
    return f"{url}?depot__id__exact={depot_id}" if url else ""


# --- Count sheet ------------------------------------------------------------------------


def count_place(obj: StockCount) -> str:
    if obj.sales_rep_id:
        return f"the {vehicle_words(obj.sales_rep)}"
    return f"depot {obj.depot.code}"


def count_panels(obj: StockCount) -> list[Panel]:
    lines = list(obj.lines.all())  # prefetched with their products
    rows = [
        [
            product_cell(line.product),
            Cell(StockState(line.state).label),
            num(line.system_quantity),
            num(line.counted),
            signed(line.difference),
        ]
        for line in lines
    ]
    return [
        Panel(
            title="The count, against what the system held when it was posted",
            headers=["Product", "Full or empty", "System held", "Counted", "Variance"],
            rows=rows,
            foot=[
                Cell("Total"),
                Cell(""),
                num(sum(line.system_quantity for line in lines)),
                num(sum(line.counted for line in lines)),
                signed(sum(line.difference for line in lines)),
            ],
            empty="No lines.",
        ),
        movements_panel(obj),
        Panel(
            title="Related documents",
            headers=["Document", "What"],
            rows=_count_related(obj),
            foot=[audit_link(obj.number), Cell("")],
            slug="related",
        ),
    ]


def _count_related(obj: StockCount) -> list[list[Cell]]:
    if not obj.sales_rep_id:
        return [[Cell(f"Stock at depot {obj.depot.code}", _levels_url(obj.depot_id)), Cell("Now")]]
    start, end = _same_day(obj.created_at)
    found = Distribution.objects.filter(
        sales_rep_id=obj.sales_rep_id, occurred_at__gte=start, occurred_at__lt=end
    ).order_by("occurred_at", "id")[:20]
    return [
        [
            Cell(d.distribution_no, admin_url("stock_distribution_change", d.pk)),
            Cell(f"{d.get_kind_display()}, {moment(d.occurred_at)}"),
        ]
        for d in found
    ]


# --- A version's own lines (history pages) ----------------------------------------------


def lines_as_posted(title: str, lines) -> HistoryPanel:
    """A document's lines on its history pages: append-only, written with the document,
    so they are the version's own (never today's edit of them: there is none)."""
    return HistoryPanel(
        title=title,
        headers=["Product", "Cylinders"],
        rows=[[product_cell(line.product).text, quantity(line.quantity)] for line in lines],
        empty="No lines.",
    )
