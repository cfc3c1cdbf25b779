"""The representative's day: the end-of-day cash-up (CU-) and the documents a handheld's
sync could not post, which wait for a manager (sync refusals). Defined here (sales.models
re-exports them) to keep sales.models small."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.history import tracked
from sales.amounts import MONEY


class CashUpStatus(models.TextChoices):
    POSTED = "POSTED", "Awaiting confirmation"
    CONFIRMED = "CONFIRMED", "Confirmed"


class CashUp(models.Model):
    """CU-YYYY-NNNNNN: the cash a representative hands in at the end of the day, against
    the cash the system expected since their previous cash-up (cash sales + cash payments
    they received - cash deposit refunds they paid out). The variance is counted -
    expected; a manager confirms it (with a note when it is over the tolerance)."""

    number = models.CharField(max_length=20, unique=True)
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cash_ups"
    )
    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    # The previous cash-up's created_at (None: the representative's first): the expected
    # cash covers what was posted after it, up to this one's created_at.
    period_start = models.DateTimeField(null=True, blank=True)
    cash_sales = models.DecimalField(**MONEY, default=Decimal("0"))
    cash_payments = models.DecimalField(**MONEY, default=Decimal("0"))
    cash_refunds = models.DecimalField(**MONEY, default=Decimal("0"))
    expected_cash = models.DecimalField(**MONEY)
    counted_cash = models.DecimalField(**MONEY)
    variance = models.DecimalField(**MONEY, help_text="Counted less expected: below 0 is short.")
    note = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=CashUpStatus.choices, default=CashUpStatus.POSTED
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="", db_default="")

    history = tracked()

    depot_scope = "depot"

    class Meta:
        ordering = ["-id"]
        verbose_name = "cash-up"
        indexes = [
            models.Index(fields=["sales_rep", "created_at"], name="sales_cashup_rep_created"),
            models.Index(fields=["depot", "created_at"], name="sales_cashup_depot_created"),
            models.Index(fields=["created_at"], name="sales_cashup_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(counted_cash__gte=0), name="sales_cashup_counted_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(variance=models.F("counted_cash") - models.F("expected_cash")),
                name="sales_cashup_variance_is_counted_less_expected",
            ),
            models.CheckConstraint(
                condition=Q(status="POSTED", confirmed_by__isnull=True, confirmed_at__isnull=True)
                | Q(status="CONFIRMED", confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="sales_cashup_confirmation_complete",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="sales_cashup_one_per_user_key"
            ),
        ]
        permissions = [("confirm_cashup", "Can confirm a representative's cash-up")]

    def __str__(self) -> str:
        return self.number


class SyncDocumentType(models.TextChoices):
    SALE = "sale", "Sale"
    PAYMENT = "payment", "Payment"
    DISTRIBUTION = "distribution", "Load sheet or empty return"
    RETURN = "return", "Cylinder return"


class SyncRefusalStatus(models.TextChoices):
    OPEN = "OPEN", "Needs a decision"
    REPOSTED = "REPOSTED", "Corrected and posted"
    DISMISSED = "DISMISSED", "Dismissed"


class SyncRefusal(models.Model):
    """A document a handheld's sync sent that was refused: kept as sent, with the reason,
    until a manager corrects and reposts it (as the representative) or dismisses it."""

    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sync_refusals"
    )
    depot = models.ForeignKey(
        "core.Depot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_id = models.CharField("client id", max_length=100)
    doc_type = models.CharField("document", max_length=12, choices=SyncDocumentType.choices)
    document = models.JSONField(help_text="The document as the handheld sent it.")
    error_code = models.CharField(max_length=60)
    error_message = models.TextField()
    error_fields = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(
        max_length=10, choices=SyncRefusalStatus.choices, default=SyncRefusalStatus.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=255, blank=True)
    reposted_number = models.CharField(max_length=20, blank=True)

    history = tracked()

    depot_scope = "depot"

    class Meta:
        ordering = ["-id"]
        verbose_name = "sync refusal"
        indexes = [
            models.Index(fields=["status", "-id"], name="sales_syncref_status_id"),
            models.Index(fields=["depot", "status"], name="sales_syncref_depot_status"),
            models.Index(fields=["sales_rep", "client_id"], name="sales_syncref_rep_client"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="OPEN", resolved_by__isnull=True)
                | (~Q(status="OPEN") & Q(resolved_by__isnull=False, resolved_at__isnull=False)),
                name="sales_syncref_resolution_complete",
            ),
        ]
        permissions = [("resolve_syncrefusal", "Can repost or dismiss a sync refusal")]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} {self.client_id}"
