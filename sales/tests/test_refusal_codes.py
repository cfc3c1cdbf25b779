"""Service refusals carry the field at fault and a machine code; the admin's sale form
shows them on that field, or on the form when the field is not one of its own."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sales.services import sale_post
from stock.services import distribution_create

pytestmark = pytest.mark.django_db


def refusal(call):
    with pytest.raises(ValidationError) as exc:
        call()
    [(field, [error])] = exc.value.error_dict.items()
    return field, error.code, error.message


def test_the_services_name_field_and_code(
    credit_customer, loaded_vehicle, products, north, customer_factory
):
    def sell(customer=credit_customer, **kwargs):
        return lambda: sale_post(
            customer=customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, **kwargs
        )

    twelve, nine, fourteen = products["12.7KG"], products["9KG"], products["14KG"]
    assert refusal(sell(lines=[{"product": twelve, "quantity": 21}]))[:2] == (
        "lines[0].quantity",
        "insufficient_stock",
    )
    assert refusal(
        sell(lines=[{"product": nine, "quantity": 1}, {"product": fourteen, "quantity": 1}])
    )[:2] == ("lines[1].product", "no_rate")
    assert refusal(sell(lines=[{"product": twelve, "quantity": 7}]))[:2] == (
        "customer",
        "credit_limit",
    )
    assert refusal(sell())[:2] == ("lines", "empty_sale")
    sale_post(
        customer=credit_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        meter_reading="5",
    )
    assert refusal(sell(meter_reading="5"))[:2] == ("meter_reading", "meter_reading_not_higher")
    no_bulk = customer_factory("CASH", rates={"12.7KG": "3000"})
    assert refusal(sell(customer=no_bulk, meter_reading="1"))[:2] == ("meter_reading", "no_rate")
    field, code, message = refusal(
        lambda: distribution_create(
            sales_rep=loaded_vehicle,
            depot=north,
            product=twelve,
            quantity=5,
            kind="EMPTY_RETURN",
            actor=loaded_vehicle,
        )
    )
    assert (field, code) == ("quantity", "insufficient_stock")
    assert message.startswith("Only 0 empty 12.7KG cylinders on vehicle")


def test_the_sale_form_shows_the_credit_limit_on_the_customer(
    client, manager, credit_customer, loaded_vehicle, products
):
    cyl = products["12.7KG"]
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_transaction_add"),
        {
            "customer": credit_customer.pk,
            "sales_rep": loaded_vehicle.pk,
            f"qty_{cyl.pk}": 7,
            f"empties_{cyl.pk}": 7,
            "_preview": "1",
        },
    )
    assert response.context["stage"] == "entry"
    assert response.context["form"].errors["customer"] == [
        f"This sale (21,000.00) would take customer {credit_customer.code} to 21,000.00, "
        "over the credit limit of 20,000.00."
    ]


def test_the_sale_form_shows_a_line_refusal_on_the_form(
    client, manager, cash_customer, loaded_vehicle, products
):
    fourteen = products["14KG"]  # no rate for it
    client.force_login(manager)
    response = client.post(
        reverse("admin:sales_transaction_add"),
        {
            "customer": cash_customer.pk,
            "sales_rep": loaded_vehicle.pk,
            f"qty_{fourteen.pk}": 1,
            "_preview": "1",
        },
    )
    assert response.context["form"].non_field_errors() == [
        f"No rate for 14KG is in force for customer {cash_customer.code} "
        f"({cash_customer.name}), and 14KG has no list price; set a rate or a list price "
        "before selling."
    ]
