"""Report filters from the URL: parsed, validated and limited to what the user may see.

The common filters are date_from, date_to, depot, sales_rep, customer, product and
payment_type; each report uses some of them (its catalogue entry says which) plus its own
(group_by, period). A bad value, or a filter the report does not use, is an error that
names the filter; the web layer turns it into a 400.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from core.dates import date_problem
from core.models import Depot, Role, User
from core.scoping import ALL, visible_depot_ids
from sales.models import Customer, PaymentType
from stock.models import Product

COMMON = ("date_from", "date_to", "depot", "sales_rep", "customer", "product", "payment_type")
MAX_SPAN_DAYS = 3660
# A report option's values in words, as its form lists them ("Representative").
OPTION_WORDS = {
    "sales_rep": "representative",
    "month": "month",
    "day": "day",
    "depot": "depot",
    "product": "product",
    "customer": "customer",
}


def option_word(value: str) -> str:
    """A report option's value in words ("representative" for sales_rep)."""
    return OPTION_WORDS.get(value, value.replace("_", " "))


class FilterError(Exception):
    """errors: {filter name: message}."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Filters:
    user: User
    date_from: date | None = None
    date_to: date | None = None
    depot: Depot | None = None
    sales_rep: User | None = None
    customer: Customer | None = None
    product: Product | None = None
    payment_type: str | None = None
    options: dict = field(default_factory=dict)  # report-specific: group_by, period
    # Depots the user may see (None: all). Every report limits its rows to these.
    depot_ids: list | None = None

    @property
    def start(self) -> datetime | None:
        """date_from as the first moment of that day in the business time zone."""
        if self.date_from is None:
            return None
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime | None:
        """The moment after date_to (exclusive upper bound)."""
        if self.date_to is None:
            return None
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def as_query(self) -> dict:
        """The filters as URL parameters (codes, not ids), e.g. to store in an export job."""
        query = {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "depot": self.depot.code if self.depot else None,
            "sales_rep": self.sales_rep.username if self.sales_rep else None,
            "customer": self.customer.code if self.customer else None,
            "product": self.product.code if self.product else None,
            "payment_type": self.payment_type,
            **self.options,
        }
        return {k: v for k, v in query.items() if v not in (None, "")}


EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _date(value, name, errors):
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = date_problem(value) or f"Enter a date as YYYY-MM-DD; got {value!r}."
        return None
    if not EARLIEST <= day <= LATEST:
        errors[name] = f"Enter a date between {EARLIEST} and {LATEST}; got {value}."
        return None
    return day


def parse_filters(
    params, user, *, options: dict | None = None, uses=None, report: str = "This report"
) -> Filters:
    """Build Filters from a QueryDict or dict; raise FilterError naming each bad filter.

    `options` maps a report's own filter names to their allowed values and default,
    e.g. {"group_by": (("depot", "sales_rep", "product"), "depot")}. `uses` names the
    common filters the report follows (None: all); another one given a value is refused.
    `format`, `page` and `async` pass: whether they mean something is the caller's call.
    """
    get = params.get
    errors = {}
    depot_ids = visible_depot_ids(user)
    if user.role == Role.SALES and not user.is_superuser:
        raise FilterError({"user": "Reports are for head office and depot managers."})
    filters = Filters(user=user, depot_ids=None if depot_ids is ALL else list(depot_ids))

    known = set(COMMON) | set(options or {}) | {"format", "page", "async"}
    unknown = sorted(k for k in params if k not in known)
    for name in unknown:
        errors[name] = "Unknown filter."
    for name in params:
        value = get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = f"Give the filter as text; got {value!r}."
        elif value and ("\x00" in value or len(value) > 100):
            errors[name] = "Not a valid value."
    if uses is not None:
        used = [name for name in COMMON if name in uses]
        its = f"its filters: {', '.join(used)}" if used else "it takes no filters"
        for name in COMMON:
            if name not in used and get(name) not in (None, ""):
                errors[name] = f"{report} does not filter by {name} ({its})."
    if errors:
        raise FilterError(errors)

    if get("date_from"):
        filters.date_from = _date(get("date_from"), "date_from", errors)
    if get("date_to"):
        filters.date_to = _date(get("date_to"), "date_to", errors)
    if filters.date_from and filters.date_to:
        if filters.date_from > filters.date_to:
            errors["date_to"] = "'Date to' is before 'Date from'."
        elif (filters.date_to - filters.date_from).days > MAX_SPAN_DAYS:
            errors["date_to"] = "Ask for at most ten years at a time."

    if get("depot"):
        depot = Depot.objects.filter(code=get("depot")).first()
        if depot is None:
            errors["depot"] = f"No depot {get('depot')!r}."
        elif filters.depot_ids is not None and depot.pk not in filters.depot_ids:
            errors["depot"] = f"You do not work for depot {depot.code}."
        else:
            filters.depot = depot
    if get("sales_rep"):
        rep = User.objects.filter(username=get("sales_rep"), role=Role.SALES).first()
        rep_depots = set(rep.depots.values_list("pk", flat=True)) if rep else set()
        if rep is None:
            errors["sales_rep"] = f"No sales representative {get('sales_rep')!r}."
        elif filters.depot_ids is not None and not rep_depots & set(filters.depot_ids):
            errors["sales_rep"] = f"{rep.username} does not work in your depots."
        else:
            filters.sales_rep = rep
    if get("customer"):
        customer = Customer.objects.filter(code=get("customer")).first()
        if customer is None:
            errors["customer"] = f"No customer {get('customer')!r}."
        elif filters.depot_ids is not None and customer.depot_id not in filters.depot_ids:
            errors["customer"] = f"Customer {customer.code} is not in your depots."
        else:
            filters.customer = customer
    if get("product"):
        filters.product = Product.objects.filter(code=get("product")).first()
        if filters.product is None:
            errors["product"] = f"No product {get('product')!r}."
    if get("payment_type"):
        if get("payment_type") not in PaymentType.values:
            errors["payment_type"] = (
                f"Use {' or '.join(map(str, PaymentType.labels))}; got {get('payment_type')!r}."
            )
        else:
            filters.payment_type = get("payment_type")

    for name, (allowed, default) in (options or {}).items():
        value = get(name) or default
        if value not in allowed:
            words = ", ".join(option_word(a).capitalize() for a in allowed)
            errors[name] = f"Use one of {words}; got {value!r}."
        filters.options[name] = value

    if errors:
        raise FilterError(errors)
    return filters
