"""A rate-table import's batch: begun by head office, discarded (when nothing was
written under it) by whoever began it or head office, each in a retried transaction."""

import pytest
from django.core.exceptions import PermissionDenied

from sales.models import RateImport
from sales.services.rates import rate_import_begin, rate_import_discard

pytestmark = pytest.mark.django_db


def test_a_sales_representative_may_not_begin_an_import(sales_rep):
    with pytest.raises(PermissionDenied):
        rate_import_begin(file_name="rates.xlsx", actor=sales_rep)
    assert not RateImport.objects.exists()


def test_discard_names_its_actor_and_checks_them(head_office, manager, user_factory):
    batch = rate_import_begin(file_name="rates.xlsx", actor=head_office)
    with pytest.raises(TypeError):
        rate_import_discard(batch=batch)  # type: ignore[call-arg]
    with pytest.raises(PermissionDenied):
        rate_import_discard(batch=batch, actor=manager)
    assert RateImport.objects.filter(pk=batch.pk).exists()
    colleague = user_factory("ADMIN", username="colleague")
    assert rate_import_discard(batch=batch, actor=colleague) is True
    assert not RateImport.objects.filter(pk=batch.pk).exists()


def test_whoever_began_it_discards_it(head_office):
    batch = rate_import_begin(file_name="rates.xlsx", actor=head_office)
    assert rate_import_discard(batch=batch, actor=head_office) is True


def test_both_run_in_a_retried_transaction():
    from core import db

    for service in (rate_import_begin, rate_import_discard):
        assert service.__code__ is db.atomic_with_retry(lambda: None).__code__
