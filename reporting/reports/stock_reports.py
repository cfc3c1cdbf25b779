"""Stock reports: position, ledger with balances, vehicle reconciliation."""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from reporting.catalogue import Column, Report, register
from reporting.links import report_url
from sales.models import CylinderReturn, Transaction
from stock.models import Distribution, MovementKind, StockLevel, StockMovement, StockState


def _levels(f):
    levels = StockLevel.objects.all()
    if f.depot_ids is not None:
        levels = levels.filter(depot_id__in=f.depot_ids)
    if f.depot is not None:
        levels = levels.filter(depot=f.depot)
    if f.sales_rep is not None:
        levels = levels.filter(sales_rep=f.sales_rep)
    if f.product is not None:
        levels = levels.filter(product=f.product)
    return levels


def movement_moment():
    """When a movement happened: its document's occurred_at where the document is one a
    handheld may sync late (a sale, a load sheet or empty return, a cylinder return; one
    row by primary key through doc_type and doc_id), else its posting (a void, a count, a
    transfer: made in the office). Never after the posting, and, as occurred_moment
    refuses older documents, at most SYNC_MAX_AGE_DAYS before it."""
    documents = (
        (MovementKind.SALE, Transaction),
        (MovementKind.COLLECTION, Distribution),
        (MovementKind.EMPTY_RETURN, Distribution),
        (MovementKind.CUSTOMER_RETURN, CylinderReturn),
    )
    return Coalesce(
        Case(
            *(
                When(
                    kind=kind,
                    doc_type=model._meta.label_lower,
                    then=Subquery(
                        model.objects.filter(pk=OuterRef("doc_id")).values("occurred_at")[:1]
                    ),
                )
                for kind, model in documents
            ),
            default=F("created_at"),
        ),
        F("created_at"),
    )


def happened_within(moves, start, end):
    """`moves` that happened in [start, end) (either bound None: open), as `happened`.
    The posting bounds it (happened <= created_at <= happened + SYNC_MAX_AGE_DAYS), so
    the created_at indexes still narrow the scan before each row's document is read."""
    moves = moves.alias(happened=movement_moment())
    if start:
        moves = moves.filter(created_at__gte=start, happened__gte=start)
    if end:
        lag = timedelta(days=settings.SYNC_MAX_AGE_DAYS)
        moves = moves.filter(created_at__lt=end + lag, happened__lt=end)
    return moves


def _balances_happened_before(level_ids, moment):
    """{level id: quantity} from the movements that happened before `moment`: those
    posted before it, and those posted after it that happened before it (synced late)."""
    balances = _balances_before(level_ids, moment)
    if moment is not None:
        late = happened_within(StockMovement.objects.filter(created_at__gte=moment), None, moment)
        for level_id, total in _sums(late, level_ids).items():
            balances[level_id] += total
    return balances


def _sums(moves, level_ids):
    """{level id: quantity in - quantity out} over `moves`."""
    balances = defaultdict(int)
    for side, sign in (("to_level", 1), ("from_level", -1)):
        for level_id, total in (
            moves.filter(**{f"{side}_id__in": level_ids})
            .values_list(side)
            .annotate(t=Sum("quantity"))
            .order_by()
        ):
            balances[level_id] += sign * total
    return balances


def _balances_before(level_ids, moment):
    """{level id: quantity} as the ledger stood just before `moment`."""
    if moment is None:
        return defaultdict(int)
    return _sums(StockMovement.objects.filter(created_at__lt=moment), level_ids)


def _rep_of(location: str) -> str | None:
    """The representative's username in a location ("vehicle V1 (northrep)")."""
    if location.startswith("vehicle ") and location.endswith(")"):
        return location.rsplit("(", 1)[1][:-1]
    return None


LEDGER_KINDS = (
    ("OPENING", "Opening balance"),
    ("CLOSING", "Closing balance"),
    *MovementKind.choices,
)


def _location(level):
    if level.sales_rep_id is None:
        return f"depot {level.depot.code}"
    return f"vehicle {level.sales_rep.vehicle_no} ({level.sales_rep.username})"


