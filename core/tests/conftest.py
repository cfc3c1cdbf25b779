"""Fixtures of the core tests."""

import pytest

from core.services import audit_record


@pytest.fixture
def chain(north, head_office):
    """Six entries written by the application."""
    return [
        audit_record(actor=head_office, action="test", obj=north, data={"n": n})
        for n in range(1, 7)
    ]
