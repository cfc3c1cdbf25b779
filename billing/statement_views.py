"""A customer's statement in the admin: on screen for any period, as a PDF, and by e-mail
(billing.services.statement_issue), reached from the customer's page; and the PDF of a
statement already issued (the statements' list).

Who sees it: staff who may view customers (sales.view_customer), head office for every
customer, a manager for their depots' customers only (anyone else's is "not found"). Who
e-mails it: those who may issue statements (billing.add_customerstatement). A bad period
is shown on the form, naming the field, and nothing is written."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from billing.models import CustomerStatement
from billing.services import statement_build, statement_issue, statement_pdf
from billing.services.statement_issue import statement_email_to
from billing.services.statement_pdf import day_text
from billing.services.statement_pdf import issued_statement_pdf as issued_statement_pdf_bytes
from billing.services.statements import Statement, statement_period_check
from core.models import User
from core.scoping import scope_queryset
from sales.models import Customer, PaymentType

TEMPLATE = "admin/billing/customer_statement.html"
DATE_HELP = "A day, such as 2026-11-30."


def default_period(today: date | None = None) -> tuple[date, date]:
    """What a clerk opening a customer's statement wants first: last month and this one
    so far (from the first day of last month to today), closing on today's balance."""
    today = today or timezone.localdate()
    first_of_this_month = today.replace(day=1)
    return (first_of_this_month - timedelta(days=1)).replace(day=1), today


class StatementPeriodForm(forms.Form):
    """The statement's period; a missing, unreadable or impossible day names its field."""

    date_from = forms.DateField(
        label="From",
        help_text=DATE_HELP,
        error_messages={
            "required": "Give the first day of the statement.",
            "invalid": "The first day is not a date; write it as 2026-11-01.",
        },
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="To",
        help_text=DATE_HELP,
        error_messages={
            "required": "Give the last day of the statement.",
            "invalid": "The last day is not a date; write it as 2026-11-30.",
        },
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            statement_period_check(date_from=cleaned["date_from"], date_to=cleaned["date_to"])
        except ValidationError as refusal:
            for name, errors in refusal.error_dict.items():
                for error in errors:
                    self.add_error(name, error)
        return cleaned

    def period(self) -> tuple[date, date]:
        return self.cleaned_data["date_from"], self.cleaned_data["date_to"]


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # admin_view lets only signed-in staff in
        raise PermissionDenied
    return user


def _customer(request: HttpRequest, pk: int) -> Customer:
    """The customer if the signed-in staff member may see them, else 404 (403 for someone
    who may not view customers at all)."""
    user = _staff(request)
    if not user.has_perm("sales.view_customer"):
        raise PermissionDenied("You may not view customers.")
    visible = scope_queryset(Customer.objects.select_related("depot"), user, "depot")
    customer = visible.filter(pk=pk).first()
    if customer is None:
        raise Http404("No customer with that id in your depots.")
    return customer


def _period_form(data: Any) -> StatementPeriodForm:
    """The form bound to the request's period; unbound (the default period) when it names
    none."""
    if "date_from" in data or "date_to" in data:
        return StatementPeriodForm(data)
    date_from, date_to = default_period()
    return StatementPeriodForm({"date_from": date_from, "date_to": date_to})


def _page(
    request: HttpRequest,
    customer: Customer,
    form: StatementPeriodForm,
    statement: Statement | None,
    *,
    status: int = 200,
) -> HttpResponse:
    user = _staff(request)
    email_to = statement_email_to(customer)
    if not customer.email.strip():
        no_email = "This customer has no e-mail address: add one on the customer's page."
    elif not email_to:
        no_email = "This customer chose paper for their documents: download and post the PDF."
    else:
        no_email = ""
    query = urlencode(
        {"date_from": form.data.get("date_from", ""), "date_to": form.data.get("date_to", "")}
    )
    context = {
        **admin.site.each_context(request),
        "title": f"Statement of {customer.name} ({customer.code})",
        "opts": Customer._meta,
        "customer": customer,
        "form": form,
        "statement": statement,
        "is_cash": customer.payment_type == PaymentType.CASH,
        "pdf_url": reverse("billing:customer_statement_pdf", args=[customer.pk]) + "?" + query,
        "email_to": email_to,
        "no_email": no_email,
        "can_email": user.has_perm("billing.add_customerstatement"),
    }
    return render(request, TEMPLATE, context, status=status)


def _built(form: StatementPeriodForm, customer: Customer) -> Statement | None:
    """The statement of the form's period, or None with the refusal on the form."""
    if not form.is_valid():
        return None
    date_from, date_to = form.period()
    try:
        return statement_build(customer=customer, date_from=date_from, date_to=date_to)
    except ValidationError as refusal:  # the period, checked again by the service
        for name, errors in refusal.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        return None


@require_http_methods(["GET", "POST"])
def customer_statement(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the statement of the period asked (by default last month and this one so
    far) on screen. POST: e-mail it to the customer (statement_issue), then back here."""
    customer = _customer(request, pk)
    if request.method == "POST":
        return _email(request, customer)
    form = _period_form(request.GET)
    statement = _built(form, customer)
    return _page(request, customer, form, statement, status=200 if statement else 400)


def _email(request: HttpRequest, customer: Customer) -> HttpResponse:
    user = _staff(request)
    if not user.has_perm("billing.add_customerstatement"):
        raise PermissionDenied("You may not issue statements.")
    form = StatementPeriodForm(request.POST)
    statement = _built(form, customer)
    if statement is None:
        return _page(request, customer, form, None, status=400)
    to = statement_email_to(customer)
    if not to:
        messages.error(
            request, f"{customer.code} has no e-mail address for documents: nothing sent."
        )
        return _page(request, customer, form, statement, status=400)
    # The period as built: one that ends after today is the statement to today.
    date_from, date_to = statement.date_from, statement.date_to
    try:
        issued = statement_issue(
            customer=customer, date_from=date_from, date_to=date_to, actor=user, email=True
        )
    except ValidationError as refusal:
        for name, errors in getattr(refusal, "error_dict", {None: refusal.error_list}).items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        return _page(request, customer, form, None, status=400)
    messages.success(
        request,
        f"Statement {issued.number} ({day_text(date_from)} to {day_text(date_to)}) is on its way "
        f"to {issued.emailed_to}.",
    )
    query = urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    return HttpResponseRedirect(
        reverse("billing:customer_statement", args=[customer.pk]) + "?" + query
    )


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def customer_statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The statement of the period asked, as a PDF; a bad period shows the form."""
    customer = _customer(request, pk)
    form = _period_form(request.GET)
    statement = _built(form, customer)
    if statement is None:
        return _page(request, customer, form, None, status=400)
    name = f"statement-{customer.code}-{statement.date_from:%Y%m%d}-{statement.date_to:%Y%m%d}"
    return _pdf(statement_pdf(statement=statement), f"{name}.pdf")


@require_GET
def issued_statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued statement (billing.CustomerStatement) as a PDF, with its number."""
    user = _staff(request)
    if not user.has_perm("billing.view_customerstatement"):
        raise PermissionDenied("You may not view statements.")
    visible = scope_queryset(
        CustomerStatement.objects.select_related("customer"), user, "customer__depot"
    )
    issued = visible.filter(pk=pk).first()
    if issued is None:
        raise Http404("No statement with that id in your depots.")
    return _pdf(issued_statement_pdf_bytes(issued=issued), f"{issued.number}.pdf")
