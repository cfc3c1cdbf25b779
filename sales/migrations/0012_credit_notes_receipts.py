"""Credit notes, the payment's received_on, the customer's e-mail.

Legacy voids. Every void issues a credit note from now on, and an auditor expects the
same of the past: a VOID sale without a credit note would be a reversal with no document
behind it. So each sale voided before this migration gets its credit note here:

- numbered CN-YYYY-NNNNNN in the year of its void (voided_at in the business time zone),
  in voided_at order (then sale id), from 1 in each year, and the CN counter of each
  year is set to the last number issued, so the next void continues the series without
  a gap. No number that exists is changed: the CN series starts with this migration.
- dated with the void's moment, for the sale's total, with the void's reason and its
  author (a void recorded without one: the sale's creator; without a reason: "Voided
  before credit notes were issued").
- no audit entry: the void's own audit entry is the record of the decision; the credit
  note only documents it.

The sales table is large and voids are few: the voided sales are read through the status
index, in batches of BATCH rows, and their credit notes written in batches of the same
size. Payments' received_on is filled in batches too, with the day each payment was
recorded (created_at in the business time zone), then made NOT NULL. It is not in the
payment's history table (it never changes after recording).
"""

from datetime import datetime

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from core.append_only import protect
from core.roles import Role, grant, revoke

BATCH = 2000
SERIES = "CN"
LEGACY_REASON = "Voided before credit notes were issued"


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def credit_notes_for_legacy_voids(apps, schema_editor):
    Transaction = apps.get_model("sales", "Transaction")
    CreditNote = apps.get_model("sales", "CreditNote")
    DocumentCounter = apps.get_model("core", "DocumentCounter")
    last: dict[int, int] = {
        row.year: row.last_value for row in DocumentCounter.objects.filter(series=SERIES)
    }
    voided = (
        Transaction.objects.filter(status="VOID", credit_note__isnull=True)
        .order_by("voided_at", "id")
        .values_list(
            "id",
            "total_amount",
            "void_reason",
            "voided_by_id",
            "voided_at",
            "created_by_id",
            "created_at",
        )
    )
    batch = []
    for pk, total, reason, voided_by, voided_at, created_by, created_at in voided.iterator(
        chunk_size=BATCH
    ):
        moment = voided_at or created_at
        year = _local(moment).year
        last[year] = last.get(year, 0) + 1
        batch.append(
            CreditNote(
                number=f"{SERIES}-{year}-{last[year]:06d}",
                transaction_id=pk,
                amount=total,
                reason=(reason or "").strip() or LEGACY_REASON,
                created_by_id=voided_by or created_by,
                created_at=moment,
            )
        )
        if len(batch) >= BATCH:
            CreditNote.objects.bulk_create(batch)
            batch = []
    CreditNote.objects.bulk_create(batch)
    for year, value in last.items():
        DocumentCounter.objects.update_or_create(
            series=SERIES, year=year, defaults={"last_value": value}
        )


def counters_forget(apps, schema_editor):
    apps.get_model("core", "DocumentCounter").objects.filter(series=SERIES).delete()


def received_on_fill(apps, schema_editor):
    Payment = apps.get_model("sales", "Payment")
    start = 0
    while True:
        rows = list(
            Payment.objects.filter(pk__gt=start, received_on__isnull=True)
            .order_by("pk")
            .only("pk", "created_at")[:BATCH]
        )
        if not rows:
            return
        for payment in rows:
            payment.received_on = _local(payment.created_at).date()
        Payment.objects.bulk_update(rows, ["received_on"])
        start = rows[-1].pk


def grant_view(apps, schema_editor):
    for role in (Role.ADMIN, Role.MANAGER):
        grant(apps, role, "sales", "creditnote", ["view"])


def revoke_view(apps, schema_editor):
    for role in (Role.ADMIN, Role.MANAGER):
        revoke(apps, role, "sales", "creditnote", ["view"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0015_audit_anchor_record"),
        ("sales", "0011_tax"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="email",
            field=models.EmailField(blank=True, max_length=254, verbose_name="e-mail"),
        ),
        migrations.AddField(
            model_name="customer",
            name="email_invoices",
            field=models.BooleanField(
                default=True,
                help_text="E-mail invoices, credit notes and receipts to the address above "
                "(nothing is sent while it is empty).",
                verbose_name="e-mail documents",
            ),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="email",
            field=models.EmailField(blank=True, max_length=254, verbose_name="e-mail"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="email_invoices",
            field=models.BooleanField(
                default=True,
                help_text="E-mail invoices, credit notes and receipts to the address above "
                "(nothing is sent while it is empty).",
                verbose_name="e-mail documents",
            ),
        ),
        migrations.AddField(
            model_name="payment", name="received_on", field=models.DateField(null=True)
        ),
        migrations.RunPython(received_on_fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="payment", name="received_on", field=models.DateField()),
        migrations.CreateModel(
            name="CreditNote",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=20, unique=True)),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                ("reason", models.CharField(max_length=255)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "transaction",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="credit_note",
                        to="sales.transaction",
                    ),
                ),
            ],
            options={
                "ordering": ["-id"],
                "indexes": [models.Index(fields=["created_at"], name="sales_cn_created_at")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gte", 0)),
                        name="sales_creditnote_amount_not_negative",
                    )
                ],
            },
        ),
        protect("sales_creditnote"),
        migrations.RunPython(credit_notes_for_legacy_voids, counters_forget),
        migrations.RunPython(grant_view, revoke_view),
    ]
