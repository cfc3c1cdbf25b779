"""An anchor vouches only for a chain that holds: `audit_anchor` (and the daily task)
verify the chain first, from the last anchor taken on (or whole), and on a break take no
anchor: they log an error, e-mail the recipients an alert naming the first broken entry,
and the command exits 1."""

import json
import logging
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from core.models import AuditAnchorRecord, AuditChainHead, AuditLog
from core.services import AuditChainBroken, audit_hash, audit_record
from core.tests.audit_helpers import as_superuser

RECIPIENTS = ["auditor@example.com", "cfo@example.com"]


def _tamper(seq):
    as_superuser(("UPDATE core_auditlog SET data = %s WHERE seq = %s", ['{"n": 999}', seq]))


def _anchor(*args):
    """(exit status, stdout, stderr) of manage.py audit_anchor."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_anchor", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _more(north, head_office, count):
    for n in range(count):
        audit_record(actor=head_office, action="test", obj=north, data={"more": n})


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_no_anchor_for_a_tampered_chain_but_an_alert(chain, caplog):
    _tamper(3)
    with caplog.at_level(logging.ERROR, logger="core.services"):
        code, out, err = _anchor()
    assert code == 1
    assert "Audit chain broken: entry #3" in err
    assert "No anchor taken." in err
    assert "alert e-mailed to auditor@example.com, cfo@example.com" in err
    assert "Audit anchor:" not in out
    assert not AuditAnchorRecord.objects.exists()
    (alert,) = mail.outbox
    assert alert.to == RECIPIENTS
    assert alert.subject == "HSH audit chain BROKEN: no anchor taken (entry #3)"
    victim = AuditLog.objects.get(seq=3)
    assert f"The first broken entry is #3 (id {victim.pk}, test core.depot:" in alert.body
    assert "was changed after it was written" in alert.body
    assert "No anchor was taken" in alert.body
    head = AuditChainHead.objects.get()
    assert head.last_hash not in alert.body  # nothing in it vouches for the forged head
    assert [r for r in caplog.records if r.levelno == logging.ERROR and "entry #3" in r.message]


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_the_daily_task_takes_no_anchor_for_a_tampered_chain(chain):
    from core.tasks import audit_anchor_daily

    _tamper(5)
    with pytest.raises(AuditChainBroken, match="entry #5"):
        audit_anchor_daily.apply().get()
    (alert,) = mail.outbox
    assert "BROKEN" in alert.subject
    assert "#5" in alert.body
    assert not AuditAnchorRecord.objects.exists()


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=[])
def test_without_recipients_the_break_is_still_refused_and_logged(chain, caplog):
    _tamper(2)
    with caplog.at_level(logging.ERROR, logger="core.services"):
        code, _out, err = _anchor()
    assert code == 1
    assert "entry #2" in err
    assert mail.outbox == []
    assert "Audit chain broken, no anchor taken: entry #2" in caplog.text


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_an_anchor_verifies_from_the_last_anchor_on(chain, north, head_office):
    code, out, _err = _anchor()
    assert code == 0
    assert "verified first: entries #1 to #6" in out
    first = AuditAnchorRecord.objects.get()
    assert (first.seq, first.hash) == (6, chain[-1].hash)
    _more(north, head_office, 3)
    code, out, _err = _anchor()
    assert code == 0, out
    assert "verified first: entries #6 to #9 (since the previous anchor)" in out
    assert AuditAnchorRecord.objects.order_by("-pk").first().seq == 9
    assert len(mail.outbox) == 2
    assert "9:" in mail.outbox[1].body
    assert "Verified before it was taken: entries #6 to #9 (since the previous anchor)." in (
        mail.outbox[1].body
    )


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_a_tampered_entry_since_the_last_anchor_is_found(chain, north, head_office):
    assert _anchor()[0] == 0
    _more(north, head_office, 3)
    _tamper(8)
    code, _out, err = _anchor()
    assert code == 1
    assert "entry #8" in err
    assert mail.outbox[-1].subject == "HSH audit chain BROKEN: no anchor taken (entry #8)"


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_a_chain_rewritten_with_the_key_up_to_the_last_anchor_is_found(chain, north, head_office):
    """Re-hashed with the key from #2 on: self-consistent, but the anchored entry moved."""
    assert _anchor()[0] == 0
    previous = chain[0].hash
    statements = []
    for entry in AuditLog.objects.filter(seq__gte=2).order_by("seq"):
        if entry.seq == 2:
            entry.data = {"n": 200}
        entry.prev_hash = previous
        entry.hash = previous = audit_hash(entry)
        statements.append(
            (
                "UPDATE core_auditlog SET data = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(entry.data), entry.prev_hash, entry.hash, entry.pk],
            )
        )
    statements.append(("UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", [previous]))
    as_superuser(*statements)
    code, _out, err = _anchor()
    assert code == 1
    assert "entry #6 no longer has the anchored hash" in err


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_a_tail_removed_below_the_last_anchor_is_found(chain):
    assert _anchor()[0] == 0
    as_superuser(
        ("DELETE FROM core_auditlog WHERE seq >= %s", [5]),
        (
            "UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = 1",
            [4, chain[3].hash],
        ),
    )
    code, _out, err = _anchor()
    assert code == 1
    assert "the chain ends at #4, before the anchor #6" in err


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_a_forged_anchor_record_does_not_make_a_forged_chain_look_verified(chain):
    """Someone without the key records the forged head as verified: refused."""
    _tamper(2)
    head = AuditChainHead.objects.get()
    AuditAnchorRecord.objects.create(
        seq=head.last_seq, hash=head.last_hash, mac="0" * 64, taken_at=chain[-1].created_at
    )
    code, _out, err = _anchor()
    assert code == 1
    assert "the last anchor recorded in the database (#6" in err
    assert "was not made with AUDIT_HMAC_KEY" in err
    code, _out, err = _anchor("--full")  # what the alert says to do
    assert code == 1
    assert "entry #2" in err


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_full_finds_a_change_before_the_last_anchor(chain, north, head_office):
    """The daily anchor verifies what came since the last one: an older change is left to
    verify_audit (the anchors kept outside the database), and to --full."""
    assert _anchor()[0] == 0
    _more(north, head_office, 2)
    _tamper(2)
    code, _out, err = _anchor("--full")
    assert code == 1
    assert "entry #2" in err
    code, out, _err = _anchor()
    assert code == 0
    assert re.search(r"Audit anchor: 8:[0-9a-f]{64}", out)


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "full"), [("2026-11-29", True), ("2026-11-30", False)])
def test_the_daily_task_walks_the_whole_chain_on_sundays(chain, monkeypatch, day, full):
    """Entries before the last anchor are re-proved weekly, not only on an auditor's
    visit: the Sunday run checks the whole chain."""
    import datetime

    import core.services
    from core.tasks import audit_anchor_daily

    asked = []
    monkeypatch.setattr(core.services, "audit_anchor_send", lambda **kwargs: asked.append(kwargs))
    monkeypatch.setattr(
        "django.utils.timezone.localdate", lambda *a, **k: datetime.date.fromisoformat(day)
    )
    audit_anchor_daily.apply().get()
    assert asked == [{"full": full}]


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EMAILS=RECIPIENTS)
def test_an_anchor_whose_mail_fails_is_still_printed_and_the_command_fails(chain, monkeypatch):
    """SMTP down: the anchor is still printed (to be kept by hand), with a plain error
    and exit 1, never a bare traceback."""

    def refused(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refused)
    code, out, err = _anchor()
    assert code == 1
    assert re.search(r"Audit anchor: \d+:[0-9a-f]{64}", out)
    assert "The e-mail to auditor@example.com, cfo@example.com failed" in err
    assert "Traceback" not in err
    assert AuditAnchorRecord.objects.count() == 1  # taken, and recorded as verified
