"""The cylinder custody screens that post: dispatch of empties to the filling plant,
write-off, transfer between depots, a representative's load sheet and the count sheet.
Each is a fill-in / preview / confirm screen (core.admin_flow.confirm_and_post) calling
one stock service; stock.admin and stock.admin_documents route to them."""

import re
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse

from core.admin_flow import confirm_and_post
from core.display import quantity as g
from stock import services
from stock.forms_custody import (
    CountPlaceForm,
    CountSheetForm,
    DispatchForm,
    LoadSheetForm,
    TransferForm,
    WriteOffForm,
)
from stock.models import DistributionKind, StockState, WriteOffCause
from stock.selectors import stock_on_hand

_LINE_KEY = re.compile(r"lines\[(\d+)\](?:\.(\w+))?")


def rows_keyed(service: Callable, line_field: Callable[[dict, str], str | None]) -> Callable:
    """The service, with its refusals of `lines[i].<field>` moved to the form's row of
    that line (so "Only 3 full 12.7KG at depot NORTH" stands under the 12.7KG box)."""

    def call(**kwargs):
        try:
            return service(**kwargs)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            lines = list(kwargs.get("lines") or ())
            keyed: dict[str, list] = {}
            for key, errors in exc.error_dict.items():
                match = _LINE_KEY.fullmatch(key)
                if match and int(match[1]) < len(lines):
                    key = line_field(lines[int(match[1])], match[2] or "") or key
                keyed.setdefault(key, []).extend(errors)
            raise ValidationError(keyed) from exc

    return call


def _place(depot, sales_rep) -> str:
    if sales_rep is not None:
        return f"vehicle {sales_rep.vehicle_no or 'without a number'} ({sales_rep.username})"
    return f"depot {depot.code}"


def _state(state: str) -> str:
    return StockState(state).label.lower()


def dispatch_view(model_admin, request):
    def preview(form, movement):
        d = form.cleaned_data
        now = stock_on_hand(product=d["product"], state=StockState.EMPTY, depot=d["depot"])
        return [
            f"Send {g(d['quantity'])} empty {d['product'].code} cylinders from depot "
            f"{d['depot'].code} to the filling plant, delivery note {d['reference']}.",
            f"Empty {d['product'].code} at {d['depot'].code}: "
            f"{g(now)} -> {g(now - d['quantity'])}.",
        ]

    return confirm_and_post(
        request,
        model_admin,
        form_class=DispatchForm,
        title="Dispatch empties to the filling plant",
        permission="stock.dispatch_empties",
        service=services.empties_dispatch,
        service_kwargs=lambda form: {**form.cleaned_data, "actor": request.user},
        preview=preview,
        success=lambda m: (
            f"Dispatched {g(m.quantity)} empty {m.product.code} from depot {m.depot.code} to the "
            f"filling plant (delivery note {m.reference}).",
            reverse("admin:stock_stockmovement_changelist")
            + f"?kind__exact=PLANT_DISPATCH&depot__id__exact={m.depot_id}",
        ),
    )


def write_off_view(model_admin, request):
    def kwargs(form):
        d = form.cleaned_data
        return {
            "product": d["product"],
            "state": d["state"],
            "quantity": d["quantity"],
            "cause": d["cause"],
            "reason": d["reason"],
            "depot": d["depot"],
            "sales_rep": d["sales_rep"],
            "actor": request.user,
        }

    def preview(form, movement):
        d = form.cleaned_data
        place = _place(d["depot"], d["sales_rep"])
        now = stock_on_hand(
            product=d["product"], state=d["state"], depot=d["depot"], sales_rep=d["sales_rep"]
        )
        code, state, quantity = d["product"].code, _state(d["state"]), d["quantity"]
        return [
            f"Write off {g(quantity)} {state} {code} cylinders on {place}: "
            f"{WriteOffCause(d['cause']).label.lower()}.",
            f"{state.capitalize()} {code} on {place}: {g(now)} -> {g(now - quantity)}.",
            f"Reason: {d['reason']}",
        ]

    return confirm_and_post(
        request,
        model_admin,
        form_class=WriteOffForm,
        title="Write off damaged, lost or condemned cylinders",
        permission="stock.write_off_stock",
        service=services.stock_write_off,
        service_kwargs=kwargs,
        preview=preview,
        success=lambda m: (
            f"Wrote off {g(m.quantity)} {_state(m.state)} {m.product.code} on "
            f"{_place(m.depot, m.sales_rep)}.",
            reverse("admin:stock_stockmovement_changelist") + "?kind__exact=WRITE_OFF",
        ),
    )


def transfer_view(model_admin, request):
    def kwargs(form):
        d = form.cleaned_data
        return {
            "from_depot": d["from_depot"],
            "to_depot": d["to_depot"],
            "state": d["state"],
            "reference": d["reference"],
            "lines": form.lines(),
            "actor": request.user,
        }

    def preview(form, transfer):
        d = form.cleaned_data
        source, target, state = d["from_depot"], d["to_depot"], d["state"]
        shown = [
            f"Transfer of {_state(state)} cylinders from depot {source.code} to depot "
            f"{target.code}" + (f", reference {d['reference']}." if d["reference"] else ".")
        ]
        for line in form.lines():
            product, quantity = line["product"], line["quantity"]
            leaving = stock_on_hand(product=product, state=state, depot=source)
            arriving = stock_on_hand(product=product, state=state, depot=target)
            shown.append(
                f"{g(quantity)} {product.code}: "
                f"{source.code} {g(leaving)} -> {g(leaving - quantity)}; "
                f"{target.code} {g(arriving)} -> {g(arriving + quantity)}."
            )
        total = sum(line["quantity"] for line in form.lines())
        shown.append(f"{g(total)} cylinders leave {source.code} and arrive at {target.code}.")
        return shown

    return confirm_and_post(
        request,
        model_admin,
        form_class=TransferForm,
        title="Transfer cylinders between depots",
        template="admin/stock/product_rows_form.html",
        permission="stock.transfer_stock",
        service=rows_keyed(services.stock_transfer, TransferForm.line_field),
        service_kwargs=kwargs,
        preview=preview,
        success=lambda t: (
            f"{t.number} posted: {_state(t.state)} cylinders from depot {t.from_depot.code} "
            f"to depot {t.to_depot.code}.",
            reverse("admin:stock_transfer_change", args=[t.pk]),
        ),
    )


