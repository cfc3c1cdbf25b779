"""core.services.changes: how values read in an audit entry, what changes_apply refuses
(a field that is not editable, a relation that is not a column) and that a change the
model's own cleaning undoes is no change."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.models import DocumentCounter
from core.services.changes import _with_codes, changes_apply, readable, values_readable


def test_values_read_as_json_types():
    counter = DocumentCounter(series="TX", year=2026, last_value=3)
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")

    assert readable(counter) == "TX-2026: 3"  # a row without a code or username: its text
    assert readable(key) == "12345678-1234-5678-1234-567812345678"
    assert readable({"b", "a"}) == ["a", "b"]
    assert readable(Decimal("5")) == "5"


@pytest.mark.django_db
def test_a_field_that_may_not_change_is_refused_by_name(north):
    with pytest.raises(ValidationError) as refused:
        changes_apply(instance=north, data={"code": "N2", "colour": "red"}, editable={"name"})

    assert {
        name: [e.code for e in errors] for name, errors in refused.value.error_dict.items()
    } == {
        "code": ["not_editable"],
        "colour": ["not_editable"],
    }
    assert refused.value.message_dict["colour"] == ["colour cannot be changed here."]


@pytest.mark.django_db
def test_a_many_to_many_or_reverse_relation_is_not_a_column(north, sales_rep):
    with pytest.raises(TypeError, match=r"core.User.depots is not a column"):
        changes_apply(instance=sales_rep, data={"depots": [north]}, editable={"depots"})
    with pytest.raises(TypeError, match=r"core.Depot.staff is not a field of the row itself"):
        values_readable(north, ["staff"])


@pytest.mark.django_db
def test_a_change_the_models_cleaning_undoes_is_no_change(user_factory):
    user = user_factory("ADMIN", email="anne@example.com")

    changes = changes_apply(instance=user, data={"email": "anne@EXAMPLE.COM"}, editable={"email"})

    assert changes == {}
    user.refresh_from_db()
    assert user.email == "anne@example.com"


def test_errors_without_a_code_get_invalid():
    coded = _with_codes(ValidationError([ValidationError("bare"), ValidationError("x", code="k")]))

    assert [(e.message, e.code) for e in coded.error_list] == [("bare", "invalid"), ("x", "k")]
