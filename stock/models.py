from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.append_only import AppendOnlyModel
from core.history import tracked


class ProductKind(models.TextChoices):
    CYLINDER = "CYLINDER", "Cylinder"
    METERED = "METERED", "Metered (bulk tank)"
    SERVICE = "SERVICE", "Service (never stocked)"


class Product(models.Model):
    """A cylinder type, bulk LPG sold by meter reading, or a service (installation, a
    delivery charge): priced and taxed, never stocked."""

    code = models.CharField(max_length=20, unique=True, help_text="e.g. 12.7KG, BULK.")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ProductKind.choices)
    capacity_kg = models.DecimalField(
        "capacity (kg)",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Gas in one full cylinder. Empty for metered products.",
    )
    unit = models.CharField(
        max_length=12, default="cylinder", help_text="What one unit sold is: cylinder, kg."
    )
    list_price = models.DecimalField(
        "list price",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The price for a customer without a contract rate for this product "
        "(a walk-in cash customer). Empty: only customers with a rate can buy it.",
    )
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField("active", default=True)

    history = tracked()

    class Meta:
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    # isnull=False: a CHECK on NULL > 0 would pass (NULL is not false).
                    Q(kind=ProductKind.CYLINDER, capacity_kg__isnull=False, capacity_kg__gt=0)
                    | Q(kind=ProductKind.METERED, capacity_kg__isnull=True)
                    | Q(kind=ProductKind.SERVICE, capacity_kg__isnull=True)
                ),
                name="stock_product_capacity_matches_kind",
                violation_error_message=(
                    "A cylinder needs a capacity above zero; a metered product or a "
                    "service has none."
                ),
            ),
            models.CheckConstraint(
                condition=Q(list_price__isnull=True) | Q(list_price__gte=0),
                name="stock_product_list_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_cylinder(self) -> bool:
        return self.kind == ProductKind.CYLINDER


class StockState(models.TextChoices):
    FULL = "FULL", "Full"
    EMPTY = "EMPTY", "Empty"


class MovementKind(models.TextChoices):
    RECEIPT = "RECEIPT", "Receipt"
    COLLECTION = "COLLECTION", "Collection"
    EMPTY_RETURN = "EMPTY_RETURN", "Empty return"
    SALE = "SALE", "Sale"
    VOID = "VOID", "Void"
    ADJUSTMENT = "ADJUSTMENT", "Adjustment (stock count)"
    PLANT_DISPATCH = "PLANT_DISPATCH", "Plant dispatch (empties to the filling plant)"
    TRANSFER = "TRANSFER", "Transfer between depots"
    CUSTOMER_RETURN = "CUSTOMER_RETURN", "Customer return (empties collected)"
    WRITE_OFF = "WRITE_OFF", "Write-off (damaged, lost or condemned)"


class StockLevel(models.Model):
    """The balance of one product in one state at one location: a depot (sales_rep empty)
    or a sales representative's vehicle (sales_rep set; depot is their home depot).

    A cache of the ledger, only ever changed by stock.services in the same transaction
    as the StockMovement that explains the change.
    """

    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    sales_rep = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vehicle_stock",
        verbose_name="vehicle of",
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=5, choices=StockState.choices)
    quantity = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    history = tracked(excluded_fields=["updated_at"])

    depot_scope = "depot"

    class Meta:
        ordering = ["depot__code", "sales_rep__username", "product__sort_order", "state"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0),
                name="stock_level_quantity_not_negative",
                violation_error_message="A stock level cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["depot", "product", "state"],
                condition=Q(sales_rep__isnull=True),
                name="stock_level_one_per_depot_product_state",
            ),
            models.UniqueConstraint(
                fields=["sales_rep", "product", "state"],
                condition=Q(sales_rep__isnull=False),
                name="stock_level_one_per_vehicle_product_state",
            ),
        ]
        permissions = [
            ("receive_stock", "Can record stock received at a depot"),
            ("count_stock", "Can record a stock count (adjustment)"),
            ("dispatch_empties", "Can dispatch empties to the filling plant"),
            ("write_off_stock", "Can write off damaged, lost or condemned cylinders"),
        ]

    def __str__(self) -> str:
        name = self.product.name or self.product.code
        if self.product.is_cylinder:
            name = name.replace(" cylinder", " cylinders", 1)
        return f"{StockState(self.state).label} {name} at {self.location_label}"

    @property
    def location_label(self) -> str:
        rep = self.sales_rep
        if rep is None:
            return f"depot {self.depot.code}"
        vehicle = rep.vehicle_no or "no vehicle"
        return f"vehicle {vehicle} ({rep.username})"


