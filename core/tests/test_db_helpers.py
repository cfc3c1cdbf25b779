import pytest
from django.db import OperationalError, transaction

from core.db import MAX_ATTEMPTS, atomic_with_retry


class FakePgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def failing(sqlstate, times):
    calls = []

    @atomic_with_retry
    def work():
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("lost a race") from FakePgError(sqlstate)
        return "done"

    return work, calls


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_deadlock_and_serialisation_failure_are_retried(sqlstate):
    work, calls = failing(sqlstate, times=2)
    assert work() == "done"
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_gives_up_after_max_attempts():
    work, calls = failing("40P01", times=MAX_ATTEMPTS)
    with pytest.raises(OperationalError):
        work()
    assert len(calls) == MAX_ATTEMPTS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_other_errors_are_not_retried():
    work, calls = failing("08006", times=1)  # connection failure
    with pytest.raises(OperationalError):
        work()
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_inside_an_outer_transaction_it_runs_once():
    work, calls = failing("40P01", times=1)
    with pytest.raises(OperationalError), transaction.atomic():
        work()
    assert len(calls) == 1


@pytest.mark.django_db
def test_document_numbers_need_a_transaction():
    from core.services import document_number_next

    with transaction.atomic():
        assert document_number_next(series="TST", year=2026) == "TST-2026-000001"
        assert document_number_next(series="TST", year=2026) == "TST-2026-000002"
        assert document_number_next(series="TST", year=2027) == "TST-2027-000001"


def test_document_numbers_refuse_autocommit():
    from core.services import document_number_next

    with pytest.raises(RuntimeError, match="inside the posting transaction"):
        document_number_next(series="TST", year=2026)
