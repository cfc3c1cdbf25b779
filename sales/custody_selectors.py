"""Reads of customers' cylinders and deposits (re-exported by sales.selectors): deposits
in force, cylinders and deposit held. DESIGN.md "Money and tax" gives the rules."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from sales.models import Customer, CylinderHolding, DepositRate
from stock.models import Product

ZERO = Decimal("0.00")


def deposits_in_force(
    *, products: Iterable[Product], at: datetime | None = None
) -> dict[int, Decimal]:
    """The deposit per cylinder of each product in force at `at` (default now), in one
    query: {product id: amount}, 0 for a product without a version in force. The newest
    version whose effective_from is not after `at` wins; on a tie, the one created later."""
    at = at or timezone.now()
    ids = sorted({product.pk for product in products})
    found: dict[int, Decimal] = dict.fromkeys(ids, ZERO)
    if not ids:
        return found
    versions = (
        DepositRate.objects.filter(product_id__in=ids, effective_from__lte=at)
        .order_by("product_id", "-effective_from", "-id")
        .values_list("product_id", "amount")
    )
    seen: set[int] = set()
    for product_id, amount in versions:  # a handful of versions per product
        if product_id not in seen:
            seen.add(product_id)
            found[product_id] = amount
    return found


def deposit_in_force(*, product: Product, at: datetime | None = None) -> Decimal:
    """The deposit per cylinder of `product` at `at` (default now); 0 when none is."""
    return deposits_in_force(products=[product], at=at)[product.pk]


def cylinders_held(*, customer: Customer, product: Product) -> int:
    """How many cylinders of `product` the customer has at their site."""
    quantity = (
        CylinderHolding.objects.filter(customer=customer, product=product)
        .values_list("quantity", flat=True)
        .first()
    )
    return quantity or 0


def deposit_held(*, customer: Customer, product: Product | None = None) -> Decimal:
    """The deposit the customer paid for the cylinders they hold: of one product, or of
    all of them (product None)."""
    holdings = CylinderHolding.objects.filter(customer=customer)
    if product is not None:
        holdings = holdings.filter(product=product)
    total = holdings.aggregate(total=Sum("deposit_held"))["total"]
    return (total or ZERO).quantize(Decimal("0.01"))


def customer_holdings(*, customer: Customer) -> QuerySet[CylinderHolding]:
    """The customer's holdings with their products, in the products' order (a customer
    page, a statement)."""
    return (
        CylinderHolding.objects.filter(customer=customer)
        .select_related("product")
        .order_by("product__sort_order", "product__code")
    )