@register
class StockPosition(Report):
    slug = "stock-position"
    filters_used = ("date_to", "depot", "sales_rep", "product")  # as at the end of date_to
    title = "Stock position"
    description = (
        "Full and empty cylinders at each depot and on each vehicle (now, or at the end "
        "of 'Date to')."
    )
    columns = (
        Column("depot", "Depot"),
        Column("location", "Location"),
        Column("product", "Product"),
        Column("full", "Full", total=True),
        Column("empty", "Empty", total=True),
    )
    chart = {"x": "depot", "series": ["full", "empty"], "kind": "bar", "title": "Stock by depot"}

    def drill(self, row, f):
        """The location's movements of the product in the stock ledger."""
        return report_url(
            "stock-ledger",
            depot=row["depot"],
            sales_rep=_rep_of(row["location"]),
            product=row["product"],
            date_to=f.date_to.isoformat() if f.date_to else None,
        )

    def rows(self, f):
        levels = list(
            _levels(f)
            .select_related("depot", "sales_rep", "product")
            # The depot's own stock first, then its vehicles (on every database).
            .order_by(
                "depot__code", F("sales_rep__username").asc(nulls_first=True), "product__sort_order"
            )
        )
        as_of = _balances_before([lv.pk for lv in levels], f.end) if f.end else None
        table = {}
        for level in levels:
            key = (level.depot.code, _location(level), level.product.code)
            cell = table.setdefault(key, {"FULL": 0, "EMPTY": 0})
            cell[level.state] += as_of[level.pk] if as_of is not None else level.quantity
        for (depot, location, product), cell in table.items():
            yield depot, location, product, cell["FULL"], cell["EMPTY"]


@register
class StockLedger(Report):
    slug = "stock-ledger"
    filters_used = ("date_from", "date_to", "depot", "sales_rep", "product")
    title = "Stock ledger"
    description = (
        "Every movement per location, product and state, in the order it was posted, with "
        "the opening balance, a running balance and the closing balance; beside each, when "
        "it happened (a document synced late from a handheld happened before it was posted)."
    )
    columns = (
        Column("location", "Location"),
        Column("product", "Product"),
        Column("state", "State", choices=tuple(StockState.choices)),
        Column("date", "Posted"),
        Column("kind", "Movement", choices=LEDGER_KINDS),
        Column("reference", "Reference", link="document"),
        Column("quantity_in", "In", total=True),
        Column("quantity_out", "Out", total=True),
        Column("balance", "Balance"),
        # A document synced late from a handheld happened before it was posted.
        Column("happened", "Happened"),
    )

    def drill(self, row, f):
        """The location's stock of the product (at the row's day), beside the document
        each movement's reference opens."""
        place = row["location"]
        return report_url(
            "stock-position",
            depot=place.split(" ", 1)[1] if place.startswith("depot ") else None,
            sales_rep=_rep_of(place),
            product=row["product"],
            date_to=row["date"].isoformat() if row["date"] else None,
        )

    def _movements(self, f, level_ids):
        movements = StockMovement.objects.filter(
            Q(from_level_id__in=level_ids) | Q(to_level_id__in=level_ids)
        )
        if f.start:
            movements = movements.filter(created_at__gte=f.start)
        if f.end:
            movements = movements.filter(created_at__lt=f.end)
        return movements

    def estimate(self, f):
        levels = list(_levels(f).values_list("pk", flat=True))
        return self._movements(f, levels).count() + 2 * len(levels)

    def rows(self, f):
        levels = {lv.pk: lv for lv in _levels(f).select_related("depot", "sales_rep", "product")}
        opening = _balances_before(list(levels), f.start)
        ordered = sorted(
            levels.values(), key=lambda lv: (_location(lv), lv.product.sort_order, lv.state)
        )
        for level in ordered:  # one level's movements at a time: memory stays flat
            balance = opening[level.pk]
            place, code = _location(level), level.product.code
            yield place, code, level.state, f.date_from, "OPENING", "", None, None, balance, None
            moves = (
                self._movements(f, [level.pk])
                .annotate(happened=movement_moment())
                .order_by("created_at", "id")
            )
            for m in moves.iterator(chunk_size=5000):
                direction = 1 if m.to_level_id == level.pk else -1
                balance += direction * m.quantity
                yield (
                    place,
                    code,
                    level.state,
                    timezone.localtime(m.created_at).date(),
                    m.kind,
                    m.reference or m.note,
                    m.quantity if direction > 0 else None,
                    m.quantity if direction < 0 else None,
                    balance,
                    timezone.localtime(m.happened).date(),
                )
            yield place, code, level.state, f.date_to, "CLOSING", "", None, None, balance, None


