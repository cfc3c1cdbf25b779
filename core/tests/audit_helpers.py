"""What a database superuser can do behind the application's back, for the audit tests."""

from django.db import connection


def as_superuser(*statements):
    """What a database superuser can do: switch the triggers off and write anything."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
