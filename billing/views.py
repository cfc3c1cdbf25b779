"""Pages of billing outside the field API: the public check of a printed document
(/verify/<number>/<code>/), the admin's downloads of a document's PDFs, and the
"Resend by e-mail" buttons of a sale's, payment's, credit note's and cylinder return's
pages."""

import time
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.services import (
    credit_note_pdf,
    cylinder_return_pdf,
    document_verify,
    invoice_pdf,
    invoice_printed_record,
    receipt_pdf,
    thermal_pdf,
)
from billing.services.layout import money
from billing.services.resend import document_resend
from core.auth import client_ip
from core.models import User
from core.scoping import scope_queryset
from sales.models import CreditNote, CylinderReturn, Payment, Transaction


def _over_rate(request: HttpRequest) -> bool:
    """True when this address asked more than VERIFY_RATE_PER_MINUTE times this minute."""
    key = f"billing-verify:{client_ip(request)}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        count = 1
    return count > settings.VERIFY_RATE_PER_MINUTE


@require_GET
@never_cache
def verify(request: HttpRequest, number: str, code: str) -> HttpResponse:
    """Whether a printed document is genuine: its kind, number, date and total when the
    code matches it, and one "not genuine" page for anything else (an unknown number, a
    wrong code, a total that is not the document's), so nothing is learnt by guessing."""
    if _over_rate(request):
        context = {"limited": True, "company": settings.COMPANY_NAME}
        return render(request, "billing/verify.html", context, status=429)
    document = document_verify(number=number, code=code, total=request.GET.get("total"))
    context = {
        "document": document,
        "company": settings.COMPANY_NAME,
        "total": money(document.total) if document is not None else "",
    }
    status = 200 if document is not None else 404
    return render(request, "billing/verify.html", context, status=status)


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


M = TypeVar("M", bound=models.Model)


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # staff_member_required let only signed-in staff in
        raise PermissionDenied
    return user


def _visible(request: HttpRequest, model: type[M], pk: int, lookup: str) -> M:
    """The document if the signed-in staff member may see it (head office: all; a
    manager: their depots'), else 404; they also need the model's view permission."""
    user = _staff(request)
    opts = model._meta
    if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        raise Http404
    document = scope_queryset(model._default_manager.all(), user, lookup).filter(pk=pk).first()
    if document is None:
        raise Http404
    return document


@staff_member_required
@require_GET
def sale_invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    sale = _visible(request, Transaction, pk, "depot")
    data = invoice_pdf(transaction=sale)
    invoice_printed_record(transaction=sale, actor=_staff(request), format="a4-pdf", via="admin")
    return _pdf(data, f"{sale.number}.pdf")


@staff_member_required
@require_GET
def sale_thermal_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    sale = _visible(request, Transaction, pk, "depot")
    data = thermal_pdf(document=sale)
    invoice_printed_record(
        transaction=sale, actor=_staff(request), format="thermal-pdf", via="admin"
    )
    return _pdf(data, f"{sale.number}-80mm.pdf")


@staff_member_required
@require_GET
def payment_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    payment = _visible(request, Payment, pk, "depot")
    return _pdf(receipt_pdf(payment=payment), f"{payment.number}.pdf")


@staff_member_required
@require_GET
def payment_thermal_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    payment = _visible(request, Payment, pk, "depot")
    return _pdf(thermal_pdf(document=payment), f"{payment.number}-80mm.pdf")


@staff_member_required
@require_GET
def credit_note_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    note = _visible(request, CreditNote, pk, "transaction__depot")
    return _pdf(credit_note_pdf(credit_note=note), f"{note.number}.pdf")


@staff_member_required
@require_GET
def credit_note_thermal_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    note = _visible(request, CreditNote, pk, "transaction__depot")
    return _pdf(thermal_pdf(document=note), f"{note.number}-80mm.pdf")


@staff_member_required
@require_GET
def cylinder_return_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    returned = _visible(request, CylinderReturn, pk, "depot")
    return _pdf(cylinder_return_pdf(cylinder_return=returned), f"{returned.number}.pdf")


def _resend(
    request: HttpRequest, document: Transaction | CreditNote | Payment | CylinderReturn
) -> HttpResponseRedirect:
    """E-mail `document` again (head office: core.resend_outboxmessage) and go back to
    its page, saying what happened or why not."""
    opts = document._meta
    back = redirect(f"admin:{opts.app_label}_{opts.model_name}_change", document.pk)
    if not _staff(request).has_perm("core.resend_outboxmessage"):
        messages.error(request, "E-mails are resent by head office.")
        return back
    try:
        message = document_resend(document=document, actor=_staff(request))
    except (ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
        return back
    messages.success(request, f"{message.number} will be e-mailed to {message.to} now.")
    return back


@staff_member_required
@require_POST
def sale_resend(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    return _resend(request, _visible(request, Transaction, pk, "depot"))


@staff_member_required
@require_POST
def payment_resend(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    return _resend(request, _visible(request, Payment, pk, "depot"))


@staff_member_required
@require_POST
def credit_note_resend(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    return _resend(request, _visible(request, CreditNote, pk, "transaction__depot"))


@staff_member_required
@require_POST
def cylinder_return_resend(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    return _resend(request, _visible(request, CylinderReturn, pk, "depot"))
