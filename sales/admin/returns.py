"""Cylinder returns (RET-): the list (managers see their depots'), recording one with the
confirming preview of the other posting forms, and the read-only page of one: its lines,
the deposit refunded and where the refund went."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.urls import reverse
from django.utils.html import format_html

from core.admin_flow import CappedCountPaginator, confirm_and_post
from core.admin_mixins import DepotScopedAdminMixin
from core.display import moment, money, quantity
from core.models import AuditLog
from sales import services
from sales.admin.document_pages import MomentsShown, email_rows, moment_fields
from sales.delivery_status import document_delivery
from sales.forms_custody import CylinderReturnForm, line_errors_on_fields
from sales.models import CylinderReturn, RefundTo, Transaction
from sales.selectors import customer_balance
from stock.admin_pages import Cell, Panel, admin_url, audit_link, num, product_cell


def _return_record(**kwargs):
    """sales.services.cylinder_return, its refusal of a line shown on that line's field."""
    try:
        return services.cylinder_return(**kwargs)
    except ValidationError as exc:
        raise line_errors_on_fields(exc, kwargs["lines"]) from None


def _refund_words(returned: CylinderReturn) -> str:
    if not returned.refund_amount:
        return "No deposit refunded (none was held on these cylinders)."
    where = {
        RefundTo.ACCOUNT: "credited to the customer's account",
        RefundTo.CASH: f"paid out in cash by {returned.sales_rep.username}",
    }.get(returned.refund_to, "")
    return f"{money(returned.refund_amount)} deposit refunded, {where}."


def return_panels(returned: CylinderReturn) -> list[Panel]:
    """The cylinders taken back with the deposit refunded on each, and the documents
    around it: the customer, the sales its refund settled (from its audit entry), the
    receipt. A fixed number of queries whatever its size."""
    lines = list(returned.lines.select_related("product").order_by("id"))
    rows = [
        [
            product_cell(line.product),
            num(line.quantity),
            Cell(money(line.refund / line.quantity) if line.quantity else "", num=True),
            Cell(money(line.refund), num=True),
        ]
        for line in lines
    ]
    return [
        Panel(
            title="Empty cylinders taken back",
            headers=["Product", "Empty cylinders", "Deposit each", "Deposit refunded"],
            rows=rows,
            foot=[
                Cell("Total"),
                num(sum(line.quantity for line in lines)),
                Cell(""),
                Cell(money(returned.refund_amount), num=True),
            ],
            empty="No lines.",
        ),
        Panel(
            title="Related documents",
            headers=["Document", "What"],
            rows=_return_related(returned),
            foot=[audit_link(returned.number), Cell("")],
            slug="related",
        ),
    ]


def _return_related(returned: CylinderReturn) -> list[list[Cell]]:
    customer = returned.customer
    rows = [
        [
            Cell(
                f"{customer.code} {customer.name}", admin_url("sales_customer_change", customer.pk)
            ),
            Cell("The customer: balance, cylinders held and deposits"),
        ]
    ]
    entry = (
        AuditLog.objects.filter(object_type=returned._meta.label_lower, object_id=str(returned.pk))
        .order_by("seq")
        .values_list("data", flat=True)
        .first()
    )
    settled = {s["sale"]: s["amount"] for s in (entry or {}).get("settled") or []}
    for sale in Transaction.objects.filter(number__in=settled).order_by("id"):
        rows.append(
            [
                Cell(sale.number, admin_url("sales_transaction_change", sale.pk)),
                Cell(f"Sale settled by the refund: {money(settled[sale.number])}"),
            ]
        )
    return rows