def load_sheet_view(model_admin, request):
    def kwargs(form):
        d = form.cleaned_data
        return {
            "sales_rep": d["sales_rep"],
            "depot": d["sales_rep"].home_depot,
            "kind": d["kind"],
            "lines": form.lines(),
            "actor": request.user,
        }

    def preview(form, distribution):
        d = form.cleaned_data
        rep, flow = d["sales_rep"], DistributionKind(d["kind"])
        depot, vehicle = rep.home_depot, _place(None, rep)
        state = flow.state
        if flow.to_vehicle:
            shown = [f"Morning load: full cylinders from depot {depot.code} onto {vehicle}."]
        else:
            shown = [f"Empty return: empties from {vehicle} to depot {depot.code}."]
        for line in form.lines():
            product, quantity = line["product"], line["quantity"]
            at_depot = stock_on_hand(product=product, state=state, depot=depot)
            on_vehicle = stock_on_hand(product=product, state=state, sales_rep=rep)
            change = quantity if flow.to_vehicle else -quantity
            shown.append(
                f"{g(quantity)} {_state(state)} {product.code}: "
                f"depot {depot.code} {g(at_depot)} -> "
                f"{g(at_depot - change)}; vehicle {g(on_vehicle)} -> {g(on_vehicle + change)}."
            )
        return shown

    return confirm_and_post(
        request,
        model_admin,
        form_class=LoadSheetForm,
        title="Load sheet: a representative's load or empty return",
        template="admin/stock/product_rows_form.html",
        permission="stock.add_distribution",
        service=rows_keyed(services.distribution_post, LoadSheetForm.line_field),
        service_kwargs=kwargs,
        preview=preview,
        success=lambda d: (
            f"{d.distribution_no} posted: {d.get_kind_display().lower()} of {g(d.quantity)} "
            f"cylinders for {d.sales_rep.username}.",
            reverse("admin:stock_distribution_change", args=[d.pk]),
        ),
    )


def count_sheet_view(model_admin, request):
    """First the depot or vehicle to count (a GET form), then its sheet."""
    if not request.user.has_perm("stock.count_stock"):
        raise PermissionDenied
    if request.method != "POST":
        chosen = {k: v for k, v in request.GET.items() if k in ("depot", "sales_rep")}
        place = CountPlaceForm(chosen or None, request=request)
        if not place.is_bound or not place.is_valid():
            context = {
                **model_admin.admin_site.each_context(request),
                "opts": model_admin.model._meta,
                "title": "Count sheet: choose the depot or vehicle",
                "form": place,
                "has_errors": bool(place.errors),
            }
            return TemplateResponse(request, "admin/stock/stockcount/choose_place.html", context)

    # A figure that moved between the preview and the confirm would make the count
    # adjust it back (cancelling, say, a collection posted meanwhile): show the preview
    # again with the new figures instead of posting.
    since = "the sheet was opened"
    if request.method == "POST" and "_confirm" in request.POST:
        check = CountSheetForm(request.POST, request=request)
        if check.is_valid() and check.moved_since_shown():
            again = request.POST.copy()
            del again["_confirm"]
            again["_preview"] = "1"
            request.POST = again
            since = "the preview"

    def kwargs(form):
        d = form.cleaned_data
        return {
            "lines": form.lines(),
            "reason": d["reason"],
            "depot": d["depot"],
            "sales_rep": d["sales_rep"],
            "actor": request.user,
        }

    def preview(form, count):
        lines = list(count.lines.select_related("product"))
        differences = [line for line in lines if line.difference]
        shown = [f"Count sheet of {form.place_label}: {len(lines)} figures counted."]
        for line in differences:
            shown.append(
                f"{_state(line.state).capitalize()} {line.product.code}: the system holds "
                f"{g(line.system_quantity)}; you counted {g(line.counted)}: adjustment of "
                f"{line.difference:+d}."
            )
        if not differences:
            shown.append("No differences: every count matches the system's figure.")
        moved = form.moved_since_shown()
        if moved and since == "the preview":
            shown.insert(
                0,
                "Nothing was posted: the system's figures changed since the preview. "
                "Check the counts again, then confirm.",
            )
        for row, figure in moved:
            shown.append(
                f"Check {_state(row['state'])} {row['product'].code}: the system's figure "
                f"changed from {figure} to {row['system_quantity']} since {since}."
            )
        shown.append(f"Reason: {form.cleaned_data['reason']}")
        form.mark_shown()
        return shown

    return confirm_and_post(
        request,
        model_admin,
        form_class=CountSheetForm,
        title="Count sheet",
        template="admin/stock/stockcount/count_sheet.html",
        permission="stock.count_stock",
        service=rows_keyed(services.stock_count_post, CountSheetForm.line_field),
        service_kwargs=kwargs,
        preview=preview,
        preview_in_dry_run=True,
        success=lambda count: (
            f"{count.number} posted: the count of {_place(count.depot, count.sales_rep)}.",
            reverse("admin:stock_stockcount_change", args=[count.pk]),
        ),
    )