@register
class VehicleReconciliation(Report):
    slug = "vehicle-reconciliation"
    filters_used = ("date_from", "date_to", "depot", "sales_rep", "product")
    title = "Vehicle reconciliation"
    description = (
        "Per representative per day and product: opening + collected - sold - returned = "
        "closing, for full and empty cylinders (empties received: with sales and cylinder "
        "returns), on the day each document happened (a sale synced late is on the day it "
        "was made). Voids, stock counts and write-offs show as a difference, flagged CHECK."
    )
    columns = (
        Column("date", "Date"),
        Column("sales_rep", "Representative"),
        Column("vehicle", "Vehicle"),
        Column("product", "Product"),
        Column("state", "State", choices=tuple(StockState.choices)),
        Column("opening", "Opening"),
        Column("collected", "Collected / received"),
        Column("sold", "Sold", total=True),
        Column("returned", "Returned", total=True),
        Column("closing", "Closing"),
        Column("difference", "Difference", total=True),
        Column("flag", "Check"),
    )
    in_time = True

    def drill(self, row, f):
        """The vehicle's movements of the product that day in the stock ledger."""
        day = row["date"].isoformat()
        return report_url(
            "stock-ledger",
            sales_rep=row["sales_rep"],
            product=row["product"],
            date_from=day,
            date_to=day,
        )

    def estimate(self, f):
        ids = list(_levels(f).filter(sales_rep__isnull=False).values_list("pk", flat=True))
        moves = StockMovement.objects.filter(Q(from_level_id__in=ids) | Q(to_level_id__in=ids))
        if f.start:
            moves = moves.filter(created_at__gte=f.start)
        if f.end:
            moves = moves.filter(created_at__lt=f.end)
        return moves.count()  # about: by posting, not worth reading each document

    def rows(self, f):
        levels = {
            lv.pk: lv
            for lv in _levels(f)
            .filter(sales_rep__isnull=False)
            .select_related("sales_rep", "product")
        }
        ids = list(levels)
        # By the day each movement happened: a sale synced late is the day's it was made.
        moves = happened_within(
            StockMovement.objects.filter(Q(from_level_id__in=ids) | Q(to_level_id__in=ids)),
            f.start,
            f.end,
        )
        day = TruncDate("happened")
        days = defaultdict(lambda: defaultdict(int))  # (level, day) -> kind/direction -> qty
        for side, sign in (("to_level", 1), ("from_level", -1)):
            grouped = (
                moves.filter(**{f"{side}_id__in": ids})
                .annotate(day=day)
                .values(side, "day", "kind")
                .annotate(q=Sum("quantity"))
                .order_by()
            )
            for row in grouped:
                days[(row[side], row["day"])][(row["kind"], sign)] += row["q"]
        opening = _balances_happened_before(ids, f.start)
        balance = dict(opening)
        # Balances run forwards in time; the rows are listed newest day first.
        out = []
        for level_id, date in sorted(
            days,
            key=lambda k: (
                k[1],
                levels[k[0]].sales_rep.username,
                levels[k[0]].product.sort_order,
                levels[k[0]].state,
            ),
        ):
            level, cell = levels[level_id], days[(level_id, date)]
            start = balance.get(level_id, 0)
            if level.state == "FULL":
                collected = cell[(MovementKind.COLLECTION, 1)]
                sold = cell[(MovementKind.SALE, -1)]
                returned = 0
            else:
                # empties received from customers: with a sale, or collected without one
                collected = cell[(MovementKind.SALE, 1)] + cell[(MovementKind.CUSTOMER_RETURN, 1)]
                sold = 0
                returned = cell[(MovementKind.EMPTY_RETURN, -1)]
            closing = start + sum(q * sign for (_, sign), q in cell.items())
            balance[level_id] = closing
            difference = closing - (start + collected - sold - returned)
            out.append(
                (
                    date,
                    level.sales_rep.username,
                    level.sales_rep.vehicle_no,
                    level.product.code,
                    level.state,
                    start,
                    collected,
                    sold,
                    returned,
                    closing,
                    difference,
                    "CHECK" if difference else "",
                )
            )
        yield from sorted(out, key=lambda r: r[0], reverse=True)  # stable within a day
