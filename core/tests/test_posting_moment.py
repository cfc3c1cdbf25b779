"""core.services.moments and audit_record(at=) (#14): a posting's moment is read once and
stamps what the posting writes; the audit chain holds with entries dated in the past."""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditLog, Depot, User
from core.selectors import audit_chain_check
from core.services import audit_hash, audit_record, audit_record_many
from core.services.moments import history_save, posting_moment

pytestmark = pytest.mark.django_db


def test_no_moment_means_now() -> None:
    before = timezone.now()
    assert before <= posting_moment(None) <= timezone.now()


def test_a_moment_given_is_kept() -> None:
    moment = timezone.now() - timedelta(days=3)
    assert posting_moment(moment) is moment


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(TypeError, match="timezone-aware"):
        posting_moment(datetime(2026, 1, 1, 9, 0))  # noqa: DTZ001 - naive on purpose


def test_history_save_dates_that_row_only(north: Depot) -> None:
    moment = timezone.now() - timedelta(days=10)
    north.name = "Northern depot, renamed"
    history_save(north, at=moment, update_fields=["name"])
    assert north.history.order_by("-history_id")[0].history_date == moment
    north.name = "Northern depot"
    north.save()  # a later save, without a moment: dated by the clock
    assert north.history.order_by("-history_id")[0].history_date > moment + timedelta(days=9)


def test_audit_entries_at_a_moment_carry_it_in_their_hash(head_office: User, north: Depot) -> None:
    moment = timezone.now() - timedelta(days=21)
    today = audit_record(actor=head_office, action="test_now", obj=north, data={})
    entry = audit_record(actor=head_office, action="test", obj=north, data={}, at=moment)
    many = audit_record_many(
        actor=head_office,
        entries=[{"action": "test_many", "obj": north, "data": {"n": n}} for n in range(2)],
        at=moment,
    )
    stored = list(AuditLog.objects.filter(pk__in=[entry.pk, *(e.pk for e in many)]))
    assert {e.created_at for e in stored} == {moment}
    assert all(e.hash == audit_hash(e) for e in stored)  # as stored, as hashed
    assert today.created_at > moment + timedelta(days=20)
    assert today.seq < entry.seq  # dated earlier, appended later: the chain is by seq
    assert audit_chain_check().intact
    call_command("verify_audit")


def test_an_audit_entry_with_a_naive_moment_is_refused(head_office: User, north: Depot) -> None:
    with pytest.raises(TypeError):
        audit_record(
            actor=head_office,
            action="test",
            obj=north,
            data={},
            at=datetime(2026, 1, 1),  # noqa: DTZ001 - naive on purpose
        )
    assert not AuditLog.objects.filter(action="test").exists()
