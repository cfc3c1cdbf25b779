"""Service lines (installation, a delivery charge): priced and taxed, never stocked, no
empties, no deposit, no holding; refused when asked for empties or when inactive; voided
without a stock move."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditLog
from sales.models import CylinderHolding, Transaction, TransactionLine
from sales.selectors import cylinders_held
from sales.services import deposit_set, sale_post, sale_void, tax_rate_set
from sales.services.lines import sale_lines_parse
from stock.models import Product, ProductKind, StockMovement
from stock.selectors import ledger_differences, stock_on_hand
from stock.services import product_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def install(head_office):
    return product_create(
        code="INSTALL",
        name="Installation",
        kind=ProductKind.SERVICE,
        actor=head_office,
        list_price="1500.00",
    )


@pytest.fixture
def delivery(head_office):
    return product_create(
        code="DELIVERY",
        name="Delivery charge",
        kind=ProductKind.SERVICE,
        actor=head_office,
        list_price="350",
    )


def test_a_service_line_is_priced_and_taxed_and_moves_no_stock(
    cash_customer, loaded_vehicle, products, head_office, install, delivery
):
    tax_rate_set(rate="10", actor=head_office)
    deposit_set(product=products["12.7KG"], amount="1000", actor=head_office)
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[
            {"product": products["12.7KG"], "quantity": 1, "empties_returned": 1},
            {"product": install, "quantity": 1},
            {"product": delivery, "quantity": 2, "empties_returned": 0},
        ],
    )
    lines = {ln.product.code: ln for ln in sale.lines.select_related("product")}
    assert (lines["INSTALL"].rate, lines["INSTALL"].subtotal) == (
        Decimal("1500.00"),
        Decimal("1500.00"),
    )
    assert (lines["DELIVERY"].quantity, lines["DELIVERY"].subtotal) == (2, Decimal("700.00"))
    assert (lines["INSTALL"].empties_returned, lines["INSTALL"].deposit_rate) == (0, 0)
    # Net 3000 + 1500 + 700 = 5200, 10 % tax; no deposit (one cylinder out, one back).
    assert (sale.net_amount, sale.tax_amount) == (Decimal("5200.00"), Decimal("520.00"))
    assert (sale.deposit_amount, sale.total_amount) == (0, Decimal("5720.00"))
    assert sale.cylinders == 1  # the services are not cylinders
    moved = StockMovement.objects.filter(doc_type="sales.transaction", doc_id=sale.pk)
    assert {m.product.code for m in moved} == {"12.7KG"}
    assert not StockLevelOf(install).exists()
    assert not CylinderHolding.objects.filter(product__in=[install, delivery]).exists()
    assert cylinders_held(customer=cash_customer, product=install) == 0
    assert stock_on_hand(product=products["12.7KG"], sales_rep=loaded_vehicle) == 19
    assert list(ledger_differences()) == []


def StockLevelOf(product):
    from stock.models import StockLevel

    return StockLevel.objects.filter(product=product)


def test_a_sale_of_services_only_moves_nothing(cash_customer, loaded_vehicle, install):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": install, "quantity": 3}],
    )
    assert sale.total_amount == Decimal("4500.00")
    assert sale.cylinders == 0
    assert not StockMovement.objects.filter(doc_type="sales.transaction").exists()


def test_a_void_of_a_service_sale_moves_only_the_cylinders(
    cash_customer, loaded_vehicle, products, manager, install
):
    sale = sale_post(
        customer=cash_customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[
            {"product": products["9KG"], "quantity": 2, "empties_returned": 0},
            {"product": install, "quantity": 1},
        ],
    )
    voided = sale_void(transaction=sale, actor=manager, reason="wrong customer")
    assert voided.status == "VOID"
    assert voided.credit_note.amount == sale.total_amount == Decimal("5900.00")
    reversed_ = StockMovement.objects.filter(kind="VOID")
    assert {m.product.code for m in reversed_} == {"9KG"}
    assert stock_on_hand(product=products["9KG"], sales_rep=loaded_vehicle) == 10
    assert cylinders_held(customer=cash_customer, product=products["9KG"]) == 0
    assert not StockLevelOf(install).exists()
    assert list(ledger_differences()) == []


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        ({"quantity": 1, "empties_returned": 1}, "lines[0].empties_returned", "service_no_empties"),
        (
            {"quantity": 1, "empties_returned": "2"},
            "lines[0].empties_returned",
            "service_no_empties",
        ),
        ({"quantity": 0}, "lines[0].quantity", "quantity_too_small"),
        ({"quantity": "1.5"}, "lines[0].quantity", "not_whole_number"),
        (
            {"quantity": 1, "empties_returned": True},
            "lines[0].empties_returned",
            "not_whole_number",
        ),
    ],
)
def test_service_line_refusals(install, line, field, code):
    with pytest.raises(ValidationError) as exc:
        sale_lines_parse([{"product": install, **line}])
    (error,) = exc.value.error_dict["lines"]
    assert error.code == code
    assert error.message.startswith(f"{field}: ")


def test_a_service_line_with_empties_is_refused_by_sale_post_writing_nothing(
    cash_customer, loaded_vehicle, install
):
    before = (Transaction.objects.count(), AuditLog.objects.count())
    with pytest.raises(ValidationError) as exc:
        sale_post(
            customer=cash_customer,
            sales_rep=loaded_vehicle,
            actor=loaded_vehicle,
            lines=[{"product": install, "quantity": 1, "empties_returned": 1}],
        )
    assert exc.value.messages == [
        "lines[0].empties_returned: INSTALL is a service (Installation): it takes back no "
        "empties; leave empties returned empty or 0."
    ]
    assert (Transaction.objects.count(), AuditLog.objects.count()) == before


def test_zero_empties_on_a_service_line_is_accepted(install):
    (parsed,) = sale_lines_parse([{"product": install, "quantity": "2", "empties_returned": "0"}])
    assert (parsed.quantity, parsed.empties_returned) == (2, 0)


def test_an_inactive_service_and_a_metered_product_are_refused(install, products):
    Product.objects.filter(pk=install.pk).update(is_active=False)
    install.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        sale_lines_parse([{"product": install, "quantity": 1}])
    assert [e.code for e in exc.value.error_dict["lines"]] == ["product_inactive"]
    with pytest.raises(ValidationError) as exc:
        sale_lines_parse([{"product": products["BULK"], "quantity": 1}])
    assert [e.code for e in exc.value.error_dict["lines"]] == ["product_not_cylinder"]


def test_a_service_twice_is_refused(install):
    with pytest.raises(ValidationError) as exc:
        sale_lines_parse([{"product": install, "quantity": 1}, {"product": install, "quantity": 2}])
    assert [e.code for e in exc.value.error_dict["lines"]] == ["duplicate_product"]


def test_the_admin_sale_form_takes_service_lines(
    client, manager, cash_customer, loaded_vehicle, products, install, delivery
):
    cyl = products["12.7KG"]
    data = {
        "customer": cash_customer.pk,
        "sales_rep": loaded_vehicle.pk,
        f"qty_{cyl.pk}": 1,
        f"empties_{cyl.pk}": 1,
        f"qty_{install.pk}": 1,
        f"qty_{delivery.pk}": 1,
    }
    client.force_login(manager)
    url = reverse("admin:sales_transaction_add")
    page = client.get(url)
    assert b"Installation (INSTALL)" in page.content
    assert b"Services (priced and taxed, no cylinders move)" in page.content
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    lines = preview.context["preview_lines"]
    assert (
        "1 x Installation (INSTALL) at 1,500.00 = 1,500.00 (a service: no cylinders move)" in lines
    )
    assert "1 x Delivery charge (DELIVERY) at 350.00 = 350.00 (a service: no cylinders move)" in (
        lines
    )
    assert "Total: 4,850.00" in lines
    assert not Transaction.objects.exists()  # the preview posts nothing
    client.post(url, {**data, "_confirm": "1", "_token": preview.context["token"]})
    sale = Transaction.objects.get()
    assert set(TransactionLine.objects.values_list("product__code", flat=True)) == {
        "12.7KG",
        "INSTALL",
        "DELIVERY",
    }
    assert sale.total_amount == Decimal("4850.00")
    assert stock_on_hand(product=cyl, sales_rep=loaded_vehicle) == 19
