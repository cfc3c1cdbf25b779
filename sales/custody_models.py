"""Customers' cylinders and deposits: deposit rates, cylinders held and their ledger,
cylinder returns (in their own module for sales/models.py's size; sales.models imports
it, so Django registers them in the sales app). DESIGN.md "Money and tax" gives the
rules; sales.services.custody changes them."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.append_only import AppendOnlyModel
from sales.amounts import MONEY


class DepositRate(AppendOnlyModel):
    """One version of the deposit charged per cylinder of a product, in force from
    effective_from until a later version's. Never edited (sales.services.deposit_set).
    Deposits are money held for the customer: not revenue, never taxed."""

    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY, help_text="Deposit per cylinder.")
    effective_from = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["product", "-effective_from", "-id"]
        indexes = [models.Index(fields=["product", "effective_from", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="sales_depositrate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        from core.display import amount, moment

        return f"{self.product.name}: {amount(self.amount)} from {moment(self.effective_from)}"


class CylinderHolding(models.Model):
    """How many cylinders of a product a customer has at their site, and the deposit they
    paid for them. A cache of the holding ledger (HoldingEntry), only ever changed by
    sales.services in the same transaction as the entry that explains the change, with
    the customer's row locked first."""

    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="holdings"
    )
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(default=0)
    deposit_held = models.DecimalField(**MONEY, default=Decimal("0"))
    last_movement_at = models.DateTimeField(null=True, blank=True)

    depot_scope = "customer__depot"

    class Meta:
        ordering = ["customer__code", "product__sort_order", "product__code"]
        verbose_name = "cylinders held"
        verbose_name_plural = "cylinders held"
        permissions = [("adjust_holding", "Can set a customer's cylinders held (a count)")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product"], name="sales_holding_one_per_customer_product"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="sales_holding_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(deposit_held__gte=0), name="sales_holding_deposit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        from core.display import quantity

        return f"{self.customer.code} \u2013 {self.product.name}: {quantity(self.quantity)} held"


class HoldingKind(models.TextChoices):
    SALE = "SALE", "Sale"
    RETURN = "RETURN", "Cylinder return"
    VOID = "VOID", "Void"
    ADJUSTMENT = "ADJUSTMENT", "Count adjustment"
    OPENING = "OPENING", "Opening balance"


class RefundTo(models.TextChoices):
    """Where a deposit refund went (blank: no refund; a charge is in its sale's total)."""

    NONE = "", "-"
    ACCOUNT = "ACCOUNT", "Credited to the account"
    CASH = "CASH", "Paid out in cash"


class HoldingEntry(AppendOnlyModel):
    """The append-only holding ledger: replaying a customer's entries gives their
    holdings (quantity) and deposit held (deposit). `deposit` is + when charged, - when
    refunded; refund_to says where a refund (or its reversal by a void) went: ACCOUNT
    entries are part of customer_balance, CASH entries of the representative's cash-up."""

    holding = models.ForeignKey(CylinderHolding, on_delete=models.PROTECT, related_name="entries")
    customer = models.ForeignKey("sales.Customer", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=HoldingKind.choices)
    quantity = models.IntegerField(help_text="Cylinders added (+) or taken back (-).")
    deposit = models.DecimalField(**MONEY, default=Decimal("0"))
    refund_to = models.CharField(max_length=7, choices=RefundTo.choices, blank=True, default="")
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    doc_type = models.CharField(max_length=50, blank=True)
    doc_id = models.BigIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=255, blank=True)

    depot_scope = "customer__depot"

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "holding entries"
        indexes = [
            models.Index(fields=["holding", "id"]),
            models.Index(fields=["customer", "created_at"]),
            models.Index(fields=["doc_type", "doc_id"]),
            models.Index(
                fields=["customer", "created_at"],
                condition=Q(refund_to="ACCOUNT"),
                name="sales_holding_account_refund",
            ),
            models.Index(
                fields=["sales_rep", "created_at"],
                condition=Q(refund_to="CASH"),
                name="sales_holding_cash_refund",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} {self.product.name}"


class CylinderReturn(models.Model):
    """Empties taken back from a customer without a sale: RET-YYYY-NNNNNN. They go onto
    the representative's vehicle; the deposit paid on them is refunded (refund_to)."""

    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="cylinder_returns"
    )
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cylinder_returns"
    )
    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    refund_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    refund_to = models.CharField(max_length=7, choices=RefundTo.choices, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # When it happened on the handheld (see Transaction.occurred_at).
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="", db_default="")

    depot_scope = "depot"

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer", "created_at"]),
            models.Index(fields=["occurred_at"], name="sales_return_occurred"),
            models.Index(fields=["customer", "occurred_at"], name="sales_return_cust_occurred"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0), name="sales_return_refund_not_negative"
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="sales_return_one_per_user_key"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class CylinderReturnLine(AppendOnlyModel):
    cylinder_return = models.ForeignKey(
        CylinderReturn, on_delete=models.PROTECT, related_name="lines"
    )
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    refund = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="sales_retline_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["cylinder_return", "product"], name="sales_retline_one_per_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product.name}"
