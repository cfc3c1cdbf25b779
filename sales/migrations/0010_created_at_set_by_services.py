import django.utils.timezone
from django.db import migrations, models


def _created_at(model_name: str) -> migrations.AlterField:
    return migrations.AlterField(
        model_name=model_name,
        name="created_at",
        field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
    )


class Migration(migrations.Migration):
    """created_at of customers, rate versions and payment allocations is set by the
    service that writes them (the posting's moment), no longer by auto_now_add. Neither
    is a database default, so only Django's state changes: no SQL on any database (on
    SQLite an AlterField would copy each table into a new one for nothing)."""

    dependencies = [
        ("sales", "0009_idempotency_constraints"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                _created_at("customer"),
                _created_at("historicalcustomer"),
                _created_at("historicalrate"),
                _created_at("paymentallocation"),
                _created_at("rate"),
            ],
        ),
    ]
