"""Sales tax (#15): the arithmetic (tax_compute), the rate versions (tax_rate_set and
tax_rate_in_force), and what sale_post stores."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from core.models import AuditLog
from sales.models import TaxRate, Transaction
from sales.selectors import customer_balance, tax_rate_in_force
from sales.services import sale_post, tax_compute, tax_rate_set

CENT = Decimal("0.01")

amounts = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2)
rates = st.decimals(min_value=0, max_value=100, places=2)


def half_up(value: Fraction) -> Decimal:
    """value rounded half-up to cents, computed exactly (no Decimal context involved)."""
    cents = value * 100
    whole = cents.numerator // cents.denominator
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole) / 100


# --- tax_compute ------------------------------------------------------------------------


@given(subtotal=amounts, rate=rates, inclusive=st.booleans())
def test_net_plus_tax_is_the_total_and_tax_is_never_negative(subtotal, rate, inclusive):
    net, tax, total = tax_compute(subtotal=subtotal, rate=rate, prices_include_tax=inclusive)
    assert net + tax == total
    assert Decimal(0) <= tax <= total
    assert net >= 0
    assert all(value == value.quantize(CENT) for value in (net, tax, total))
    assert (total if inclusive else net) == subtotal


@given(subtotal=amounts, rate=rates)
def test_prices_net_of_tax_add_the_tax_rounded_half_up(subtotal, rate):
    net, tax, total = tax_compute(subtotal=subtotal, rate=rate, prices_include_tax=False)
    assert tax == half_up(Fraction(subtotal) * Fraction(rate) / 100)
    assert (net, total) == (subtotal, subtotal + tax)


@given(gross=amounts, rate=rates)
def test_prices_including_tax_take_the_tax_out_rounded_half_up(gross, rate):
    net, tax, total = tax_compute(subtotal=gross, rate=rate, prices_include_tax=True)
    assert tax == half_up(Fraction(gross) * Fraction(rate) / (100 + Fraction(rate)))
    assert (net, total) == (gross - tax, gross)


@given(net=amounts, rate=rates)
def test_inclusive_and_exclusive_agree_within_a_cent(net, rate):
    """The gross of a net price, taken back apart, gives the net again within a cent."""
    _, _, gross = tax_compute(subtotal=net, rate=rate, prices_include_tax=False)
    back, _, _ = tax_compute(subtotal=gross, rate=rate, prices_include_tax=True)
    assert abs(back - net) <= CENT


@pytest.mark.parametrize(
    ("subtotal", "rate", "inclusive", "expected"),
    [
        ("0.10", "5", False, ("0.10", "0.01", "0.11")),  # 0.005 rounds up
        ("1.00", "0.50", False, ("1.00", "0.01", "1.01")),  # 0.005 rounds up
        ("0.09", "5", False, ("0.09", "0.00", "0.09")),  # 0.0045 rounds down
        ("6000.00", "17.50", False, ("6000.00", "1050.00", "7050.00")),
        ("6000.00", "17.50", True, ("5106.38", "893.62", "6000.00")),  # 893.617...
        ("1.05", "5", True, ("1.00", "0.05", "1.05")),
        ("123.45", "0", True, ("123.45", "0.00", "123.45")),
        ("0.00", "100", False, ("0.00", "0.00", "0.00")),
        ("10.00", "100", True, ("5.00", "5.00", "10.00")),
    ],
)
def test_tax_compute_examples(subtotal, rate, inclusive, expected):
    result = tax_compute(
        subtotal=Decimal(subtotal), rate=Decimal(rate), prices_include_tax=inclusive
    )
    assert result == tuple(Decimal(value) for value in expected)


@pytest.mark.parametrize(("subtotal", "rate"), [("-0.01", "10"), ("1", "-1"), ("1", "100.01")])
def test_tax_compute_refuses_what_no_sale_has(subtotal, rate):
    with pytest.raises(ValueError, match=r"never negative|percentage from 0 to 100"):
        tax_compute(subtotal=Decimal(subtotal), rate=Decimal(rate), prices_include_tax=False)


# --- tax_rate_set and tax_rate_in_force ------------------------------------------------


def written():
    return TaxRate.objects.count(), AuditLog.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rate", "code"),
    [("-0.01", "amount_too_small"), ("100.01", "amount_too_large"), ("12,5", "not_an_amount")],
)
def test_a_rate_outside_0_to_100_is_refused_on_its_field(head_office, rate, code):
    before = written()
    with pytest.raises(ValidationError) as refused:
        tax_rate_set(rate=rate, actor=head_office)
    assert refused.value.error_dict["rate"][0].code == code
    assert written() == before


@pytest.mark.django_db
def test_a_rate_from_before_a_posted_sale_is_refused(
    head_office, cash_customer, loaded_vehicle, products
):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 1}],
    )
    before = written()
    yesterday = timezone.localdate() - timedelta(days=1)
    for effective_from in (yesterday, sale.created_at - timedelta(seconds=1)):
        with pytest.raises(ValidationError) as refused:
            tax_rate_set(rate="10", actor=head_office, effective_from=effective_from)
        error = refused.value.error_dict["effective_from"][0]
        assert error.code == "reprices_history"
        assert "would reprice sales already posted" in error.message
    assert written() == before
    # from the sale's own moment on is allowed: it repriced nothing before it
    assert tax_rate_set(rate="10", actor=head_office, effective_from=sale.created_at)


@pytest.mark.django_db
def test_only_head_office_sets_the_tax_rate(manager, sales_rep):
    for actor in (manager, sales_rep):
        with pytest.raises(PermissionDenied):
            tax_rate_set(rate="10", actor=actor)
    assert written() == (0, 0)


@pytest.mark.django_db
def test_a_version_is_written_with_its_audit_entry(head_office):
    now = timezone.now()
    first = tax_rate_set(rate="15", actor=head_office, at=now)
    assert (first.rate, first.effective_from, first.created_at) == (Decimal("15"), now, now)
    assert first.created_by == head_office
    entry = AuditLog.objects.get(action="tax_rate_set")
    assert entry.data == {"rate": "15.00", "previous": "0", "effective_from": now.isoformat()}
    later = tax_rate_set(rate="17.50", actor=head_office, at=now + timedelta(minutes=1))
    assert AuditLog.objects.filter(action="tax_rate_set").latest("id").data["previous"] == "15.00"
    assert later.effective_from == now + timedelta(minutes=1)


@pytest.mark.django_db
def test_effective_from_a_date_is_the_start_of_that_day(head_office):
    day = timezone.localdate() + timedelta(days=10)
    version = tax_rate_set(rate="18", actor=head_office, effective_from=day)
    assert version.effective_from == timezone.make_aware(datetime.combine(day, time.min))
    today = tax_rate_set(rate="16", actor=head_office, effective_from=timezone.localdate())
    assert today.effective_from == today.created_at  # "from today" means from now


@pytest.mark.django_db
def test_a_bad_effective_date_is_refused_on_its_field(head_office):
    for value, code in (("soon", "invalid_date"), (date(1999, 12, 31), "date_out_of_range")):
        with pytest.raises(ValidationError) as refused:
            tax_rate_set(rate="10", actor=head_office, effective_from=value)
        assert refused.value.error_dict["effective_from"][0].code == code
    assert written() == (0, 0)


@pytest.mark.django_db
def test_tax_rate_in_force(head_office):
    now = timezone.now()
    assert tax_rate_in_force() == Decimal("0")  # none yet
    tax_rate_set(rate="10", actor=head_office, at=now)
    tax_rate_set(rate="12", actor=head_office, effective_from=now + timedelta(days=3), at=now)
    assert tax_rate_in_force(at=now - timedelta(seconds=1)) == Decimal("0")
    assert tax_rate_in_force(at=now) == Decimal("10")
    assert tax_rate_in_force() == Decimal("10")
    assert tax_rate_in_force(at=now + timedelta(days=3)) == Decimal("12")
    # same moment: the version written later wins
    tax_rate_set(rate="11", actor=head_office, effective_from=now + timedelta(days=3), at=now)
    assert tax_rate_in_force(at=now + timedelta(days=4)) == Decimal("11")


@pytest.mark.django_db
def test_versions_are_never_changed(head_office):
    from core.append_only import AppendOnlyError

    version = tax_rate_set(rate="10", actor=head_office)
    version.rate = Decimal("11")
    with pytest.raises(AppendOnlyError):
        version.save()
    with pytest.raises(AppendOnlyError):
        TaxRate.objects.all().delete()


# --- sale_post ---------------------------------------------------------------------------


def _sell(customer, rep, product, quantity=2):
    return sale_post(
        customer=customer,
        sales_rep=rep,
        actor=rep,
        lines=[{"product": product, "quantity": quantity}],
    )


def _figures(sale):
    return sale.net_amount, sale.tax_rate, sale.tax_amount, sale.total_amount


@pytest.mark.django_db
def test_a_sale_without_a_tax_rate_has_no_tax(cash_customer, loaded_vehicle, products):
    sale = _sell(cash_customer, loaded_vehicle, products["12.7KG"])
    money = Decimal("6000.00")
    assert _figures(sale) == (money, Decimal("0"), Decimal("0"), money)


@pytest.mark.django_db
def test_prices_net_of_tax_add_it(head_office, cash_customer, loaded_vehicle, products, settings):
    settings.PRICES_INCLUDE_TAX = False
    tax_rate_set(rate="17.50", actor=head_office)
    sale = _sell(cash_customer, loaded_vehicle, products["12.7KG"])
    sale.refresh_from_db()
    expected = (Decimal("6000.00"), Decimal("17.50"), Decimal("1050.00"), Decimal("7050.00"))
    assert _figures(sale) == expected
    assert (sale.amount_paid, sale.is_paid) == (Decimal("7050.00"), True)
    data = AuditLog.objects.get(action="sale_post").data
    assert (data["net"], data["tax_rate"], data["tax"], data["total"]) == (
        "6000.00",
        "17.50",
        "1050.00",
        "7050.00",
    )


@pytest.mark.django_db
def test_prices_including_tax_take_it_out(
    head_office, cash_customer, loaded_vehicle, products, settings
):
    settings.PRICES_INCLUDE_TAX = True
    tax_rate_set(rate="17.50", actor=head_office)
    sale = _sell(cash_customer, loaded_vehicle, products["12.7KG"])
    sale.refresh_from_db()
    expected = (Decimal("5106.38"), Decimal("17.50"), Decimal("893.62"), Decimal("6000.00"))
    assert _figures(sale) == expected


@pytest.mark.django_db
def test_tax_is_once_per_sale_on_lines_and_meter(
    head_office, cash_customer, loaded_vehicle, products
):
    """Per document: 1 x 12.7KG (3000) + 1 x 9KG (2200) + 4.1 units of bulk gas at 250
    (1025) = 6225.00 at 7.25 % = 451.3125 -> 451.31."""
    tax_rate_set(rate="7.25", actor=head_office)
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[
            {"product": products["12.7KG"], "quantity": 1},
            {"product": products["9KG"], "quantity": 1},
        ],
        meter_reading="4.10",
    )
    assert _figures(sale) == (
        Decimal("6225.00"),
        Decimal("7.25"),
        Decimal("451.31"),
        Decimal("6676.31"),
    )


@pytest.mark.django_db
def test_each_sale_keeps_the_rate_in_force_when_it_was_posted(
    head_office, cash_customer, loaded_vehicle, products
):
    tax_rate_set(rate="10", actor=head_office)
    first = _sell(cash_customer, loaded_vehicle, products["12.7KG"])
    tax_rate_set(rate="20", actor=head_office)
    second = _sell(cash_customer, loaded_vehicle, products["12.7KG"])
    tax_rate_set(rate="5", actor=head_office)  # later again: neither sale changes
    first.refresh_from_db()
    second.refresh_from_db()
    assert _figures(first) == (
        Decimal("6000.00"),
        Decimal("10.00"),
        Decimal("600.00"),
        Decimal("6600.00"),
    )
    assert _figures(second) == (
        Decimal("6000.00"),
        Decimal("20.00"),
        Decimal("1200.00"),
        Decimal("7200.00"),
    )


@pytest.mark.django_db
def test_a_sale_at_a_moment_uses_the_rate_in_force_then(
    head_office, cash_customer, loaded_vehicle, products
):
    now = timezone.now()
    tax_rate_set(rate="10", actor=head_office, at=now - timedelta(hours=1))
    tax_rate_set(rate="20", actor=head_office, effective_from=now + timedelta(hours=1), at=now)
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
        at=now,
    )
    assert (sale.tax_rate, sale.tax_amount) == (Decimal("10"), Decimal("220.00"))


@pytest.mark.django_db
def test_the_credit_limit_counts_the_tax(head_office, credit_customer, loaded_vehicle, products):
    """18,000.00 net is within the 20,000.00 limit; with 17.5 % tax (21,150.00) it is not."""
    tax_rate_set(rate="17.50", actor=head_office)
    before = Transaction.objects.count()
    with pytest.raises(ValidationError) as refused:
        _sell(credit_customer, loaded_vehicle, products["12.7KG"], quantity=6)
    assert refused.value.error_dict["customer"][0].code == "credit_limit"
    assert "21,150.00" in refused.value.error_dict["customer"][0].message
    assert Transaction.objects.count() == before
    sale = _sell(credit_customer, loaded_vehicle, products["12.7KG"], quantity=5)
    assert sale.total_amount == Decimal("17625.00")
    assert customer_balance(customer=credit_customer) == Decimal("17625.00")
