from decimal import Decimal
from typing import Self

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.append_only import AppendOnlyModel
from core.history import tracked
from sales.amounts import MONEY as MONEY
from sales.amounts import READING as READING
from sales.amounts import DecimalShape as DecimalShape


class PaymentType(models.TextChoices):
    CASH = "CASH", "Cash"
    CREDIT = "CREDIT", "Credit"


class Customer(models.Model):
    code = models.CharField(
        "account number", max_length=20, unique=True, help_text="e.g. C001; used by the API."
    )
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField("e-mail", blank=True)
    email_invoices = models.BooleanField(
        "e-mail documents",
        default=True,
        help_text="E-mail invoices, credit notes and receipts to the address above "
        "(nothing is sent while it is empty).",
    )
    depot = models.ForeignKey(
        "core.Depot",
        on_delete=models.PROTECT,
        related_name="customers",
        help_text="The depot whose area the customer is in.",
    )
    payment_type = models.CharField(
        max_length=6, choices=PaymentType.choices, default=PaymentType.CASH
    )
    credit_limit = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Most a credit customer may owe. Empty: no limit.",
    )
    last_meter_reading = models.DecimalField(
        **READING,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Bulk tank meter. Moves only when a meter sale is posted or voided.",
    )
    deposit_exempt = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The customer owns their cylinders: no deposit is charged or refunded.",
    )
    is_active = models.BooleanField("active", default=True)
    # Set by customer_create to the moment it opens the account (default now).
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = tracked()

    depot_scope = "depot"

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                name="sales_customer_credit_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(last_meter_reading__gte=0),
                name="sales_customer_meter_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def documents_by_email(self) -> bool:
        return bool(self.email) and self.email_invoices


class RateImport(models.Model):
    """One rate-table file imported (or one undo of such an import)."""

    file_name = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    undo_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="undone_by",
        help_text="Set on the batch that undid another import.",
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        kind = "Undo of import" if self.undo_of_id else "Rate import"
        return f"{kind} #{self.pk} ({self.file_name or 'no file'})"


