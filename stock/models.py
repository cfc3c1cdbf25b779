from django.db import models
from django.db.models import Q


class ProductKind(models.TextChoices):
    CYLINDER = "CYLINDER", "Cylinder"
    METERED = "METERED", "Metered (bulk tank)"


class Product(models.Model):
    """A cylinder type, or bulk LPG sold by meter reading."""

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
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    # isnull=False: a CHECK on NULL > 0 would pass (NULL is not false).
                    Q(kind=ProductKind.CYLINDER, capacity_kg__isnull=False, capacity_kg__gt=0)
                    | Q(kind=ProductKind.METERED, capacity_kg__isnull=True)
                ),
                name="stock_product_capacity_matches_kind",
                violation_error_message=(
                    "A cylinder needs a capacity above zero; a metered product has none."
                ),
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def is_cylinder(self) -> bool:
        return self.kind == ProductKind.CYLINDER
