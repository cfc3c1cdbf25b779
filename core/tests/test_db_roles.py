"""The application's database role (deploy/postgres/10-roles.sql) cannot switch off or get
round the append-only triggers: it owns nothing, cannot TRUNCATE, ALTER a table or become
a replica, and the audit chain head only moves forward for it.

The roles are created with the deployment's own SQL (through core.db_roles), with names
of their own (roles are cluster-wide), and the application role logs in for real.
"""

import secrets
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection

from core import db_roles
from core.models import AuditChainHead, AuditLog
from core.services import AUDIT_WRITER_VERSION, audit_hash, audit_record
from stock.models import Product
from stock.services import stock_receive


@pytest.fixture
def roles():
    """A schema owner and an application role made by 10-roles.sql, dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    names = {
        "owner": f"hsh_test_owner_{suffix}",
        "app": f"hsh_test_app_{suffix}",
        "owner_password": secrets.token_urlsafe(16),
        "app_password": secrets.token_urlsafe(16),
    }
    try:
        with connection.cursor() as cursor:
            for section in ("roles", "application privileges"):
                for statement in db_roles.statements(section, **names):
                    cursor.execute(statement)
        yield names
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER SCHEMA public OWNER TO pg_database_owner")
            for role in (names["owner"], names["app"]):
                cursor.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", [role]
                )  # created at all?
                if cursor.fetchone():
                    cursor.execute(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
                    cursor.execute(f'DROP OWNED BY "{role}"')
                    cursor.execute(f'DROP ROLE "{role}"')


def _login(user, password):
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=user,
        password=password,
        autocommit=True,
    )


@contextmanager
def _as(names, role):
    with _login(names[role], names[f"{role}_password"]) as conn:
        yield conn


def _refused(conn, sql, params=None):
    """The error text PostgreSQL gives for `sql`; fails the test if it was allowed."""
    try:
        conn.execute(sql, params)
    except psycopg.Error as exc:
        return str(exc)
    pytest.fail(f"the application role was allowed: {sql}")


@pytest.fixture
def business(north, head_office, manager):
    """Rows in the audit log, the chain head and the stock ledger, committed."""
    stock_receive(
        depot=north, product=Product.objects.get(code="12.7KG"), quantity=5, actor=manager
    )
    audit_record(actor=head_office, action="test", obj=north, data={"n": 1})
    return {"actor": head_office, "depot": north}


APPEND_ONLY = ["core_auditlog", "stock_stockmovement"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_application_role_cannot_rewrite_or_unprotect_the_ledgers(business, roles):
    with _as(roles, "app") as app:
        for table in APPEND_ONLY:
            assert app.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0  # noqa: S608
            assert "append-only: UPDATE is not allowed" in _refused(
                app,
                f"UPDATE {table} SET id = id",  # noqa: S608
            )
            assert "append-only: DELETE is not allowed" in _refused(
                app,
                f"DELETE FROM {table}",  # noqa: S608
            )
            assert "permission denied" in _refused(app, f"TRUNCATE {table}")
            for switch_off in ("DISABLE TRIGGER ALL", f"DISABLE TRIGGER {table}_append_only"):
                assert "must be owner" in _refused(app, f"ALTER TABLE {table} {switch_off}")
            assert "must be owner" in _refused(app, f"DROP TRIGGER {table}_append_only ON {table}")
        # Sequences: nextval only. setval would move the ids back under the rows.
        for table in APPEND_ONLY:
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            assert "permission denied for sequence" in _refused(
                app,
                f"SELECT setval({sequence}, 1)",
            )
            assert "must be owner" in _refused(app, f"ALTER SEQUENCE {table}_id_seq RESTART")
        assert "permission denied" in _refused(app, "SET session_replication_role = replica")
        assert "permission denied" in _refused(app, "CREATE TABLE forged (id int)")
        owned = app.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole"
        ).fetchone()[0]
        assert owned == 0
        flags = app.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert flags == (False, False, False, False, False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_application_role_appends_and_the_head_only_moves_forward(business, roles, capsys):
    from django.core.management import call_command

    head = AuditChainHead.objects.get()
    entry = AuditLog(
        seq=head.last_seq + 1,
        actor=business["actor"],
        action="test",
        object_type="core.depot",
        object_id=str(business["depot"].pk),
        depot=business["depot"],
        data={"n": 2},
        created_at=AuditLog.objects.get(seq=head.last_seq).created_at,
        prev_hash=head.last_hash,
        writer_version=AUDIT_WRITER_VERSION,
    )
    entry.hash = audit_hash(entry)
    with _as(roles, "app") as app:
        # The hot path's statement (core.services._append_one): entry and head at once.
        app.execute(
            "WITH entry AS (INSERT INTO core_auditlog (seq, actor_id, action, object_type, "
            "object_id, depot_id, data, created_at, prev_hash, hash, writer_version) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s) RETURNING id) "
            "UPDATE core_auditchainhead head "
            "SET last_seq = %s, last_hash = %s FROM entry WHERE head.id = 1",
            [
                entry.seq,
                entry.actor_id,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.depot_id,
                '{"n": 2}',
                entry.created_at,
                entry.prev_hash,
                entry.hash,
                entry.writer_version,
                entry.seq,
                entry.hash,
            ],
        )
        back = "UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s"
        assert "only moves forward" in _refused(app, back, [head.last_seq, head.last_hash])
        assert "only moves forward" in _refused(app, "DELETE FROM core_auditchainhead")
        assert "permission denied" in _refused(app, "TRUNCATE core_auditchainhead")
        assert "must be owner" in _refused(
            app, "ALTER TABLE core_auditchainhead DISABLE TRIGGER ALL"
        )
    call_command("verify_audit")
    assert f"Audit chain intact: {entry.seq} entries verified." in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tables_the_owner_creates_later_are_usable_but_not_truncatable(roles):
    """What a later migration, run as the owner, creates: the owner's default privileges."""
    with _as(roles, "owner") as owner:
        owner.execute("CREATE TABLE later_table (id bigint GENERATED BY DEFAULT AS IDENTITY)")
        try:
            with _as(roles, "app") as app:
                app.execute("INSERT INTO later_table DEFAULT VALUES")
                assert app.execute("SELECT count(*) FROM later_table").fetchone()[0] == 1
                sequence = "pg_get_serial_sequence('later_table', 'id')"
                assert "permission denied for sequence" in _refused(
                    app, f"SELECT setval({sequence}, 1)"
                )
                app.execute("INSERT INTO later_table DEFAULT VALUES")  # nextval still works
                app.execute("UPDATE later_table SET id = id")
                app.execute("DELETE FROM later_table")
                assert "permission denied" in _refused(app, "TRUNCATE later_table")
                assert "must be owner" in _refused(app, "ALTER TABLE later_table ADD x int")
        finally:
            owner.execute("DROP TABLE later_table")
