"""billing's records: the statements issued to customers and the monthly statement runs.

A statement is not a document of its own money: its figures are read from sales' documents
(billing.services.statement_build). What is kept here is that a statement was issued, for
which period, with which opening and closing balance, and to whom it was e-mailed (the
outbox message names the CustomerStatement; its PDF is rendered again from the documents
when it is sent, and the documents of a past period never change).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.append_only import AppendOnlyModel
from sales.amounts import MONEY


class StatementRunStatus(models.TextChoices):
    QUEUED = "QUEUED", "Waiting for a worker"
    RUNNING = "RUNNING", "Running"
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed"


class StatementRun(models.Model):
    """The monthly statement run of one month: every credit customer's statement for that
    month, built and e-mailed in the background. One per month (`month` is unique): a run
    started again for the same month continues the same run and skips the customers it
    has already done (CustomerStatement is unique per run and customer)."""

    month = models.DateField(unique=True, help_text="The first day of the month it covers.")
    status = models.CharField(
        max_length=10, choices=StatementRunStatus.choices, default=StatementRunStatus.QUEUED
    )
    customers_total = models.PositiveIntegerField("customers", default=0)
    customers_done = models.PositiveIntegerField("statements built", default=0)
    emailed = models.PositiveIntegerField("e-mailed", default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who started it; empty when the schedule did.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField("last error", blank=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = "statement run"
        constraints = [
            models.CheckConstraint(
                condition=Q(customers_done__lte=models.F("customers_total")),
                name="billing_statementrun_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Statements of {self.month:%B %Y}"


class CustomerStatement(AppendOnlyModel):
    """A statement issued to a customer for a period: from the customer's page (printed or
    e-mailed) or by a monthly run. Written once, never changed."""

    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="statements"
    )
    date_from = models.DateField("from")
    date_to = models.DateField("to")
    opening_balance = models.DecimalField(**MONEY)
    closing_balance = models.DecimalField(**MONEY)
    run = models.ForeignKey(
        StatementRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statements",
        help_text="The monthly run that issued it; empty when issued from the customer's page.",
    )
    emailed_to = models.EmailField(
        "e-mailed to", blank=True, help_text="Empty: not e-mailed (no address, or paper)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = "customer statement"
        indexes = [models.Index(fields=["customer", "date_to"], name="billing_stmt_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer"],
                condition=Q(run__isnull=False),
                name="billing_statement_once_per_run",
            ),
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")),
                name="billing_statement_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.date_from:%d %b %Y} to {self.date_to:%d %b %Y})"

    @property
    def number(self) -> str:
        """The statement's reference on paper and in the outbox (ST- and its id)."""
        return f"ST-{self.pk:08d}"
