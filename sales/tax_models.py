"""Tax rate versions (in their own module for sales/models.py's size; sales.models
imports it, so Django registers it in the sales app)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.append_only import AppendOnlyModel


class TaxRate(AppendOnlyModel):
    """One version of the sales tax percentage (settings.TAX_NAME), in force from
    effective_from until a later version's. Never edited: a change is a new version
    (sales.services.tax_rate_set)."""

    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 17.50.")
    effective_from = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-effective_from", "-id"]
        indexes = [models.Index(fields=["effective_from", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="sales_taxrate_percent"
            ),
        ]

    def __str__(self) -> str:
        from core.display import moment

        return f"{self.rate}% from {moment(self.effective_from)}"
