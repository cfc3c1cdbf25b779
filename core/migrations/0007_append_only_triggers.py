"""The audit log and core's history tables refuse UPDATE, DELETE and TRUNCATE."""

from django.db import migrations

from core.append_only import protect


class Migration(migrations.Migration):
    dependencies = [("core", "0006_audit_chain_required")]

    operations = [protect("core_auditlog", "core_historicaluser", "core_historicaldepot")]
