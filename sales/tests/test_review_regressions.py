"""Cases found in review, kept so they stay fixed."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sales.models import Rate, RateImport, Transaction
from sales.resources import COLUMNS, RateTableResource
from sales.selectors import rate_in_force
from sales.services import payment_record, rate_import_undo, rate_set, sale_post
from stock.models import StockLevel
from stock.services import stock_adjust

pytestmark = pytest.mark.django_db


def import_rows(user, *rows):
    return RateTableResource().import_data(tablib.Dataset(*rows, headers=COLUMNS), user=user)


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


def test_undo_restores_even_when_a_future_rise_was_set_before(cash_customer, products, head_office):
    nine = products["9KG"]
    rate_set(
        customer=cash_customer,
        product=nine,
        rate="2600",
        actor=head_office,
        effective_from=timezone.localdate() + timedelta(days=20),
    )
    import_rows(head_office, [cash_customer.code, "", "", "9999", "", "", "", "", ""])
    assert rate_in_force(customer=cash_customer, product=nine) == Decimal("9999.00")
    rate_import_undo(batch=RateImport.objects.get(), actor=head_office)
    assert rate_in_force(customer=cash_customer, product=nine) == Decimal("2200.00")
    later = timezone.now() + timedelta(days=21)
    assert rate_in_force(customer=cash_customer, product=nine, at=later) == Decimal("2600.00")


def test_undo_of_a_future_import_then_a_later_change(cash_customer, products, head_office):
    nine = products["9KG"]
    first = (timezone.localdate() + timedelta(days=10)).isoformat()
    import_rows(head_office, [cash_customer.code, "", "", "3000", "", "", "", "", first])
    rate_set(
        customer=cash_customer,
        product=nine,
        rate="3100",
        actor=head_office,
        effective_from=timezone.localdate() + timedelta(days=15),
    )
    rate_import_undo(batch=RateImport.objects.get(), actor=head_office)
    at = timezone.now()
    assert rate_in_force(
        customer=cash_customer, product=nine, at=at + timedelta(days=12)
    ) == Decimal("2200.00")
    assert rate_in_force(
        customer=cash_customer, product=nine, at=at + timedelta(days=16)
    ) == Decimal("3100.00")


def test_a_customer_twice_in_one_file_is_refused(cash_customer, head_office):
    result = import_rows(
        head_office,
        [cash_customer.code, "", "", "3000", "", "", "", "", ""],
        [cash_customer.code, "", "", "3100", "", "", "", "", ""],
    )
    assert result.has_errors()
    assert f"{cash_customer.code} on rows 2, 3" in str(result.base_errors[0].error)
    assert Rate.objects.filter(batch__isnull=False).count() == 0


def test_xlsx_number_cells_with_cents(cash_customer, products, head_office):
    data = tablib.Dataset(headers=COLUMNS)
    data.append([cash_customer.code, "", None, 2300.5, None, None, None, None, None])
    again = tablib.Dataset().load(data.export("xlsx"), format="xlsx")
    result = RateTableResource().import_data(again, user=head_office)
    assert not result.has_validation_errors(), [r.error for r in result.invalid_rows]
    assert rate_in_force(customer=cash_customer, product=products["9KG"]) == Decimal("2300.50")


def test_void_after_the_rep_moved_keeps_the_vehicle_in_its_new_depot(
    cash_customer, loaded_vehicle, products, south, head_office
):
    from sales.services import sale_void

    nine = products["9KG"]
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": nine, "quantity": 1, "empties_returned": 0}],
    )
    for product in (nine, products["12.7KG"]):
        stock_adjust(
            product=product,
            state="FULL",
            counted=0,
            reason="moving",
            actor=head_office,
            sales_rep=loaded_vehicle,
        )
    loaded_vehicle.depots.set([south])
    sale_void(transaction=sale, actor=head_office, reason="late void")
    level = StockLevel.objects.get(sales_rep=loaded_vehicle, product=nine, state="FULL")
    assert (level.depot, level.quantity) == (south, 1)


def test_bulk_void_takes_the_newest_meter_sale_first(client, manager, cash_customer, sales_rep):
    first = sale_post(
        customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="10"
    )
    second = sale_post(
        customer=cash_customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="20"
    )
    client.force_login(manager)
    client.post(
        reverse("admin:sales_transaction_changelist"),
        {
            "action": "void_selected",
            "_selected_action": [first.pk, second.pk],
            "reason": "meter misread",
        },
    )
    assert Transaction.objects.filter(status="VOID").count() == 2


def test_empties_without_a_quantity_is_a_form_error(
    client, manager, cash_customer, loaded_vehicle, products
):
    nine = products["9KG"]
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_transaction_add"),
        {
            "customer": cash_customer.pk,
            "sales_rep": loaded_vehicle.pk,
            f"empties_{nine.pk}": 2,
            "_preview": "1",
        },
    )
    assert "Enter the 9KG cylinders sold" in str(response.context["form"].errors)


def test_cash_customers_pay_at_the_sale(
    cash_customer, credit_customer, loaded_vehicle, products, manager
):
    with pytest.raises(ValidationError, match="pays cash at each sale"):
        payment_record(customer=cash_customer, amount="100", actor=manager)
    # A customer moved from credit to cash still pays off the old credit sales.
    sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["9KG"], "quantity": 1}],
    )
    credit_customer.payment_type = "CASH"
    credit_customer.save()
    assert payment_record(
        customer=credit_customer, amount="2200", actor=manager
    ).allocated == Decimal("2200.00")