class Rate(AppendOnlyModel):
    """One version of a customer's price for a product. Never edited: a change is a new
    version. `rate` empty means the product was withdrawn from the customer's contract."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="rates")
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    rate = models.DecimalField(**MONEY, null=True, blank=True)
    effective_from = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Set by rates_set to the moment the version is written (default now).
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    batch = models.ForeignKey(
        RateImport, null=True, blank=True, on_delete=models.PROTECT, related_name="rates"
    )

    history = tracked()

    depot_scope = "customer__depot"

    class Meta:
        ordering = ["customer", "product", "-effective_from", "-id"]
        indexes = [models.Index(fields=["customer", "product", "effective_from", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | Q(rate__gte=0),
                name="sales_rate_not_negative",
            ),
        ]

    def __str__(self) -> str:
        from core.display import amount, moment

        return (
            f"{self.customer.code} {self.product.name}: {amount(self.rate)} "
            f"from {moment(self.effective_from)}"
        )


class TransactionStatus(models.TextChoices):
    POSTED = "POSTED", "Posted"
    VOID = "VOID", "Void"


class TransactionQuerySet(models.QuerySet["Transaction"]):
    def unpaid_credit(self) -> Self:
        """Posted credit sales not yet fully paid: what payments settle, what the
        receivables age, what the admin's "Unpaid credit sales" filter lists. The one
        definition of an unpaid sale."""
        return self.filter(
            status=TransactionStatus.POSTED, payment_type=PaymentType.CREDIT, is_paid=False
        )


class Transaction(models.Model):
    """A posted sale. Read-only once posted; a void changes only status and void fields."""

    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="transactions")
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales"
    )
    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    payment_type = models.CharField(max_length=6, choices=PaymentType.choices)
    # Tax (DESIGN.md "Money and tax"): once per sale on its taxable subtotals, at the rate
    # in force when it was posted, kept with the sale for good. total = net + tax.
    # net_amount is null only on history rows of sales posted before tax existed.
    net_amount = models.DecimalField(**MONEY, null=True, blank=True)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0, db_default=0)
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0"), db_default=0)
    # Deposits charged on the cylinders the customer's holding grew by (not taxed):
    # total = net + tax + deposit_amount. deposit_refund: refunded on cylinders taken back
    # beyond those delivered, credited to the account or paid out in cash (not in total).
    deposit_amount = models.DecimalField(**MONEY, default=Decimal("0"), db_default=0)
    deposit_refund = models.DecimalField(**MONEY, default=Decimal("0"), db_default=0)
    total_amount = models.DecimalField(**MONEY)
    # Written once at posting, from the lines and the meter reading, so that reports by
    # period, depot and representative read one row per sale (never changed after).
    cylinders = models.PositiveIntegerField(default=0, help_text="Full cylinders sold.")
    metered = models.DecimalField(
        **READING, default=Decimal("0"), help_text="Bulk gas sold by meter reading."
    )
    amount_paid = models.DecimalField(**MONEY, default=Decimal("0"))
    is_paid = models.BooleanField("paid", default=False)
    status = models.CharField(
        max_length=6, choices=TransactionStatus.choices, default=TransactionStatus.POSTED
    )
    # The poster's Idempotency-Key and a fingerprint of what they asked for, kept with the
    # sale for good: a retry with the key gets this sale back, years later too; the same
    # key with another request is refused (core.idempotency).
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Set by the service to the moment its number's year comes from (not auto_now_add,
    # which would read the clock again, possibly in the next year).
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the sale happened on the handheld (offline capture; the posting's moment when
    # posted live): its rates, tax and deposits are those in force then, and reports and
    # statements date it by it. Never changes: not in history.
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)
    void_reason = models.CharField(max_length=255, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = TransactionQuerySet.as_manager()
    history = tracked(excluded_fields=["occurred_at"])

    depot_scope = "depot"

    class Meta:
        verbose_name = "sale"
        verbose_name_plural = "sales"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["created_at"]),
            models.Index(fields=["depot", "created_at"]),
            models.Index(fields=["sales_rep", "created_at"]),
            models.Index(fields=["customer", "created_at"]),
            # reports and statements date sales by when they happened
            models.Index(fields=["occurred_at"], name="sales_tx_occurred"),
            models.Index(fields=["depot", "occurred_at"], name="sales_tx_depot_occurred"),
            models.Index(fields=["sales_rep", "occurred_at"], name="sales_tx_rep_occurred"),
            models.Index(fields=["customer", "occurred_at"], name="sales_tx_customer_occurred"),
            # the changelist's status filter, newest first, without scanning every sale
            models.Index(fields=["status", "-id"], name="sales_tx_status_id"),
            models.Index(
                fields=["customer", "created_at", "id"],
                condition=Q(status="POSTED", payment_type="CREDIT", is_paid=False),
                name="sales_tx_unpaid_credit",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="sales_tx_total_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=models.F("total_amount")),
                name="sales_tx_paid_within_total",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="sales_tx_one_per_user_key"
            ),
        ]
        permissions = [("void_transaction", "Can void a posted sale")]

    def __str__(self) -> str:
        return self.number


class TransactionLine(AppendOnlyModel):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    empties_returned = models.PositiveIntegerField()
    rate = models.DecimalField(**MONEY)
    subtotal = models.DecimalField(**MONEY)
    # The deposit per cylinder in force at the sale, what the line charged on the
    # cylinders the holding grew by, and what it refunded on those it shrank by.
    deposit_rate = models.DecimalField(**MONEY, default=Decimal("0"), db_default=0)
    deposit = models.DecimalField(**MONEY, default=Decimal("0"), db_default=0)
    deposit_refund = models.DecimalField(**MONEY, default=Decimal("0"), db_default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_line_quantity_gt_0"),
            models.UniqueConstraint(
                fields=["transaction", "product"], name="sales_line_one_per_product"
            ),
        ]

    def __str__(self) -> str:
        from core.display import amount

        return f"{self.quantity} x {self.product.name} @ {amount(self.rate)}"


class MeterSale(AppendOnlyModel):
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="meter_sale"
    )
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    last_reading = models.DecimalField(**READING)
    latest_reading = models.DecimalField(**READING)
    quantity = models.DecimalField(**READING)
    rate = models.DecimalField(**MONEY)
    subtotal = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_reading__gt=models.F("last_reading")),
                name="sales_meter_reading_moves_up",
            ),
            models.CheckConstraint(
                condition=Q(quantity=models.F("latest_reading") - models.F("last_reading")),
                name="sales_meter_quantity_is_difference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_reading} -> {self.latest_reading}"


class RateTable(Customer):
    """The wide rate table (a customer per row) as its own admin screen."""

    class Meta:
        proxy = True
        verbose_name = "rate table"
        verbose_name_plural = "rate table"


# Payments, their allocations and credit notes: in their own module (size).
# Deposit rates, cylinders held and their ledger, cylinder returns: own module (size).
from sales.custody_models import CylinderHolding as CylinderHolding  # noqa: E402
from sales.custody_models import CylinderReturn as CylinderReturn  # noqa: E402
from sales.custody_models import CylinderReturnLine as CylinderReturnLine  # noqa: E402
from sales.custody_models import DepositRate as DepositRate  # noqa: E402
from sales.custody_models import HoldingEntry as HoldingEntry  # noqa: E402
from sales.custody_models import HoldingKind as HoldingKind  # noqa: E402
from sales.custody_models import RefundTo as RefundTo  # noqa: E402

# The representative's day: cash-ups and sync refusals, in their own module (size).
from sales.day_models import CashUp as CashUp  # noqa: E402
from sales.day_models import CashUpStatus as CashUpStatus  # noqa: E402
from sales.day_models import SyncDocumentType as SyncDocumentType  # noqa: E402
from sales.day_models import SyncRefusal as SyncRefusal  # noqa: E402
from sales.day_models import SyncRefusalStatus as SyncRefusalStatus  # noqa: E402
from sales.documents import CreditNote as CreditNote  # noqa: E402
from sales.documents import Payment as Payment  # noqa: E402
from sales.documents import PaymentAllocation as PaymentAllocation  # noqa: E402
from sales.documents import PaymentMethod as PaymentMethod  # noqa: E402
from sales.documents import PaymentQuerySet as PaymentQuerySet  # noqa: E402

# Tax rate versions: in their own module (size).
from sales.tax_models import TaxRate as TaxRate  # noqa: E402
