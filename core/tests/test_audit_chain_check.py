"""core.selectors.audit_chain_check names each kind of break: two seals, an entry that does
not follow the one before, a seal past the end of the chain, a missing chain head, and a
genesis anchor that is not all zeros."""

import pytest

from core.models import AuditLog
from core.selectors import audit_chain_check
from core.services import GENESIS_HASH, audit_seal_mac
from core.tests.audit_helpers import as_superuser

SEAL = "INSERT INTO core_auditchainseal (seq, hash, mac, created_at) VALUES (%s, %s, %s, %s)"


def _seal(seq: int, hash: str):
    """A seal as the migration writes it: MAC'd with the key."""
    from django.utils import timezone

    return (SEAL, [seq, hash, audit_seal_mac(seq=seq, hash=hash), timezone.now()])


@pytest.mark.django_db
def test_an_intact_chain_holds(chain):
    check = audit_chain_check()
    assert check.intact
    assert (check.head_seq, check.checked) == (6, 6)


@pytest.mark.django_db
def test_a_second_seal_is_named(chain):
    as_superuser(_seal(1, chain[0].hash), _seal(2, chain[1].hash))

    assert audit_chain_check().problem == (
        "there is more than one seal: the seal is written once, by a migration"
    )


@pytest.mark.django_db
def test_an_entry_that_does_not_follow_the_one_before_is_named(chain):
    as_superuser(
        ("UPDATE core_auditlog SET prev_hash = %s WHERE seq = 3", ["f" * 64]),
    )

    check = audit_chain_check()
    assert check.problem.startswith("entry #3 (id ")
    assert "does not follow entry #2: its prev_hash is not that entry's hash" in check.problem
    assert check.entry == AuditLog.objects.get(seq=3)


@pytest.mark.django_db
def test_a_seal_past_the_end_of_the_chain_is_named(db):
    as_superuser(_seal(3, "a" * 64))

    assert audit_chain_check().problem == (
        "the chain was sealed at #3 but ends at #0: entries were removed"
    )


@pytest.mark.django_db
def test_a_missing_chain_head_is_named(chain):
    as_superuser(("DELETE FROM core_auditchainhead", []))

    assert audit_chain_check().problem == "the chain head is missing"


@pytest.mark.django_db
def test_a_genesis_anchor_must_be_all_zeros(chain):
    assert audit_chain_check(anchors=[(0, GENESIS_HASH)]).intact
    assert audit_chain_check(anchors=[(0, "f" * 64)]).problem == (
        "anchor #0 is not this chain's: its hash must be all zeros"
    )
