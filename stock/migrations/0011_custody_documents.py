"""Cylinder custody, stock side: movement kinds for plant dispatches, transfers, customer
returns and write-offs; transfers (TRF-), count sheets (CNT-) and distribution lines
(a load sheet may carry several products); reorder levels; who may use them.

Each distribution posted before this migration carried one product: its line is written
here by one INSERT ... SELECT (distributions are thousands, not millions). The new
ledgers (lines) and history tables refuse UPDATE, DELETE and TRUNCATE like the others.
"""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from core.append_only import protect
from core.roles import Role, grant, revoke

PERMISSIONS = [
    (Role.ADMIN, "stock", "stocklevel", ["dispatch_empties", "write_off_stock"]),
    (Role.MANAGER, "stock", "stocklevel", ["dispatch_empties", "write_off_stock"]),
    (Role.ADMIN, "stock", "transfer", ["view", "transfer_stock"]),
    (Role.MANAGER, "stock", "transfer", ["view", "transfer_stock"]),
    (Role.ADMIN, "stock", "stockcount", ["view"]),
    (Role.MANAGER, "stock", "stockcount", ["view"]),
    (Role.ADMIN, "stock", "reorderlevel", ["view", "add", "change"]),
    (Role.MANAGER, "stock", "reorderlevel", ["view"]),
]


def grant_permissions(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)


def revoke_permissions(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)


LINES_FROM_DISTRIBUTIONS = """
INSERT INTO stock_distributionline (distribution_id, product_id, quantity)
SELECT id, product_id, quantity FROM stock_distribution
WHERE product_id IS NOT NULL ORDER BY id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0017_outbox_statement_kind"),
        ("stock", "0010_created_at_set_by_postings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="stocklevel",
            options={
                "ordering": ["depot__code", "sales_rep__username", "product__sort_order", "state"],
                "permissions": [
                    ("receive_stock", "Can record stock received at a depot"),
                    ("count_stock", "Can record a stock count (adjustment)"),
                    ("dispatch_empties", "Can dispatch empties to the filling plant"),
                    ("write_off_stock", "Can write off damaged, lost or condemned cylinders"),
                ],
            },
        ),
        migrations.AlterField(
            model_name="distribution",
            name="product",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="stock.product",
            ),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="kind",
            field=models.CharField(
                choices=[
                    ("RECEIPT", "Receipt"),
                    ("COLLECTION", "Collection"),
                    ("EMPTY_RETURN", "Empty return"),
                    ("SALE", "Sale"),
                    ("VOID", "Void"),
                    ("ADJUSTMENT", "Adjustment (stock count)"),
                    ("PLANT_DISPATCH", "Plant dispatch (empties to the filling plant)"),
                    ("TRANSFER", "Transfer between depots"),
                    ("CUSTOMER_RETURN", "Customer return (empties collected)"),
                    ("WRITE_OFF", "Write-off (damaged, lost or condemned)"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="HistoricalReorderLevel",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "minimum_full",
                    models.PositiveIntegerField(verbose_name="minimum full cylinders"),
                ),
                (
                    "updated_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "depot",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.depot",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="stock.product",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical reorder level",
                "verbose_name_plural": "historical reorder levels",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalTransfer",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(db_index=True, max_length=20)),
                (
                    "state",
                    models.CharField(choices=[("FULL", "Full"), ("EMPTY", "Empty")], max_length=5),
                ),
                (
                    "reference",
                    models.CharField(
                        blank=True, help_text="e.g. the waybill number.", max_length=40
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False
                    ),
                ),
                ("idempotency_key", models.CharField(blank=True, max_length=100, null=True)),
                (
                    "request_fingerprint",
                    models.CharField(blank=True, db_default="", default="", max_length=64),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "from_depot",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.depot",
                        verbose_name="from depot",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "to_depot",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.depot",
                        verbose_name="to depot",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical transfer",
                "verbose_name_plural": "historical transfers",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="StockCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=20, unique=True)),
                ("reason", models.CharField(max_length=255)),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False
                    ),
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
                    "depot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.depot",
                    ),
                ),
                (
                    "sales_rep",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="vehicle of",
                    ),
                ),
            ],
            options={
                "verbose_name": "count sheet",
                "ordering": ["-id"],
            },
        ),
        migrations.CreateModel(
            name="Transfer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=20, unique=True)),
                (
                    "state",
                    models.CharField(choices=[("FULL", "Full"), ("EMPTY", "Empty")], max_length=5),
                ),
                (
                    "reference",
                    models.CharField(
                        blank=True, help_text="e.g. the waybill number.", max_length=40
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False
                    ),
                ),
                ("idempotency_key", models.CharField(blank=True, max_length=100, null=True)),
                (
                    "request_fingerprint",
                    models.CharField(blank=True, db_default="", default="", max_length=64),
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
                    "from_depot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.depot",
                        verbose_name="from depot",
                    ),
                ),
                (
                    "to_depot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.depot",
                        verbose_name="to depot",
                    ),
                ),
            ],
            options={
                "ordering": ["-id"],
                "permissions": [("transfer_stock", "Can transfer stock between depots")],
            },
        ),
        migrations.CreateModel(
            name="TransferLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.PositiveIntegerField()),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stock.product",
                    ),
                ),
                (
                    "transfer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="stock.transfer",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.CreateModel(
            name="DistributionLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.PositiveIntegerField()),
                (
                    "distribution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="stock.distribution",
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stock.product",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("quantity__gt", 0)),
                        name="stock_distline_quantity_positive",
                    ),
                    models.UniqueConstraint(
                        fields=("distribution", "product"), name="stock_distline_one_per_product"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ReorderLevel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "minimum_full",
                    models.PositiveIntegerField(verbose_name="minimum full cylinders"),
                ),
                ("alerted_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "updated_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "depot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.depot",
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stock.product",
                    ),
                ),
            ],
            options={
                "ordering": ["depot__code", "product__sort_order", "product__code"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("depot", "product"), name="stock_reorder_one_per_depot_product"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StockCountLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "state",
                    models.CharField(choices=[("FULL", "Full"), ("EMPTY", "Empty")], max_length=5),
                ),
                (
                    "system_quantity",
                    models.IntegerField(help_text="What the system held when posted."),
                ),
                ("counted", models.PositiveIntegerField()),
                (
                    "count",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="stock.stockcount",
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="stock.product",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("count", "product", "state"),
                        name="stock_cntline_one_per_product_state",
                    )
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("from_depot", models.F("to_depot")), _negated=True),
                name="stock_transfer_two_depots",
            ),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.UniqueConstraint(
                fields=("created_by", "idempotency_key"), name="stock_transfer_one_per_user_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="transferline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0)), name="stock_trfline_quantity_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="transferline",
            constraint=models.UniqueConstraint(
                fields=("transfer", "product"), name="stock_trfline_one_per_product"
            ),
        ),
        migrations.RunSQL(LINES_FROM_DISTRIBUTIONS, migrations.RunSQL.noop),
        migrations.RunPython(grant_permissions, revoke_permissions),
        protect(
            "stock_distributionline",
            "stock_transferline",
            "stock_stockcountline",
            "stock_historicaltransfer",
            "stock_historicalreorderlevel",
        ),
    ]
