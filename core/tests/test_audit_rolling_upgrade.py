"""A rolling deploy: web processes and Celery workers of the release before AUDIT_HMAC_KEY
may still be running while the new release migrates. Once the migration has sealed the
unkeyed entries, such a process must fail to append, never append an unkeyed entry that
verify_audit would then report for ever (the log is append-only: it could not be repaired).

core_auditlog.writer_version is NOT NULL without a database default, and only the new
code names it: the old code's INSERT (which names its columns) is refused and its posting
rolls back whole.
"""

import hashlib
import json
import threading
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.models import AuditChainHead, AuditChainSeal, AuditLog
from core.services import audit_canonical, audit_record

# The release before the key: core/services.py _append_one at b763a93, word for word.
OLD_APPEND_ONE = (
    "WITH entry AS (INSERT INTO core_auditlog "
    "(seq, actor_id, action, object_type, object_id, depot_id, data, created_at, "
    "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) "
    "RETURNING id AS entry_id) UPDATE core_auditchainhead head SET "
    "last_seq = %s, last_hash = %s FROM entry WHERE head.id = 1 RETURNING entry_id"
)
OLD_LOCK_HEAD = "SELECT last_seq, last_hash FROM core_auditchainhead WHERE id = 1 FOR UPDATE"


def _old_entry(*, seq, prev_hash, actor, depot, n):
    """An entry as the release before the key built it: plain SHA-256."""
    entry = AuditLog(
        seq=seq,
        actor=actor,
        action="sale_post",
        object_type="core.depot",
        object_id=str(depot.pk),
        depot=depot,
        data={"n": n},
        created_at=timezone.now(),
        prev_hash=prev_hash,
    )
    entry.hash = hashlib.sha256(audit_canonical(entry)).hexdigest()
    return entry


def _old_append_params(entry):
    return [
        entry.seq,
        entry.actor_id,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.depot_id,
        json.dumps(entry.data),
        entry.created_at,
        entry.prev_hash,
        entry.hash,
        entry.seq,
        entry.hash,
    ]


def _old_append(cursor, *, actor, depot, n):
    """What the old audit_record did on PostgreSQL: lock the head, append one entry."""
    cursor.execute(OLD_LOCK_HEAD)
    seq, prev = cursor.fetchone()
    entry = _old_entry(seq=seq + 1, prev_hash=prev, actor=actor, depot=depot, n=n)
    cursor.execute(OLD_APPEND_ONE, _old_append_params(entry))
    return entry


def _verify():
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, err.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def chain(north, head_office):
    return [
        audit_record(actor=head_office, action="test", obj=north, data={"n": n})
        for n in range(1, 4)
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_old_process_cannot_append_and_the_chain_stays_intact(chain, north, head_office):
    with (
        pytest.raises(IntegrityError, match='null value in column "writer_version"'),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _old_append(cursor, actor=head_office, depot=north, n=4)
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (3, chain[-1].hash)
    assert AuditLog.objects.count() == 3
    code, out = _verify()
    assert code == 0, out
    assert "Audit chain intact: 3 entries verified." in out


@pytest.mark.django_db
def test_the_old_bulk_insert_is_refused_too(chain, north, head_office):
    """The old audit_record_many (a rate-table import) and SQLite: Django's bulk_create of
    the old model names the old columns only."""
    last = chain[-1]
    rows = [
        _old_entry(seq=4, prev_hash=last.hash, actor=head_office, depot=north, n=4),
    ]
    rows.append(_old_entry(seq=5, prev_hash=rows[0].hash, actor=head_office, depot=north, n=5))
    data = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    values = f"(%s, %s, %s, %s, %s, %s, {data}, %s, %s, %s)"
    params = [p for row in rows for p in _old_append_params(row)[:10]]
    with (
        pytest.raises(IntegrityError, match="writer_version"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO core_auditlog (seq, actor_id, action, object_type, object_id, "  # noqa: S608
            f"depot_id, data, created_at, prev_hash, hash) VALUES {values}, {values}",
            params,
        )
    assert AuditLog.objects.count() == 3
    assert _verify()[0] == 0


@pytest.mark.django_db
def test_the_new_code_writes_its_version_on_every_path(north, head_office):
    from core.services import AUDIT_WRITER_VERSION, audit_record_many

    audit_record(actor=head_office, action="test", obj=north, data={})
    audit_record_many(
        actor=head_office,
        entries=[{"action": "bulk", "obj": north, "data": {"i": i}} for i in (1, 2)],
    )
    assert set(AuditLog.objects.values_list("writer_version", flat=True)) == {AUDIT_WRITER_VERSION}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_column_has_no_database_default():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = 'core_auditlog' AND column_name = 'writer_version'"
        )
        assert cursor.fetchone() == ("NO", None)


# --- the migration itself, while an old process is writing -------------------------------

BEFORE = ("core", "0013_audit_anchor_schedule")
AFTER = ("core", "0014_audit_writer_version")


WAITING = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def _superuser_connection():
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
    )


def _migrate(target):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target if isinstance(target, list) else [target])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_seals_what_an_old_writer_appends_meanwhile_and_then_refuses_it(
    north, head_office
):
    """An old writer holds the chain head when the migration starts: the migration waits
    for it (no deadlock), seals its entry with the others, and the next old append fails."""
    from django.db.migrations.executor import MigrationExecutor

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_auditchainhead (id, last_seq, last_hash) VALUES (1, 0, %s) "
                "ON CONFLICT DO NOTHING",
                ["0" * 64],
            )
            for n in (1, 2):
                _old_append(cursor, actor=head_office, depot=north, n=n)

        locked, done, failures = threading.Event(), threading.Event(), []

        def old_writer():
            try:
                with _superuser_connection() as conn, conn.cursor() as cursor:
                    conn.execute(OLD_LOCK_HEAD)
                    locked.set()
                    # Hold the head until the migration is waiting for it.
                    for _ in range(200):
                        if conn.execute(WAITING).fetchone()[0]:
                            break
                        threading.Event().wait(0.05)
                    else:
                        failures.append("the migration never waited for the old writer")
                    _old_append(cursor, actor=head_office, depot=north, n=3)
            except Exception as exc:  # reported by the test below
                failures.append(repr(exc))
            finally:
                done.set()

        thread = threading.Thread(target=old_writer)
        thread.start()
        assert locked.wait(10)
        _migrate(AFTER)
        thread.join(20)
        assert done.is_set()
        assert failures == []

        seal = AuditChainSeal.objects.get()
        assert (seal.seq, seal.hash) == (3, AuditLog.objects.get(seq=3).hash)
        with (  # too late now
            _superuser_connection() as conn,
            conn.cursor() as cursor,
            pytest.raises(psycopg.errors.NotNullViolation, match="writer_version"),
        ):
            _old_append(cursor, actor=head_office, depot=north, n=4)
        _migrate(leaves)
        audit_record(actor=head_office, action="test", obj=north, data={"n": 4})
        code, out = _verify()
        assert code == 0, out
        assert "4 entries verified" in out
    finally:
        _migrate(leaves)
