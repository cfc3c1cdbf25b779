"""Invariant 9, against someone with database access: the audit chain is keyed with
AUDIT_HMAC_KEY (kept outside the database), its head only moves forward, and an anchor
kept outside the database catches a removed tail.

The attacks are those of the hardening issue: remove the newest entry and move the head
back; rewrite an old entry and re-hash everything after it (with plain SHA-256, or with a
key that is not the real one).
"""

import hashlib
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from core.models import AuditChainHead, AuditChainSeal, AuditLog
from core.services import (
    GENESIS_HASH,
    audit_anchor_send,
    audit_canonical,
    audit_hash,
    audit_record,
    audit_seal_mac,
)
from core.tests.audit_helpers import as_superuser


def _verify(*args):
    """(exit status, output) of manage.py verify_audit."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, err.getvalue()
    return 0, out.getvalue()


def _anchor():
    out = StringIO()
    call_command("audit_anchor", stdout=out)
    return re.search(r"Audit anchor: (\d+:[0-9a-f]{64})", out.getvalue()).group(1)


def _plain_sha256(entry):
    return hashlib.sha256(audit_canonical(entry)).hexdigest()


def _rewrite_from(seq, data, hasher):
    """Change entry #seq's data and re-hash it and every entry after it, then move the
    head to the new end: a forger who knows how the chain is built."""
    entries = list(AuditLog.objects.filter(seq__gte=seq).order_by("seq"))
    previous = AuditLog.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_HASH
    statements = []
    for entry in entries:
        if entry.seq == seq:
            entry.data = data
        entry.prev_hash = previous
        entry.hash = previous = hasher(entry)
        statements.append(
            (
                "UPDATE core_auditlog SET data = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [_json(entry.data), entry.prev_hash, entry.hash, entry.pk],
            )
        )
    statements.append(("UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", [previous]))
    as_superuser(*statements)


def _json(data):
    import json

    return json.dumps(data)


# --- (c) the real chain verifies ---------------------------------------------------------


@pytest.mark.django_db
def test_the_chain_written_with_the_key_verifies(chain):
    code, out = _verify()
    assert code == 0, out
    assert "Audit chain intact: 6 entries verified." in out
    code, out = _verify("--anchor", _anchor())
    assert code == 0, out
    assert "anchor #6 holds" in out


@pytest.mark.django_db
def test_entries_are_keyed_with_hmac_sha256(chain):
    import hmac

    from django.conf import settings

    entry = chain[0]
    expected = hmac.new(
        settings.AUDIT_HMAC_KEY.encode(), audit_canonical(entry), hashlib.sha256
    ).hexdigest()
    assert entry.hash == expected == audit_hash(entry)
    assert entry.hash != _plain_sha256(entry)


# --- (b) rewrite an old entry and re-hash everything after it ----------------------------


@pytest.mark.django_db
def test_rewriting_and_rehashing_with_plain_sha256_is_found(chain):
    _rewrite_from(2, {"n": 200}, _plain_sha256)
    code, err = _verify()
    assert code == 1
    assert "entry #2" in err
    assert "was changed after it was written" in err


@pytest.mark.django_db
def test_rewriting_and_rehashing_with_a_wrong_key_is_found(chain):
    with override_settings(AUDIT_HMAC_KEY="a-key-the-forger-made-up-0123456789abcdef"):
        _rewrite_from(3, {"n": 300}, audit_hash)
    code, err = _verify()
    assert code == 1
    assert "entry #3" in err
    assert "was changed after it was written" in err


@pytest.mark.django_db
def test_with_the_wrong_key_nothing_verifies(chain):
    with override_settings(AUDIT_HMAC_KEY="not-the-key-the-chain-was-written-with-000"):
        code, err = _verify()
    assert code == 1
    assert "entry #1" in err
    assert "AUDIT_HMAC_KEY" in err


@pytest.mark.django_db
def test_a_forged_seal_cannot_declare_the_keyed_entries_unkeyed(chain):
    """The seal says which entries predate the key; a forger who re-hashes the whole chain
    with plain SHA-256 and adds a seal over it still needs the key for the seal."""
    _rewrite_from(1, {"n": 100}, _plain_sha256)
    last = AuditLog.objects.order_by("-seq").first()
    with override_settings(AUDIT_HMAC_KEY="a-key-the-forger-made-up-0123456789abcdef"):
        mac = audit_seal_mac(seq=last.seq, hash=last.hash)
    as_superuser(
        (
            "INSERT INTO core_auditchainseal (seq, hash, mac, created_at) VALUES (%s, %s, %s, %s)",
            [last.seq, last.hash, mac, last.created_at],
        )
    )
    code, err = _verify()
    assert code == 1
    assert "seal" in err


# --- entries written before the key existed ---------------------------------------------


def _legacy_chain(actor, depot, count):
    """Entries as the application wrote them before AUDIT_HMAC_KEY: plain SHA-256."""
    from django.utils import timezone

    previous = GENESIS_HASH
    for seq in range(1, count + 1):
        entry = AuditLog(
            seq=seq,
            actor=actor,
            action="legacy",
            object_type="core.depot",
            object_id=str(depot.pk),
            depot=depot,
            data={"n": seq},
            created_at=timezone.now(),
            prev_hash=previous,
            writer_version=1,
        )
        entry.hash = previous = _plain_sha256(entry)
        entry.save()
    AuditChainHead.objects.update_or_create(
        pk=1, defaults={"last_seq": count, "last_hash": previous}
    )


def _seal_as_the_migration_does():
    from django.apps import apps as django_apps
    from django.utils.module_loading import import_string

    seal = import_string("core.migrations.0014_audit_writer_version.seal_unkeyed_entries")
    seal(django_apps, None)


@pytest.mark.django_db
def test_entries_from_before_the_key_still_verify(north, head_office):
    _legacy_chain(head_office, north, 4)
    _seal_as_the_migration_does()
    seal = AuditChainSeal.objects.get()
    assert (seal.seq, seal.hash) == (4, AuditLog.objects.get(seq=4).hash)
    audit_record(actor=head_office, action="test", obj=north, data={"n": 5})
    assert AuditLog.objects.get(seq=5).hash == audit_hash(AuditLog.objects.get(seq=5))
    code, out = _verify()
    assert code == 0, out
    assert "5 entries verified" in out


@pytest.mark.django_db
def test_the_seal_ends_where_the_unkeyed_entries_end(north, head_office):
    """Also when the migration runs again (after a rollback) over keyed entries."""
    _legacy_chain(head_office, north, 3)
    for n in range(4, 9):
        audit_record(actor=head_office, action="test", obj=north, data={"n": n})
    _seal_as_the_migration_does()
    assert AuditChainSeal.objects.get().seq == 3
    assert _verify()[0] == 0


@pytest.mark.django_db
def test_a_chain_keyed_from_the_start_gets_no_seal(chain):
    _seal_as_the_migration_does()
    assert not AuditChainSeal.objects.exists()
    assert _verify()[0] == 0


@pytest.mark.django_db
def test_rewriting_an_entry_from_before_the_key_is_found(north, head_office):
    """The seal (MAC'd with the key) holds the hash of the last unkeyed entry, so the
    unkeyed part cannot be re-hashed either."""
    _legacy_chain(head_office, north, 4)
    _seal_as_the_migration_does()
    _rewrite_from(2, {"n": 20}, _plain_sha256)
    code, err = _verify()
    assert code == 1
    assert "entry #4" in err
    assert "sealed" in err


@pytest.mark.django_db
def test_removing_the_seal_is_found(north, head_office):
    _legacy_chain(head_office, north, 3)
    _seal_as_the_migration_does()
    as_superuser(("DELETE FROM core_auditchainseal", []))
    code, err = _verify()
    assert code == 1
    assert "entry #1" in err


# --- (a) remove the newest entry and move the head back ---------------------------------


@pytest.mark.django_db
def test_a_removed_tail_with_the_head_moved_back_is_found_by_the_anchor(chain):
    anchor = _anchor()
    last, previous = chain[-1], chain[-2]
    as_superuser(
        ("DELETE FROM core_auditlog WHERE seq = %s", [last.seq]),
        (
            "UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = 1",
            [previous.seq, previous.hash],
        ),
    )
    code, err = _verify("--anchor", anchor)
    assert code == 1
    assert "the chain ends at #5, before the anchor #6" in err


@pytest.mark.django_db
def test_an_anchor_finds_an_entry_rewritten_by_someone_holding_the_key(chain):
    """Even with the key, a rewritten chain no longer matches an anchor taken before."""
    anchor = _anchor()
    _rewrite_from(2, {"n": 200}, audit_hash)
    assert _verify()[0] == 0  # the key holder's forgery is self-consistent...
    code, err = _verify("--anchor", anchor)
    assert code == 1  # ...but not what was anchored
    assert "entry #6 no longer has the anchored hash" in err


@pytest.mark.django_db
def test_an_older_anchor_still_holds_as_the_chain_grows(chain, north, head_office):
    anchor = _anchor()
    audit_record(actor=head_office, action="test", obj=north, data={"n": 7})
    code, out = _verify("--anchor", anchor, "--anchor", _anchor())
    assert code == 0, out
    assert "anchor #6 holds" in out
    assert "anchor #7 holds" in out


@pytest.mark.django_db
def test_a_malformed_anchor_is_refused_with_words(chain):
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("verify_audit", "--anchor", "six:abc")


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_auditchainhead SET last_seq = last_seq - 1",
        "UPDATE core_auditchainhead SET last_hash = %(previous)s",
        "UPDATE core_auditchainhead SET last_seq = last_seq + 1",
        "UPDATE core_auditchainhead SET last_seq = last_seq + 1, last_hash = %(previous)s",
        "UPDATE core_auditchainhead SET id = 2",
        "DELETE FROM core_auditchainhead",
        "TRUNCATE core_auditchainhead",
        "INSERT INTO core_auditchainhead (id, last_seq, last_hash) VALUES (2, 3, %(previous)s)",
    ],
)
def test_the_chain_head_only_moves_forward_to_an_appended_entry(chain, sql):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with (
        pytest.raises(DatabaseError, match="audit chain head"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, {"previous": chain[-2].hash})
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (6, chain[-1].hash)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_head_advances_over_entries_appended_one_by_one_or_in_bulk(north, head_office):
    from core.services import audit_record_many

    audit_record(actor=head_office, action="test", obj=north, data={})
    audit_record_many(
        actor=head_office,
        entries=[{"action": "bulk", "obj": north, "data": {"i": i}} for i in range(5)],
    )
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (6, AuditLog.objects.get(seq=6).hash)
    assert _verify()[0] == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_seal_is_append_only(north, head_office):
    _legacy_chain(head_office, north, 2)
    _seal_as_the_migration_does()
    for sql in ("UPDATE core_auditchainseal SET seq = 1", "DELETE FROM core_auditchainseal"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


# --- the anchor -------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=[])
def test_audit_anchor_prints_one_line_to_keep_and_sends_nothing_by_default(chain):
    out = StringIO()
    call_command("audit_anchor", stdout=out)
    lines = out.getvalue().splitlines()
    head = AuditChainHead.objects.get()
    assert lines[0].startswith(f"Audit anchor: 6:{head.last_hash} taken ")
    assert f"verify_audit --anchor 6:{head.last_hash}" in out.getvalue()
    assert mail.outbox == []


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=["auditor@example.com", "cfo@example.com"])
def test_audit_anchor_emails_the_anchor_to_the_configured_addresses(chain):
    out = StringIO()
    call_command("audit_anchor", stdout=out)
    head = AuditChainHead.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["auditor@example.com", "cfo@example.com"]
    assert "#6" in message.subject
    assert f"6:{head.last_hash}" in message.body
    assert f"verify_audit --anchor 6:{head.last_hash}" in message.body
    assert "e-mailed to auditor@example.com, cfo@example.com" in out.getvalue()


@pytest.mark.django_db
def test_audit_anchor_of_an_empty_chain():
    anchor = audit_anchor_send()
    assert (anchor.seq, anchor.hash) == (0, GENESIS_HASH)
    assert _verify("--anchor", anchor.text)[0] == 0


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=["auditor@example.com"])
def test_the_daily_task_sends_the_anchor(chain):
    from core.tasks import audit_anchor_daily

    audit_anchor_daily.apply().get()
    assert len(mail.outbox) == 1
    assert "6:" in mail.outbox[0].body


@pytest.mark.django_db
def test_celery_beat_runs_the_anchor_daily():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="core.tasks.audit_anchor_daily")
    assert task.enabled
    assert task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour) == ("0", "2")