class StockMovement(AppendOnlyModel):
    """The append-only stock ledger. A movement takes `quantity` of one product in one
    state out of `from_level` and/or into `to_level`; replaying every movement gives every
    stock level. A stock count that matched records a zero adjustment."""

    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=5, choices=StockState.choices)
    quantity = models.PositiveIntegerField()
    from_level = models.ForeignKey(
        StockLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_level = models.ForeignKey(
        StockLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised from the levels, for depot scoping and reports without joins.
    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    sales_rep = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    # The posting's moment, set by the service (stock.services.ledger): the same as its
    # document's created_at and audit entry (not auto_now_add, which reads the clock).
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The document that caused the movement ("stock.distribution", 42, "DST-2026-000042").
    doc_type = models.CharField(max_length=50, blank=True)
    doc_id = models.BigIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=255, blank=True)

    depot_scope = "depot"

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["depot", "created_at"]),
            models.Index(fields=["sales_rep", "created_at"]),
            models.Index(fields=["product", "created_at"]),
            models.Index(fields=["doc_type", "doc_id"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["reference"]),  # the changelist's search
            models.Index(fields=["kind", "-id"], name="stock_move_kind_id"),  # its filter
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0) | Q(kind=MovementKind.ADJUSTMENT),
                name="stock_movement_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(from_level__isnull=False) | Q(to_level__isnull=False),
                name="stock_movement_has_a_side",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()}: {self.quantity} "
            f"{StockState(self.state).label.lower()} {self.product.name}"
        )


class DistributionKind(models.TextChoices):
    """What a distribution moves, and which way: the service posts it and the admin's
    preview describes it from these two properties alone."""

    COLLECTION = "COLLECTION", "Collection"
    EMPTY_RETURN = "EMPTY_RETURN", "Empty return"

    @property
    def state(self) -> str:
        """Full cylinders are collected; empties are returned."""
        return StockState.FULL if self is DistributionKind.COLLECTION else StockState.EMPTY

    @property
    def to_vehicle(self) -> bool:
        """True: depot -> vehicle (a collection); False: vehicle -> depot."""
        return self is DistributionKind.COLLECTION


class Distribution(models.Model):
    """A representative's load sheet (full cylinders from their depot onto the vehicle)
    or return of empties: DST-YYYY-NNNNNN, one line per product (lines)."""

    distribution_no = models.CharField("number", max_length=20, unique=True)
    kind = models.CharField(max_length=12, choices=DistributionKind.choices)
    sales_rep = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, related_name="distributions"
    )
    depot = models.ForeignKey("core.Depot", on_delete=models.PROTECT, related_name="+")
    # The product of a one-line distribution (None when it has several: see lines);
    # quantity is always the cylinders of all its lines.
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    # Set by the service to the moment its number's year comes from (not auto_now_add,
    # which would read the clock again, possibly in the next year).
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # When it happened on the handheld (offline capture; the posting's moment when posted
    # live). Never changes: not in history.
    occurred_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # The poster's Idempotency-Key and a fingerprint of the request, kept for good: a
    # retry with the key gets this document back; another request with it is refused.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True, default="", db_default="")

    history = tracked(excluded_fields=["occurred_at"])

    depot_scope = "depot"

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="stock_distribution_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="stock_distribution_one_per_user_key"
            ),
        ]

    def __str__(self) -> str:
        return self.distribution_no


# Transfers, count sheets, distribution lines, reorder levels: in their own module (size).
from stock.custody_models import DistributionLine as DistributionLine  # noqa: E402
from stock.custody_models import ReorderLevel as ReorderLevel  # noqa: E402
from stock.custody_models import StockCount as StockCount  # noqa: E402
from stock.custody_models import StockCountLine as StockCountLine  # noqa: E402
from stock.custody_models import Transfer as Transfer  # noqa: E402
from stock.custody_models import TransferLine as TransferLine  # noqa: E402
from stock.custody_models import WriteOffCause as WriteOffCause  # noqa: E402