@admin.register(CylinderReturn)
class CylinderReturnAdmin(MomentsShown, DepotScopedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "happened", "customer", "rep", "cylinders", "refund_listed")
    list_filter = ("refund_to", "depot", "created_at")
    search_fields = ("=number", "=customer__code", "customer__name")
    list_select_related = ("customer", "sales_rep", "depot")
    show_full_result_count = False
    paginator = CappedCountPaginator
    raw_id_fields = ("customer",)
    fields = (
        "number",
        "created_at",
        "customer",
        "taken_back_by",
        "depot",
        "cylinders",
        "refund",
        "refund_went",
        "posted_by",
        "receipt",
    )
    readonly_fields = fields

    def get_fields(self, request, obj=None):
        return moment_fields(super().get_fields(request, obj), obj)

    def get_readonly_fields(self, request, obj=None):
        return moment_fields(super().get_readonly_fields(request, obj), obj)

    def get_queryset(self, request):
        # The cylinders of each return in the page's own query (no query per row).
        return super().get_queryset(request).annotate(n_cylinders=Sum("lines__quantity"))

    @admin.display(description="Happened", ordering="occurred_at")
    def happened(self, obj: CylinderReturn) -> str:
        return moment(obj.occurred_at)

    @admin.display(description="Cylinders", ordering="n_cylinders")
    def cylinders(self, obj: CylinderReturn) -> str:
        return quantity(getattr(obj, "n_cylinders", None) or 0)

    @admin.display(description="By", ordering="sales_rep__username")
    def rep(self, obj: CylinderReturn) -> str:
        return obj.sales_rep.username

    @admin.display(description="Taken back by")
    def taken_back_by(self, obj: CylinderReturn) -> str:
        rep = obj.sales_rep
        return (
            f"{rep} (vehicle {rep.vehicle_no or 'without a number'}), onto the vehicle as empties"
        )

    @admin.display(description="Posted by")
    def posted_by(self, obj: CylinderReturn) -> str:
        return str(obj.created_by)

    @admin.display(description="Deposit refunded", ordering="refund_amount")
    def refund_listed(self, obj: CylinderReturn) -> str:
        where = {RefundTo.ACCOUNT: "to the account", RefundTo.CASH: "in cash"}
        if not obj.refund_amount:
            return "none"
        return f"{money(obj.refund_amount)} {where.get(obj.refund_to, '')}".strip()

    @admin.display(description="Deposit refunded", ordering="refund_amount")
    def refund(self, obj: CylinderReturn) -> str:
        return money(obj.refund_amount)

    @admin.display(description="Where the refund went")
    def refund_went(self, obj: CylinderReturn) -> str:
        return _refund_words(obj)

    @admin.display(description="Document")
    def receipt(self, obj: CylinderReturn) -> str:
        return format_html(
            '<a href="{}">Return receipt (PDF)</a>',
            reverse("billing:cylinder_return_pdf", args=[obj.pk]),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The page, with the receipt's e-mails (sent, waiting, failed and why) and head
        office's "Resend by e-mail" (templates/admin/sales/cylinderreturn/)."""
        extra_context = {
            **(extra_context or {}),
            "can_resend": request.user.has_perm("core.resend_outboxmessage"),
        }
        returned = self.get_object(request, unquote(object_id))
        if returned is not None:  # else the admin says it does not exist
            customer = f"{returned.customer.code} {returned.customer.name}"
            never = (
                f"Not e-mailed: {customer} had no e-mail address for documents when it was "
                "posted (or chose paper)."
            )
            delivery = document_delivery(document=returned)
            extra_context["email_rows"] = email_rows(delivery, never=never)
            extra_context["resend_url"] = reverse(
                "billing:cylinder_return_resend", args=[returned.pk]
            )
            extra_context["panels"] = return_panels(returned)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return request.user.has_perm("sales.add_cylinderreturn")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        """A return's number (any case), or a customer's code or part of their name."""
        term = search_term.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        if not term:
            return queryset, False
        return super().get_search_results(request, queryset, term)

    def add_view(self, request, form_url="", extra_context=None):
        def preview(form, returned):
            lines = [
                f"Return from {returned.customer}: taken "
                f"back by {returned.sales_rep.username} (vehicle "
                f"{returned.sales_rep.vehicle_no or '-'}), onto the vehicle as empties."
            ]
            for line in returned.lines.select_related("product").order_by("id"):
                lines.append(
                    f"{line.quantity} x {line.product.code}: deposit refunded {money(line.refund)}."
                )
            lines.append(_refund_words(returned))
            if returned.refund_amount and returned.refund_to == RefundTo.ACCOUNT:
                after = customer_balance(customer=returned.customer)
                lines.append(
                    f"Balance of {returned.customer.code}: "
                    f"{money(after + returned.refund_amount)} -> {money(after)}."
                )
            return lines

        return confirm_and_post(
            request,
            self,
            form_class=CylinderReturnForm,
            title="Record a cylinder return",
            permission="sales.add_cylinderreturn",
            service=_return_record,
            service_kwargs=lambda form: {
                "customer": form.cleaned_data["customer"],
                "sales_rep": form.cleaned_data["sales_rep"],
                "lines": form.lines(),
                "actor": request.user,
            },
            preview=preview,
            preview_in_dry_run=True,
            success=lambda returned: (
                f"{returned.number}: {sum(line.quantity for line in returned.lines.all())} "
                f"cylinders taken back from {returned.customer.code}; "
                f"{money(returned.refund_amount)} deposit refunded.",
                reverse("admin:sales_cylinderreturn_change", args=[returned.pk]),
            ),
        )
