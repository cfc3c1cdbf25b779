"""Money documents of a sale's life after posting: payments (their receipts), their
allocations to credit sales, and the credit notes voids issue. Defined here (sales.models
re-exports them) to keep each module small; they belong to the sales app."""

from decimal import Decimal
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.append_only import AppendOnlyModel
from core.history import tracked
from sales.amounts import MONEY


class CreditNote(AppendOnlyModel):
    """The credit note a void issues: it reverses the whole sale (`amount` is the sale's
    total). Numbered CN-YYYY-NNNNNN, gapless per year; never changed or removed."""

    number = models.CharField(max_length=20, unique=True)
    transaction = models.OneToOneField(
        "sales.Transaction", on_delete=models.PROTECT, related_name="credit_note"
    )
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Set by sale_void to the void's moment (the number's year is that moment's).
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    depot_scope = "transaction__depot"

    class Meta:
        app_label = "sales"
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_at"], name="sales_cn_created_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="sales_creditnote_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentMethod(models.TextChoices):
    CASH = "CASH", "Cash"
    CHEQUE = "CHEQUE", "Cheque"
    BANK = "BANK", "Bank transfer"
    CARD = "CARD", "Card"


class PaymentQuerySet(models.QuerySet["Payment"]):
    """The one definition of which payments count: a reversed payment stays on file but
    pays nothing, and has no money on account."""

    def in_force(self) -> Self:
        """Payments not reversed: what counts against a customer's balance."""
        return self.filter(reversed_at__isnull=True)

    def with_money_on_account(self) -> Self:
        """Payments in force with money not yet settling a sale (Payment.unallocated)."""
        return self.in_force().filter(allocated__lt=models.F("amount"))


class Payment(models.Model):
    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    allocated = models.DecimalField(**MONEY, default=Decimal("0"))
    method = models.CharField(max_length=6, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=100, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The day the money came (on or before created_at); never changes: not in history.
    received_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)  # see Transaction
    # When it was recorded on the handheld (see Transaction.occurred_at); not in history.
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="", db_default="")
    # A reversal (a bounced cheque, a mistaken entry): the payment stays, its allocations
    # are reversed by new rows, and it never settles anything again.
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversal_reason = models.CharField(max_length=255, blank=True)

    objects = PaymentQuerySet.as_manager()
    history = tracked(excluded_fields=["received_on", "occurred_at"])

    depot_scope = "depot"

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer", "created_at"]),
            models.Index(fields=["occurred_at"], name="sales_payment_occurred"),
            models.Index(fields=["customer", "occurred_at"], name="sales_payment_cust_occurred"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="sales_payment_positive"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=models.F("amount")),
                name="sales_payment_allocated_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(reversed_at__isnull=True)
                | (Q(allocated=0) & Q(reversed_by__isnull=False) & ~Q(reversal_reason="")),
                name="sales_payment_reversal_complete",
                violation_error_message="A reversed payment settles nothing and says who "
                "reversed it and why.",
            ),
            models.UniqueConstraint(
                fields=["received_by", "idempotency_key"], name="sales_payment_one_per_user_key"
            ),
        ]
        permissions = [("reverse_payment", "Can reverse a payment")]

    def __str__(self) -> str:
        return self.number

    @property
    def unallocated(self) -> Decimal:
        """Money on account: received, not reversed, and not yet settling a sale (the
        same rule as PaymentQuerySet.with_money_on_account)."""
        return Decimal("0") if self.is_reversed else self.amount - self.allocated

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None


class PaymentAllocation(AppendOnlyModel):
    """Money on account applied to a credit sale: a payment's, or (payment empty) the
    customer's deposit refunds credited to the account (sales.services.common.settle).
    Append-only: when a sale is voided, a payment reversed or a refund taken back, its
    allocations are released by a negative allocation, never deleted."""

    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        related_name="allocations",
        null=True,
        blank=True,
        help_text="Empty: the deposit refunds credited to the customer's account.",
    )
    transaction = models.ForeignKey(
        "sales.Transaction", on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField(**MONEY)
    # Set by the posting that settles or releases the money (default now).
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        source = self.payment_id or "deposit credit"
        return f"{source} -> {self.transaction_id}: {self.amount}"
