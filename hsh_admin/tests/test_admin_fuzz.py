"""The admin fuzzer: every ModelAdmin on the site, as a superuser (head office) and as a
depot manager, with hypothesis-generated query strings on its changelist (its filters'
parameters with valid and junk values, orderings, searches, pages, saved filters,
unknown names), its add and change forms and its own pages (get_urls) posted with junk
field values, and the site's own pages (dashboard, reports, search). No answer is a 5xx:
a 400, 403, 404, 302 or a 200 showing errors are all fine.

derandomize: CI sends the same requests each run. To explore further:
HSH_FUZZ_EXAMPLES=50 HSH_FUZZ_RANDOM=1 pytest hsh_admin/tests/test_admin_fuzz.py"""

import os
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import User
from hsh_admin.tests.admin_fuzz import (
    changelist_names,
    forms_in,
    own_urls,
    post_strategy,
    query_strategy,
)
from reporting.catalogue import all_reports
from sales.models import Customer
from sales.services import payment_record, sale_post

EXAMPLES = int(os.environ.get("HSH_FUZZ_EXAMPLES", "3"))


def fuzz(scale: float = 1):
    return settings(
        max_examples=max(1, round(EXAMPLES * scale)),
        deadline=None,
        derandomize=os.environ.get("HSH_FUZZ_RANDOM") != "1",
        suppress_health_check=list(HealthCheck),
        database=None,
        print_blob=True,
    )


MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)
REPORT_PARAMETERS = [
    "date_from", "date_to", "depot", "customer", "product", "sales_rep", "payment_type",
    "group_by", "period", "format", "refresh", "page", "o", "q",
]  # fmt: skip


@pytest.fixture
def business(
    loaded_vehicle, customer_factory, sales_rep, head_office, products, user_factory, north
):
    """A posted sale (cash and credit) and a payment, so change forms have objects, and a
    spare account last, whose change form the fuzzer posts to (not the signed-in ones)."""
    cash, credit = customer_factory("CASH"), customer_factory("CREDIT", credit_limit="100000")
    for customer in (cash, credit):
        sale_post(
            customer=customer,
            sales_rep=sales_rep,
            actor=sales_rep,
            lines=[{"product": products["12.7KG"], "quantity": 1, "empties_returned": 0}],
        )
    payment_record(customer=credit, amount="100", actor=head_office)
    user_factory("MANAGER", depots=[north], username="sparemanager")
    return Customer.objects.all()


@pytest.fixture(params=["superuser", "manager"])
def signed_in(request, head_office, manager, business):
    if request.param == "superuser":
        User.objects.filter(pk=head_office.pk).update(is_superuser=True)
        user = User.objects.get(pk=head_office.pk)
    else:
        user = manager
    client = Client()
    client.force_login(user)
    return client


def answered(response, what: str):
    assert response.status_code < 500, f"{what}: {response.status_code}"
    return response


def fuzz_get(client, url: str, names=(), valid=(), scale=1):
    @fuzz(scale)
    @given(pairs=query_strategy(list(names), list(valid)))
    def run(pairs):
        answered(client.get(f"{url}?{urlencode(pairs)}"), f"GET {url}?{urlencode(pairs)}")

    run()


def fuzz_post(client, url: str, scale=1):
    """GET the page, then POST its forms' data with junk in it (when it is a page the
    user may see: a 403 or a redirect has no form)."""
    page = answered(client.get(url), f"GET {url}")
    if page.status_code != 200:
        return
    base = forms_in(page.context) if page.context else {}

    @fuzz(scale)
    @given(data=post_strategy(base))
    def run(data):
        answered(client.post(url, data), f"POST {url} {data!r}")

    run()


def _victim(model):
    """The object whose change form is fuzzed: the newest, never a signed-in account."""
    queryset = model._default_manager.order_by("-pk")
    if model is User:
        queryset = queryset.filter(username="sparemanager")
    return queryset.first()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_model_admin_never_answers_5xx(model, signed_in):
    client = signed_in
    model_admin = admin.site._registry[model]
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    first = answered(client.get(changelist), f"GET {changelist}")
    if first.status_code != 200:  # not theirs (a manager): the forms are refused as well
        for view in ("add", "changelist"):
            answered(client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}")), view)
        return
    names, valid = changelist_names(first)
    fuzz_get(client, changelist, names, valid, scale=2)
    # The changelist's actions, on junk selections.
    actions = list(model_admin.get_actions(first.wsgi_request)) or ["delete_selected"]

    @fuzz()
    @given(
        action=st.sampled_from(actions) | st.text(max_size=10),
        selected=st.lists(st.sampled_from(["1", "-1", "x", "9" * 30, ""]), max_size=3),
        index=st.sampled_from(["0", "1", "-1", "x"]),
    )
    def actions_run(action, selected, index):
        data = {"action": action, "_selected_action": selected, "index": index}
        answered(client.post(changelist, data), f"POST {changelist} {data!r}")

    actions_run()
    fuzz_post(client, reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    obj = _victim(model)
    if obj is not None:
        fuzz_post(
            client, reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        )
        answered(
            client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])),
            "history",
        )
    for url in own_urls(model_admin, obj):
        fuzz_get(client, url, REPORT_PARAMETERS, scale=0.5)
        fuzz_post(client, url, scale=0.5)


def test_site_pages_never_answer_5xx(signed_in):
    client = signed_in
    pages = [reverse("admin:index"), reverse("reports:index"), reverse("admin-search")]
    pages += [reverse("reports:report", args=[report.slug]) for report in all_reports()]
    pages += [reverse("reports:job-download", args=[1]), "/admin/reports/no-such-report/"]
    for url in pages:
        fuzz_get(client, url, [*REPORT_PARAMETERS, "all", "type"])
    for report in all_reports():
        fuzz_post(client, reverse("reports:report", args=[report.slug]), scale=0.5)
