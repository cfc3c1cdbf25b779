"""Stock documents with several lines (transfers, load-sheet lines, count sheets) and
reorder levels. In their own module for stock/models.py's size; stock.models imports
it, so Django registers them in the stock app."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.append_only import AppendOnlyModel
from core.history import tracked


class WriteOffCause(models.TextChoices):
    """Why cylinders left the books other than by a count: a loss reports show apart."""

    DAMAGED = "DAMAGED", "Damaged"
    LOST = "LOST", "Lost or stolen"
    CONDEMNED = "CONDEMNED", "Condemned (failed inspection)"


class DistributionLine(AppendOnlyModel):
    """One product of a distribution (a representative's load sheet or empty return)."""

    distribution = models.ForeignKey(
        "stock.Distribution", on_delete=models.PROTECT, related_name="lines"
    )
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="stock_distline_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["distribution", "product"], name="stock_distline_one_per_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product.name}"


class Transfer(models.Model):
    """Cylinders (all full or all empty) moved from one depot to another: TRF-YYYY-NNNNNN."""

    number = models.CharField(max_length=20, unique=True)
    from_depot = models.ForeignKey(
        "core.Depot", on_delete=models.PROTECT, related_name="+", verbose_name="from depot"
    )
    to_depot = models.ForeignKey(
        "core.Depot", on_delete=models.PROTECT, related_name="+", verbose_name="to depot"
    )
    state = models.CharField(max_length=5, choices=[("FULL", "Full"), ("EMPTY", "Empty")])
    reference = models.CharField(max_length=40, blank=True, help_text="e.g. the waybill number.")
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="", db_default="")

    history = tracked()

    depot_scope = "from_depot"

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_depot=models.F("to_depot")), name="stock_transfer_two_depots"
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="stock_transfer_one_per_user_key"
            ),
        ]
        permissions = [("transfer_stock", "Can transfer stock between depots")]

    def __str__(self) -> str:
        return self.number


class TransferLine(AppendOnlyModel):
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="stock_trfline_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["transfer", "product"], name="stock_trfline_one_per_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product.name}"


class StockCount(models.Model):
    """A count sheet of a depot or a vehicle (sales_rep set): CNT-YYYY-NNNNNN. Posting it
    writes one ADJUSTMENT per line whose count differs from the system's figure."""

    number = models.CharField(max_length=20, unique=True)
    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    sales_rep = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="vehicle of",
    )
    reason = models.CharField(max_length=255)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    depot_scope = "depot"

    class Meta:
        ordering = ["-id"]
        verbose_name = "count sheet"

    def __str__(self) -> str:
        return self.number


class StockCountLine(AppendOnlyModel):
    count = models.ForeignKey(StockCount, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=5, choices=[("FULL", "Full"), ("EMPTY", "Empty")])
    system_quantity = models.IntegerField(help_text="What the system held when posted.")
    counted = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["count", "product", "state"], name="stock_cntline_one_per_product_state"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.product.name} ({self.get_state_display().lower()}): "
            f"{self.system_quantity} -> {self.counted}"
        )

    @property
    def difference(self) -> int:
        return self.counted - self.system_quantity


class ReorderLevel(models.Model):
    """The minimum of full cylinders of a product a depot should hold. `alerted_at` is set
    when the depot's managers were told it went below, and cleared when it is back at or
    above: one e-mail per crossing, not one a day while it stays low."""

    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("stock.Product", on_delete=models.PROTECT, related_name="+")
    minimum_full = models.PositiveIntegerField("minimum full cylinders")
    alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    history = tracked(excluded_fields=["alerted_at"])

    depot_scope = "depot"

    class Meta:
        ordering = ["depot__code", "product__sort_order", "product__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["depot", "product"], name="stock_reorder_one_per_depot_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.depot.code} {self.product.name}: at least {self.minimum_full} full"
