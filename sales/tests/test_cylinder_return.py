"""cylinder_return: empties taken back from a customer without a sale (RET-), their
deposit refunded at the average paid; cylinders_held_adjust: a count of what a customer
holds."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditLog
from sales.models import CylinderHolding, CylinderReturn, HoldingEntry
from sales.selectors import customer_balance, cylinders_held, deposit_held
from sales.services import cylinder_return, cylinders_held_adjust, deposit_set, sale_post
from stock.models import StockMovement
from stock.selectors import ledger_differences, stock_on_hand

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def cyl(products):
    return products["12.7KG"]


@pytest.fixture
def holding(credit_customer, loaded_vehicle, cyl, head_office):
    """The credit customer holds 3 12.7KG cylinders, for which they paid 1400.00."""
    deposit_set(product=cyl, amount="400", actor=head_office)
    line = {"product": cyl, "quantity": 1, "empties_returned": 0}
    sale_post(
        customer=credit_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=[line]
    )
    deposit_set(product=cyl, amount="500", actor=head_office)
    line = {"product": cyl, "quantity": 2, "empties_returned": 0}
    sale_post(
        customer=credit_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=[line]
    )
    return credit_customer


def give_back(customer, rep, lines, **kwargs):
    return cylinder_return(customer=customer, sales_rep=rep, actor=rep, lines=lines, **kwargs)


def test_a_return_puts_empties_on_the_vehicle_and_refunds_the_average(holding, loaded_vehicle, cyl):
    balance = customer_balance(customer=holding)
    returned = give_back(holding, loaded_vehicle, [{"product": cyl, "quantity": 2}])
    assert returned.number.startswith("RET-")
    assert returned.number.endswith("-000001")
    assert (returned.refund_amount, returned.refund_to) == (D("933.33"), "ACCOUNT")
    line = returned.lines.get()
    assert (line.product, line.quantity, line.refund) == (cyl, 2, D("933.33"))
    assert stock_on_hand(product=cyl, state="EMPTY", sales_rep=loaded_vehicle) == 2
    assert (cylinders_held(customer=holding, product=cyl), deposit_held(customer=holding)) == (
        1,
        D("466.67"),
    )
    assert customer_balance(customer=holding) == balance - D("933.33")
    movement = StockMovement.objects.get(kind="CUSTOMER_RETURN")
    assert (movement.doc_id, movement.reference, movement.quantity) == (
        returned.pk,
        returned.number,
        2,
    )
    entry = HoldingEntry.objects.get(kind="RETURN")
    assert (entry.quantity, entry.deposit, entry.refund_to, entry.sales_rep) == (
        -2,
        D("-933.33"),
        "ACCOUNT",
        loaded_vehicle,
    )
    assert list(ledger_differences()) == []
    audit = AuditLog.objects.get(action="cylinder_return")
    assert (audit.data["number"], audit.data["refund"]) == (returned.number, "933.33")

    last = give_back(holding, loaded_vehicle, [{"product": cyl, "quantity": 1}])
    assert last.refund_amount == D("466.67")  # the rest: never more than was paid
    assert deposit_held(customer=holding) == 0


def test_a_cash_customers_refund_is_paid_out_in_cash(
    cash_customer, loaded_vehicle, cyl, head_office
):
    deposit_set(product=cyl, amount="500", actor=head_office)
    line = {"product": cyl, "quantity": 2, "empties_returned": 0}
    sale_post(customer=cash_customer, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=[line])
    returned = give_back(cash_customer, loaded_vehicle, [{"product": cyl, "quantity": 1}])
    assert (returned.refund_amount, returned.refund_to) == (D("500.00"), "CASH")
    assert HoldingEntry.objects.get(kind="RETURN").refund_to == "CASH"
    assert customer_balance(customer=cash_customer) == 0


def test_an_exempt_customers_return_refunds_nothing(
    customer_factory, loaded_vehicle, cyl, head_office
):
    owner = customer_factory("CREDIT", deposit_exempt=True)
    deposit_set(product=cyl, amount="500", actor=head_office)
    line = {"product": cyl, "quantity": 2, "empties_returned": 0}
    sale_post(customer=owner, sales_rep=loaded_vehicle, actor=loaded_vehicle, lines=[line])
    returned = give_back(owner, loaded_vehicle, [{"product": cyl, "quantity": 2}])
    assert (returned.refund_amount, returned.refund_to) == (0, "")
    assert cylinders_held(customer=owner, product=cyl) == 0


def _nothing_written(before):
    assert _counts() == before


def _counts():
    return (
        CylinderReturn.objects.count(),
        HoldingEntry.objects.count(),
        StockMovement.objects.count(),
    )


def test_returning_more_than_held_is_refused_whole(holding, loaded_vehicle, cyl, products):
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        give_back(
            holding,
            loaded_vehicle,
            [{"product": cyl, "quantity": 1}, {"product": products["9KG"], "quantity": 1}],
        )
    error = exc.value.error_dict["lines[1].quantity"][0]
    assert error.code == "more_than_held"
    assert error.messages[0] == "Customer C001 holds 0 9KG cylinders; 1 cannot be taken back."
    _nothing_written(before)
    with pytest.raises(ValidationError) as exc:
        give_back(holding, loaded_vehicle, [{"product": cyl, "quantity": 4}])
    assert "holds 3 12.7KG cylinders; 4 cannot be taken back" in exc.value.messages[0]
    _nothing_written(before)
    assert cylinders_held(customer=holding, product=cyl) == 3


@pytest.mark.parametrize(
    ("lines", "field", "code"),
    [
        ([], "lines", "empty_return"),
        ([{"product": "12.7KG", "quantity": 1}], "lines[0].product", "product_required"),
        ([{"product": "BULK", "quantity": 1}], "lines[0].product", "product_not_cylinder"),
        ([{"product": "12.7KG", "quantity": 0}], "lines[0].quantity", "quantity_too_small"),
        ([{"product": "12.7KG", "quantity": "1.0"}], "lines[0].quantity", "not_whole_number"),
        (
            [{"product": "12.7KG", "quantity": 1}, {"product": "12.7KG", "quantity": 1}],
            "lines[1].product",
            "duplicate_product",
        ),
    ],
)
def test_bad_lines_are_refused_by_field(holding, loaded_vehicle, products, lines, field, code):
    given = []
    for index, line in enumerate(lines):
        named = line["product"]
        # the product_required case sends the code as text; the others the row
        as_row = not (code == "product_required" and index == 0)
        given.append({**line, "product": products[named] if as_row else named})
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        give_back(holding, loaded_vehicle, given)
    assert exc.value.error_dict[field][0].code == code
    _nothing_written(before)


def test_a_customer_of_another_depot_is_refused(
    customer_factory, loaded_vehicle, products, depot_factory
):
    elsewhere = customer_factory("CASH", depot=depot_factory("EAST"))
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        give_back(elsewhere, loaded_vehicle, [{"product": products["12.7KG"], "quantity": 1}])
    assert exc.value.error_dict["customer"][0].code == "customer_other_depot"
    _nothing_written(before)


def test_an_idempotency_key_returns_once(holding, loaded_vehicle, cyl):
    lines = [{"product": cyl, "quantity": 1}]
    first = give_back(holding, loaded_vehicle, lines, idempotency_key="k-1")
    again = give_back(holding, loaded_vehicle, lines, idempotency_key="k-1")
    assert again.pk == first.pk
    assert cylinders_held(customer=holding, product=cyl) == 2
    with pytest.raises(ValidationError) as exc:
        give_back(holding, loaded_vehicle, [{"product": cyl, "quantity": 2}], idempotency_key="k-1")
    assert exc.value.error_dict["idempotency_key"][0].code == "idempotency_key_reused"
    assert CylinderReturn.objects.count() == 1


def test_a_representative_returns_only_as_themselves(
    holding, loaded_vehicle, cyl, user_factory, north
):
    other = user_factory("SALES", depots=[north])
    with pytest.raises(PermissionDenied):
        cylinder_return(
            customer=holding,
            sales_rep=loaded_vehicle,
            actor=other,
            lines=[{"product": cyl, "quantity": 1}],
        )
    assert CylinderReturn.objects.count() == 0


# --- cylinders_held_adjust ---------------------------------------------------------------


def test_head_office_sets_the_count_with_a_reason(holding, cyl, head_office):
    adjusted = cylinders_held_adjust(
        customer=holding, product=cyl, counted=5, reason="counted on site", actor=head_office
    )
    assert (adjusted.quantity, adjusted.deposit_held) == (5, D("1400.00"))  # no money moves
    entry = HoldingEntry.objects.get(kind="ADJUSTMENT")
    assert (entry.quantity, entry.deposit, entry.note, entry.actor) == (
        2,
        0,
        "counted on site",
        head_office,
    )
    audit = AuditLog.objects.get(action="cylinders_held_adjust")
    assert (audit.data["before"], audit.data["counted"]) == (3, 5)


def test_an_opening_count_creates_the_holding(cash_customer, products, head_office):
    adjusted = cylinders_held_adjust(
        customer=cash_customer,
        product=products["9KG"],
        counted=4,
        reason="opening count",
        actor=head_office,
    )
    assert CylinderHolding.objects.get().pk == adjusted.pk
    assert cylinders_held(customer=cash_customer, product=products["9KG"]) == 4


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"reason": "  "}, "reason", "required"),
        ({"counted": -1}, "counted", "quantity_too_small"),
        ({"product": "BULK"}, "product", "product_not_cylinder"),
    ],
)
def test_a_bad_count_is_refused_and_writes_nothing(
    holding, cyl, products, head_office, kwargs, field, code
):
    given = {"customer": holding, "product": cyl, "counted": 2, "reason": "count"}
    given.update(kwargs)
    if given["product"] == "BULK":
        given["product"] = products["BULK"]
    entries = HoldingEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        cylinders_held_adjust(actor=head_office, **given)
    assert exc.value.error_dict[field][0].code == code
    assert HoldingEntry.objects.count() == entries


def test_only_head_office_sets_a_count(holding, cyl, manager):
    with pytest.raises(PermissionDenied):
        cylinders_held_adjust(
            customer=holding, product=cyl, counted=1, reason="count", actor=manager
        )
    assert cylinders_held(customer=holding, product=cyl) == 3
