from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditLog
from sales.models import Rate
from sales.selectors import rate_in_force
from sales.services import rate_set

pytestmark = pytest.mark.django_db


def test_versions_and_the_rate_in_force(cash_customer, products, head_office):
    cyl = products["12.7KG"]
    start = timezone.now()
    rate_set(
        customer=cash_customer,
        product=cyl,
        rate="3100.00",
        actor=head_office,
        effective_from=start + timedelta(days=10),
    )
    assert rate_in_force(customer=cash_customer, product=cyl) == Decimal("3000.00")
    assert rate_in_force(
        customer=cash_customer, product=cyl, at=start + timedelta(days=11)
    ) == Decimal("3100.00")
    assert Rate.objects.filter(customer=cash_customer, product=cyl).count() == 2


def test_later_created_wins_a_tie(cash_customer, products, head_office):
    cyl = products["12.7KG"]
    day = timezone.localdate() + timedelta(days=7)
    rate_set(
        customer=cash_customer, product=cyl, rate="1.00", actor=head_office, effective_from=day
    )
    rate_set(
        customer=cash_customer, product=cyl, rate="2.00", actor=head_office, effective_from=day
    )
    at = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    at += timedelta(hours=9)
    assert rate_in_force(customer=cash_customer, product=cyl, at=at) == Decimal("2.00")


def test_rate_set_is_audited_with_the_previous_rate(cash_customer, products, head_office):
    rate_set(customer=cash_customer, product=products["9KG"], rate="2300", actor=head_office)
    entry = AuditLog.objects.filter(action="rate_set").latest("id")
    assert (entry.data["rate"], entry.data["previous"]) == ("2300.00", "2200.00")


@pytest.mark.parametrize(
    ("rate", "text"),
    [("-1", "0 or more"), ("x", "Enter an amount"), ("1.234", "two decimal places")],
)
def test_bad_rates_are_refused(cash_customer, products, head_office, rate, text):
    before = Rate.objects.count()
    with pytest.raises(ValidationError) as exc:
        rate_set(customer=cash_customer, product=products["9KG"], rate=rate, actor=head_office)
    assert text in exc.value.message_dict["rate"][0]
    assert Rate.objects.count() == before


def test_sales_reps_and_other_depots_cannot_set_rates(
    customer_factory, products, sales_rep, user_factory, south
):
    customer = customer_factory()
    with pytest.raises(PermissionDenied):
        rate_set(customer=customer, product=products["9KG"], rate="1", actor=sales_rep)
    south_manager = user_factory("MANAGER", depots=[south])
    with pytest.raises(PermissionDenied):
        rate_set(customer=customer, product=products["9KG"], rate="1", actor=south_manager)


@pytest.mark.parametrize("when", [date(1, 1, 1), date(1999, 12, 31), date(2099, 1, 1)])
def test_effective_dates_out_of_range_are_refused(cash_customer, products, head_office, when):
    with pytest.raises(ValidationError) as exc:
        rate_set(
            customer=cash_customer,
            product=products["9KG"],
            rate="1",
            actor=head_office,
            effective_from=when,
        )
    assert "Enter a date between 2000-01-01" in exc.value.message_dict["effective_from"][0]


def test_today_means_now(cash_customer, products, head_office):
    version = rate_set(
        customer=cash_customer,
        product=products["9KG"],
        rate="2500",
        actor=head_office,
        effective_from=timezone.localdate(),
    )
    assert rate_in_force(customer=cash_customer, product=products["9KG"]) == Decimal("2500.00")
    assert version.effective_from <= timezone.now()


def test_a_version_that_would_never_apply_is_refused(cash_customer, products, head_office):
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        rate_set(
            customer=cash_customer,
            product=products["9KG"],
            rate="1",
            actor=head_office,
            effective_from=yesterday,
        )
    assert "would never apply" in exc.value.message_dict["effective_from"][0]
