"""Sales tax: tax rate versions (sales.TaxRate, append-only), and each sale's net, tax
rate and tax (Transaction.net_amount, tax_rate, tax_amount).

Sales posted before this migration had no tax: tax_rate 0, tax_amount 0, net = total.
The sales table is large (millions of rows) and live, so it is never rewritten in one
statement under a lock:

- tax_rate and tax_amount are added with a constant database default of 0. PostgreSQL
  (11+) adds such a column by a catalogue change only: no row is rewritten, the old rows
  read the default. They are NOT NULL from the start.
- net_amount is added nullable (also a catalogue change), then filled by `net_backfill`
  in batches of BATCH sales by primary-key range, each batch its own short transaction
  (the migration is not atomic), so a batch locks a few thousand rows for a moment and
  postings go on meanwhile. New sales are posted with their net, so the backfill never
  chases them. If the migration stops half-way, running `migrate` again goes on where it
  stopped (only rows still without a net are written). sales_transaction has no
  append-only trigger (posted sales are read-only by the services, voids change status),
  so the UPDATE is allowed.
- The history table keeps its old rows as they were (it is append-only, by trigger): a
  history row written before this migration has no net_amount (null), and tax 0 by the
  column default. That is why net_amount stays nullable in the model: on sales it is
  never null after this migration (sale_post writes it).

Tax rate versions get the same append-only triggers as rate versions (PostgreSQL only);
head office may view and add them, managers view them.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models, transaction

from core.append_only import protect
from core.roles import Role, grant, revoke

BATCH = 10_000

PERMISSIONS = [
    (Role.ADMIN, "sales", "taxrate", ["view", "add"]),
    (Role.MANAGER, "sales", "taxrate", ["view"]),
]


def net_backfill(apps, schema_editor, *, batch: int = BATCH) -> int:
    """net_amount = total_amount - tax_amount on every sale without a net, in batches of
    `batch` ids, each in its own transaction. Returns the rows written."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM sales_transaction WHERE net_amount IS NULL")
        last = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(id) FROM sales_transaction WHERE net_amount IS NULL")
        first = cursor.fetchone()[0]
    if last is None:
        return 0
    written = 0
    start = first - 1
    while start < last:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sales_transaction SET net_amount = total_amount - tax_amount "
                "WHERE id > %s AND id <= %s AND net_amount IS NULL",
                [start, start + batch],
            )
            written += cursor.rowcount
        start += batch
    return written


def grant_permissions(apps, schema_editor):
    with transaction.atomic(using=schema_editor.connection.alias):
        for role, app_label, model, actions in PERMISSIONS:
            grant(apps, role, app_label, model, actions)


def revoke_permissions(apps, schema_editor):
    with transaction.atomic(using=schema_editor.connection.alias):
        for role, app_label, model, actions in PERMISSIONS:
            revoke(apps, role, app_label, model, actions)


def _money(**kwargs):
    return models.DecimalField(decimal_places=2, max_digits=14, **kwargs)


def _tax_fields(model_name: str) -> list[migrations.AddField]:
    return [
        migrations.AddField(
            model_name=model_name,
            name="net_amount",
            field=_money(blank=True, null=True),
        ),
        migrations.AddField(
            model_name=model_name,
            name="tax_rate",
            field=models.DecimalField(db_default=0, decimal_places=2, default=0, max_digits=5),
        ),
        migrations.AddField(
            model_name=model_name,
            name="tax_amount",
            field=_money(db_default=0, default=0),
        ),
    ]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sales", "0010_created_at_set_by_services"),
        ("core", "0007_append_only_triggers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TaxRate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "rate",
                    models.DecimalField(
                        decimal_places=2, help_text="Percent, e.g. 17.50.", max_digits=5
                    ),
                ),
                ("effective_from", models.DateTimeField()),
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
            ],
            options={
                "ordering": ["-effective_from", "-id"],
                "abstract": False,
                "indexes": [
                    models.Index(
                        fields=["effective_from", "id"], name="sales_taxra_effecti_90b79c_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("rate__gte", 0), ("rate__lte", 100)),
                        name="sales_taxrate_percent",
                    )
                ],
            },
        ),
        protect("sales_taxrate"),
        migrations.RunPython(grant_permissions, revoke_permissions),
        *_tax_fields("transaction"),
        *_tax_fields("historicaltransaction"),
        migrations.RunPython(net_backfill, migrations.RunPython.noop, elidable=True),
    ]
