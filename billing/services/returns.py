"""The cylinder-return receipt (RET-): the empties a representative took back from a
customer without a sale, and the deposit refunded on them (credited to the account, or
paid out in cash), as an A4 PDF and a thermal copy, drawn through the same Document
shape as the invoice and the receipt."""

from billing.services.documents import _base, _when
from billing.services.escpos import escpos_bytes
from billing.services.layout import Column, Document, money
from billing.services.pdf import a4_pdf, roll_pdf
from sales.models import CylinderReturn, RefundTo

RETURN_COLUMNS = (
    Column("Product", 0.5),
    Column("Cylinders", 0.2, "right"),
    Column("Deposit refunded", 0.3, "right"),
)


def cylinder_return_document(*, cylinder_return: CylinderReturn) -> Document:
    """What the return's receipt says: who took back which cylinders, the deposit
    refunded on each product and where the refund went."""
    returned = CylinderReturn.objects.select_related("customer", "sales_rep", "depot").get(
        pk=cylinder_return.pk
    )
    lines = returned.lines.select_related("product").order_by("id")
    rows = tuple((line.product.name, str(line.quantity), money(line.refund)) for line in lines)
    items = tuple((name, f"{quantity} cylinders", refund) for name, quantity, refund in rows)
    facts = [
        ("Representative", str(returned.sales_rep)),
        ("Depot", returned.depot.code),
        ("Cylinders taken back", str(sum(line.quantity for line in lines))),
    ]
    notes: list[str] = []
    if returned.refund_amount and returned.refund_to == RefundTo.ACCOUNT:
        notes.append("The deposit refunded is credited to your account.")
    elif returned.refund_amount and returned.refund_to == RefundTo.CASH:
        notes.append("The deposit refunded was paid to you in cash.")
    elif not returned.refund_amount:
        notes.append("No deposit was held on these cylinders: nothing is refunded.")
    return _base(
        "cylinder_return",
        returned,
        returned.customer,
        date=_when(returned.created_at),
        facts=tuple(facts),
        columns=RETURN_COLUMNS,
        rows=rows,
        items=items,
        totals=(("Deposit refunded", money(returned.refund_amount)),),
        notes=tuple(notes),
    )


def cylinder_return_pdf(*, cylinder_return: CylinderReturn) -> bytes:
    """The cylinder return's receipt as an A4 PDF."""
    return a4_pdf(cylinder_return_document(cylinder_return=cylinder_return))


def cylinder_return_escpos(*, cylinder_return: CylinderReturn, width_mm: int = 80) -> bytes:
    """The cylinder return's receipt as ESC/POS bytes for a 58 or 80 mm printer."""
    return escpos_bytes(
        cylinder_return_document(cylinder_return=cylinder_return), width_mm=width_mm
    )


def cylinder_return_thermal_pdf(*, cylinder_return: CylinderReturn, width_mm: int = 80) -> bytes:
    """The cylinder return's thermal copy as a roll-wide PDF."""
    return roll_pdf(cylinder_return_document(cylinder_return=cylinder_return), width_mm=width_mm)
