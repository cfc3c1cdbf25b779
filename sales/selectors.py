"""Reads of sales data that services, admin, API and reports share."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils import timezone

from sales.custody_selectors import (
    customer_holdings as customer_holdings,
)
from sales.custody_selectors import (
    cylinders_held as cylinders_held,
)
from sales.custody_selectors import (
    deposit_held as deposit_held,
)
from sales.custody_selectors import (
    deposit_in_force as deposit_in_force,
)
from sales.custody_selectors import (
    deposits_in_force as deposits_in_force,
)
from sales.models import (
    Customer,
    HoldingEntry,
    Payment,
    PaymentType,
    Rate,
    RefundTo,
    TaxRate,
    Transaction,
    TransactionQuerySet,
    TransactionStatus,
)
from stock.models import Product

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def rate_version_in_force(
    *, customer: Customer, product: Product, at: datetime | None = None
) -> Rate | None:
    """The Rate version in force at `at` (default now), or None."""
    at = at or timezone.now()
    return (
        Rate.objects.filter(customer=customer, product=product, effective_from__lte=at)
        .order_by("-effective_from", "-id")
        .first()
    )


def rate_versions_in_force(
    *, customer: Customer, products: Iterable[Product], at: datetime | None = None
) -> dict[int, Rate]:
    """rate_version_in_force for several products in one query: {product id: version}
    (a product without one is left out; a withdrawn version has rate None)."""
    at = at or timezone.now()
    versions = Rate.objects.filter(
        customer=customer, product__in=[p.pk for p in products], effective_from__lte=at
    ).order_by("product_id", "-effective_from", "-id")
    found: dict[int, Rate] = {}
    for version in versions:  # a handful of price changes per product
        found.setdefault(version.product_id, version)
    return found


def tax_rate_in_force(*, at: datetime | None = None) -> Decimal:
    """The sales tax rate (percent) in force at `at` (default now): the newest version
    whose effective_from is not after `at` (on a tie, the one created later); 0 when
    none is."""
    rate = (
        TaxRate.objects.filter(effective_from__lte=at or timezone.now())
        .order_by("-effective_from", "-id")
        .values_list("rate", flat=True)
        .first()
    )
    return Decimal("0") if rate is None else rate


def rate_in_force(*, customer: Customer, product: Product, at: datetime | None = None) -> Decimal:
    """The customer's price for the product at `at` (default now).

    The newest version whose effective_from is not after `at` wins; on a tie, the one
    created later. No version, or a withdrawn one, means no contract rate: the product's
    list price applies; without one either, a refusal: never a zero price.
    """
    return rates_in_force(customer=customer, products=[product], at=at)[product.pk]


def rates_in_force(
    *,
    customer: Customer,
    products: Iterable[Product],
    at: datetime | None = None,
    fields: Mapping[int, str] | None = None,
) -> dict[int, Decimal]:
    """rate_in_force for several products: {product id: rate}. One query for the
    contract rates, and one more for the list prices of the products without one.

    A product with neither is refused with code no_rate, keyed by the field that named
    it: fields {product id: field} (e.g. lines[0].product), else "product".
    """
    at = at or timezone.now()
    products = list(products)
    versions = (
        Rate.objects.filter(
            customer=customer, product__in=[p.pk for p in products], effective_from__lte=at
        )
        .order_by("product_id", "-effective_from", "-id")
        .values_list("product_id", "rate")
    )
    found: dict[int, Decimal | None] = {}
    for product_id, rate in versions:  # a handful of price changes per product
        found.setdefault(product_id, rate)
    rates = {product_id: rate for product_id, rate in found.items() if rate is not None}
    without = [p.pk for p in products if p.pk not in rates]
    if without:  # read now, not from the instances given: the price as it is at posting
        listed = Product.objects.filter(pk__in=without, list_price__isnull=False)
        for product_id, price in listed.values_list("pk", "list_price"):
            if price is not None:  # (the filter's promise, for the type checker)
                rates[product_id] = price
    for product in products:
        if product.pk not in rates:
            refusal = ValidationError(
                f"No rate for {product.code} is in force for customer {customer.code} "
                f"({customer.name}), and {product.code} has no list price; set a rate "
                "or a list price before selling.",
                code="no_rate",
            )
            raise ValidationError({(fields or {}).get(product.pk, "product"): refusal})
    return rates


def current_rate_subquery(product: Product, at: datetime | None = None) -> Subquery:
    """Annotation: a customer's rate for `product` in force at `at` (None if none)."""
    return Subquery(
        Rate.objects.filter(
            customer=OuterRef("pk"),
            product=product,
            effective_from__lte=at or timezone.now(),
        )
        .order_by("-effective_from", "-id")
        .values("rate")[:1]
    )


