"""Cylinder custody, customer side: deposit rates, cylinders held and the holding
ledger, cylinder returns (RET-), deposit columns on sales and their lines, the
customer's deposit_exempt; who may use them. Existing sales and lines get zero deposits
(db_default: no table rewrite). Their cylinders are replayed into holdings by 0014.
"""

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.append_only import protect
from core.roles import Role, grant, revoke

PERMISSIONS = [
    (Role.ADMIN, "sales", "depositrate", ["view", "add"]),
    (Role.MANAGER, "sales", "depositrate", ["view"]),
    (Role.ADMIN, "sales", "cylinderholding", ["view", "adjust_holding"]),
    (Role.MANAGER, "sales", "cylinderholding", ["view"]),
    (Role.ADMIN, "sales", "holdingentry", ["view"]),
    (Role.MANAGER, "sales", "holdingentry", ["view"]),
    (Role.ADMIN, "sales", "cylinderreturn", ["view", "add"]),
    (Role.MANAGER, "sales", "cylinderreturn", ["view", "add"]),
]


def grant_permissions(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        grant(apps, role, app_label, model, actions)


def revoke_permissions(apps, schema_editor):
    for role, app_label, model, actions in PERMISSIONS:
        revoke(apps, role, app_label, model, actions)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0017_outbox_statement_kind"),
        ("sales", "0012_credit_notes_receipts"),
        ("stock", "0011_custody_documents"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="deposit_exempt",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="The customer owns their cylinders: no deposit is charged or refunded.",
            ),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="deposit_exempt",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="The customer owns their cylinders: no deposit is charged or refunded.",
            ),
        ),
        migrations.AddField(
            model_name="historicaltransaction",
            name="deposit_amount",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="historicaltransaction",
            name="deposit_refund",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="deposit_amount",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="deposit_refund",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="transactionline",
            name="deposit",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="transactionline",
            name="deposit_rate",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="transactionline",
            name="deposit_refund",
            field=models.DecimalField(
                db_default=0, decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.CreateModel(
            name="CylinderHolding",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.IntegerField(default=0)),
                (
                    "deposit_held",
                    models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=14),
                ),
                ("last_movement_at", models.DateTimeField(blank=True, null=True)),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="holdings",
                        to="sales.customer",
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
                "verbose_name": "cylinders held",
                "verbose_name_plural": "cylinders held",
                "ordering": ["customer__code", "product__sort_order", "product__code"],
                "permissions": [
                    ("adjust_holding", "Can set a customer's cylinders held (a count)")
                ],
            },
        ),
        migrations.CreateModel(
            name="CylinderReturn",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=20, unique=True)),
                (
                    "refund_amount",
                    models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=14),
                ),
                (
                    "refund_to",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "-"),
                            ("ACCOUNT", "Credited to the account"),
                            ("CASH", "Paid out in cash"),
                        ],
                        default="",
                        max_length=7,
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
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cylinder_returns",
                        to="sales.customer",
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
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cylinder_returns",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-id"],
            },
        ),
        migrations.CreateModel(
            name="CylinderReturnLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.PositiveIntegerField()),
                (
                    "refund",
                    models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=14),
                ),
                (
                    "cylinder_return",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="sales.cylinderreturn",
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
            },
        ),
        migrations.CreateModel(
            name="DepositRate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2, help_text="Deposit per cylinder.", max_digits=14
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
                "ordering": ["product", "-effective_from", "-id"],
            },
        ),
        migrations.CreateModel(
            name="HoldingEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("SALE", "Sale"),
                            ("RETURN", "Cylinder return"),
                            ("VOID", "Void"),
                            ("ADJUSTMENT", "Count adjustment"),
                            ("OPENING", "Opening balance"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "quantity",
                    models.IntegerField(help_text="Cylinders added (+) or taken back (-)."),
                ),
                (
                    "deposit",
                    models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=14),
                ),
                (
                    "refund_to",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "-"),
                            ("ACCOUNT", "Credited to the account"),
                            ("CASH", "Paid out in cash"),
                        ],
                        default="",
                        max_length=7,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("doc_type", models.CharField(blank=True, max_length=50)),
                ("doc_id", models.BigIntegerField(blank=True, null=True)),
                ("reference", models.CharField(blank=True, max_length=40)),
                ("note", models.CharField(blank=True, max_length=255)),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="sales.customer",
                    ),
                ),
                (
                    "holding",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="sales.cylinderholding",
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
                (
                    "sales_rep",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "holding entries",
                "ordering": ["-id"],
            },
        ),
        migrations.AddConstraint(
            model_name="cylinderholding",
            constraint=models.UniqueConstraint(
                fields=("customer", "product"), name="sales_holding_one_per_customer_product"
            ),
        ),
        migrations.AddConstraint(
            model_name="cylinderholding",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gte", 0)), name="sales_holding_quantity_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="cylinderholding",
            constraint=models.CheckConstraint(
                condition=models.Q(("deposit_held__gte", 0)),
                name="sales_holding_deposit_not_negative",
            ),
        ),
        migrations.AddIndex(
            model_name="cylinderreturn",
            index=models.Index(
                fields=["customer", "created_at"], name="sales_cylin_custome_dde2cd_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="cylinderreturn",
            constraint=models.CheckConstraint(
                condition=models.Q(("refund_amount__gte", 0)),
                name="sales_return_refund_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="cylinderreturn",
            constraint=models.UniqueConstraint(
                fields=("created_by", "idempotency_key"), name="sales_return_one_per_user_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="cylinderreturnline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0)), name="sales_retline_quantity_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="cylinderreturnline",
            constraint=models.UniqueConstraint(
                fields=("cylinder_return", "product"), name="sales_retline_one_per_product"
            ),
        ),
        migrations.AddIndex(
            model_name="depositrate",
            index=models.Index(
                fields=["product", "effective_from", "id"], name="sales_depos_product_4d4390_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="depositrate",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="sales_depositrate_not_negative"
            ),
        ),
        migrations.AddIndex(
            model_name="holdingentry",
            index=models.Index(fields=["holding", "id"], name="sales_holdi_holding_caf6a7_idx"),
        ),
        migrations.AddIndex(
            model_name="holdingentry",
            index=models.Index(
                fields=["customer", "created_at"], name="sales_holdi_custome_e9a8e3_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="holdingentry",
            index=models.Index(
                fields=["doc_type", "doc_id"], name="sales_holdi_doc_typ_4b46b9_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="holdingentry",
            index=models.Index(
                condition=models.Q(("refund_to", "ACCOUNT")),
                fields=["customer", "created_at"],
                name="sales_holding_account_refund",
            ),
        ),
        migrations.AddIndex(
            model_name="holdingentry",
            index=models.Index(
                condition=models.Q(("refund_to", "CASH")),
                fields=["sales_rep", "created_at"],
                name="sales_holding_cash_refund",
            ),
        ),
        migrations.RunPython(grant_permissions, revoke_permissions),
        protect(
            "sales_depositrate",
            "sales_holdingentry",
            "sales_cylinderreturnline",
        ),
    ]
