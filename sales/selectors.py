"""Reads of sales data that services, admin, API and reports share."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from sales.models import Customer, Payment, PaymentType, Rate, Transaction, TransactionStatus
from stock.models import Product


def rate_version_in_force(*, customer: Customer, product: Product, at: datetime | None = None):
    """The Rate version in force at `at` (default now), or None."""
    at = at or timezone.now()
    return (
        Rate.objects.filter(customer=customer, product=product, effective_from__lte=at)
        .order_by("-effective_from", "-id")
        .first()
    )


def rate_in_force(*, customer: Customer, product: Product, at: datetime | None = None) -> Decimal:
    """The customer's price for the product at `at` (default now).

    The newest version whose effective_from is not after `at` wins; on a tie, the one
    created later. No version, or a withdrawn one, is a refusal: never a zero price.
    """
    return rates_in_force(customer=customer, products=[product], at=at)[product.pk]


def rates_in_force(
    *, customer: Customer, products, at: datetime | None = None
) -> dict[int, Decimal]:
    """rate_in_force for several products in one query: {product id: rate}."""
    at = at or timezone.now()
    products = list(products)
    versions = (
        Rate.objects.filter(
            customer=customer, product__in=[p.pk for p in products], effective_from__lte=at
        )
        .order_by("product_id", "-effective_from", "-id")
        .values_list("product_id", "rate")
    )
    found = {}
    for product_id, rate in versions:  # a handful of price changes per product
        found.setdefault(product_id, rate)
    for product in products:
        if found.get(product.pk) is None:
            raise ValidationError(
                f"No rate for {product.code} is in force for customer {customer.code} "
                f"({customer.name}); set one before selling."
            )
    return found


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


def customer_balance(*, customer: Customer) -> Decimal:
    """What the customer owes: posted credit sales less every payment received.

    Positive: the customer owes; negative: the customer has paid in advance.
    """
    sold = Transaction.objects.filter(
        customer=customer, status=TransactionStatus.POSTED, payment_type=PaymentType.CREDIT
    ).aggregate(total=Sum("total_amount", default=Decimal("0")))["total"]
    paid = Payment.objects.filter(customer=customer).aggregate(
        total=Sum("amount", default=Decimal("0"))
    )["total"]
    return (sold - paid).quantize(Decimal("0.01"))


def unpaid_transactions(*, customer: Customer):
    """Posted credit sales not yet fully paid, oldest first (the order payments settle)."""
    return Transaction.objects.filter(
        customer=customer,
        status=TransactionStatus.POSTED,
        payment_type=PaymentType.CREDIT,
        is_paid=False,
    ).order_by("created_at", "id")
