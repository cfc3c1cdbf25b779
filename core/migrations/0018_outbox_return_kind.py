# The cylinder return's receipt (sales.CylinderReturn, RET-) is e-mailed through the
# outbox like the other documents: one more kind. Choices only (no CHECK on kind).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0017_outbox_statement_kind"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("INVOICE", "Tax invoice"),
                    ("CREDIT_NOTE", "Credit note"),
                    ("RECEIPT", "Receipt"),
                    ("REVERSAL", "Reversal notice"),
                    ("STATEMENT", "Statement of account"),
                    ("RETURN", "Cylinder return receipt"),
                ],
                max_length=20,
            ),
        ),
    ]