def _total(queryset: QuerySet[Any], field: str) -> Coalesce:
    """The sum of `field` over a correlated queryset (0 when it has no rows)."""
    per_customer = queryset.order_by().values("customer").annotate(total=Sum(field))
    return Coalesce(
        Subquery(per_customer.values("total")[:1]),
        Value(Decimal("0")),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def balance_expression() -> CombinedExpression:
    """What a customer owes, as an expression over the customer row (OuterRef "pk"):
    posted credit sales less the payments received (reversed ones count back), less the
    deposit refunds credited to the account (a void of one counts back). The one
    definition of the balance: customer_balance and every list (API, admin) use it.

    Positive: the customer owes; negative: the customer has paid in advance.
    """
    customer = OuterRef("pk")
    sold = _total(
        Transaction.objects.filter(
            customer=customer, status=TransactionStatus.POSTED, payment_type=PaymentType.CREDIT
        ),
        "total_amount",
    )
    # Payments less reversed payments: a reversed payment counts back (it stays on file).
    paid = _total(Payment.objects.in_force().filter(customer=customer), "amount")
    # Holding entries' deposits credited to the account: a refund is negative, its void
    # positive (sales.services.holdings).
    refunded = _total(
        HoldingEntry.objects.filter(customer=customer, refund_to=RefundTo.ACCOUNT), "deposit"
    )
    return sold - paid + refunded


def customer_balance(*, customer: Customer) -> Decimal:
    """What the customer owes (see balance_expression), in one query."""
    balance = (
        customers_with_account(Customer.objects.filter(pk=customer.pk))
        .values_list("balance_value", flat=True)
        .get()
    )
    return Decimal(balance).quantize(Decimal("0.01"))


def _rate_annotation(product: Product) -> str:
    return f"rate_in_force_{product.pk}"


class CustomerAccount(TypedDict):
    """What customers_with_account annotates for certain (rates are per product)."""

    balance_value: Decimal


def customers_with_account(
    queryset: QuerySet[Customer], *, products: Iterable[Product] = (), at: datetime | None = None
) -> "QuerySet[WithAnnotations[Customer, CustomerAccount]]":
    """Customers with what a list of them shows, in the list's one query:
    `balance_value` (customer_balance's figure) and, for each of `products`, the rate in
    force at `at` (default now), read back with listed_rates()."""
    at = at or timezone.now()
    rates = {_rate_annotation(p): current_rate_subquery(p, at) for p in products}
    return queryset.annotate(balance_value=balance_expression()).annotate(**rates)


def listed_rates(customer: Customer, products: Iterable[Product]) -> dict[str, Decimal]:
    """{product code: price} of a customer from customers_with_account(products=...), as
    rate_in_force prices it: the contract rate in force (not withdrawn), else the
    product's list price (as the `products` given hold it); a product with neither is
    left out."""
    rates: dict[str, Decimal] = {}
    for product in products:
        rate = getattr(customer, _rate_annotation(product))
        if rate is None:
            rate = product.list_price
        if rate is not None:
            rates[product.code] = rate
    return rates


def unpaid_transactions(*, customer: Customer) -> TransactionQuerySet:
    """Posted credit sales not yet fully paid, oldest first (the order payments settle)."""
    return (
        Transaction.objects.unpaid_credit().filter(customer=customer).order_by("created_at", "id")
    )
