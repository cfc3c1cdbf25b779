"""The audit log's pages (core.admin_history_audit, core.audit_words): actions read as
words, every action the code writes has its words, the data shows as a small table (not
JSON), an entry links to the page of what it is about, and the log stays append-only."""

import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.urls import reverse

from core.audit_words import ACTION_WORDS, action_words, data_rows, object_url
from core.models import AuditLog

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _actions_in_code() -> set[str]:
    """Every literal action the project's code (not its tests) writes: `action="..."`,
    as `grep -rn "action=" --include=*.py` finds them, and the constants passed as one."""
    literal = re.compile(r'action="([a-z]+_[a-z_]+)"')
    constant = re.compile(r'^(?:INVOICE_PRINTED|STATEMENT_ISSUED) = "([a-z_]+)"', re.MULTILINE)
    actions: set[str] = set()
    for app in ("core", "stock", "sales", "billing", "reporting"):
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            actions |= set(literal.findall(text)) | set(constant.findall(text))
    return {a for a in actions if not a.startswith("store")}  # argparse's are not audit's


def test_every_action_in_the_code_has_its_words():
    actions = _actions_in_code()
    assert {"sale_post", "stock_transfer", "invoice_printed"} <= actions  # the grep works
    missing = sorted(actions - set(ACTION_WORDS))
    assert not missing, f"add words for {missing} to core.audit_words.ACTION_WORDS"
    for model in ("customer", "depot", "product"):  # master_delete / master_recovered
        assert f"{model}_delete" in ACTION_WORDS
        assert f"{model}_recover" in ACTION_WORDS


def test_action_words_and_the_fallback():
    assert action_words("sale_post") == "Sale posted"
    assert action_words("stock_count_post") == "Count sheet posted"
    assert action_words("widget_frobnicate") == "Widget frobnicate"
    for words in ACTION_WORDS.values():
        assert "_" not in words
        assert words[0].isupper()


def test_data_reads_as_rows_with_nested_values_flattened(settings):
    settings.CURRENCY = "LKR"
    rows = data_rows(
        {
            "number": "TX-2026-000001",
            "payment_type": "CREDIT",
            "total": "14546.08",
            "occurred_at": "2026-11-10T09:48:00+00:00",
            "lines": [{"product": "9KG", "quantity": 4, "rate": "2764.00"}],
            "changes": {"list_price": {"old": None, "new": "2850.00"}},
            "idempotency_key": "abc",
            "meter": None,
        },
        "sale_post",
    )
    shown = dict(rows)
    assert shown["Number"] == "TX-2026-000001"
    assert shown["Payment type"] == "Credit"
    assert shown["Total"] == "LKR 14,546.08"
    assert re.fullmatch(r"10 Nov 2026 \d\d:\d\d", shown["Happened"])
    assert shown["Line 1 product"] == "9KG"
    assert shown["Line 1 quantity"] == "4"
    assert shown["Line 1 rate"] == "LKR 2,764.00"
    assert shown["List price"] == "- → LKR 2,850.00"
    assert shown["Meter"] == "-"
    assert not [k for k, _ in rows if "dempotency" in k]
    assert dict(data_rows({"rate": "18.00", "previous": "0"}, "tax_rate_set"))["Rate"] == "18.00 %"


@pytest.fixture
def sale_entry(head_office, loaded_vehicle, customer_factory, products, settings):
    from sales.services import sale_post

    settings.CURRENCY = "LKR"
    customer = customer_factory("CREDIT", credit_limit=D("100000.00"))
    sale = sale_post(
        customer=customer,
        sales_rep=loaded_vehicle,
        actor=loaded_vehicle,
        lines=[{"product": products["12.7KG"], "quantity": 4, "empties_returned": 0}],
    )
    return sale, AuditLog.objects.get(action="sale_post", object_id=str(sale.pk))


def test_an_entry_page_shows_words_a_table_and_a_link(client, head_office, sale_entry):
    sale, entry = sale_entry
    client.force_login(head_office)
    page = client.get(reverse("admin:core_auditlog_change", args=[entry.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    main = html.split('id="content-main"', 1)[1]
    assert "Sale posted" in main
    assert "sale_post" not in main
    sale_url = reverse("admin:sales_transaction_change", args=[sale.pk])
    assert f'<a href="{sale_url}">Sale {sale.number}</a>' in main
    assert '<table class="hsh-audit-data">' in main
    assert "<pre>" not in main
    assert '{"' not in main
    assert "&quot;number&quot;" not in main
    assert "LKR 12,000.00" in main  # 4 x 3,000.00 net, grouped, with the currency
    assert "Line 1 product" in main
    assert page.context["subtitle"] == f"Sale posted: Sale {sale.number}"
    for editable in ('name="_save"', "<textarea", 'type="text"'):
        assert editable not in main


def test_the_list_shows_actions_and_objects_in_words(client, head_office, sale_entry):
    sale, _entry = sale_entry
    client.force_login(head_office)
    page = client.get(reverse("admin:core_auditlog_changelist"))
    table = page.content.decode().split('id="result_list"', 1)[1].split("</table>", 1)[0]
    assert "Sale posted" in table
    assert f"Sale {sale.number}" in table
    assert "Distribution posted" in table  # the loaded vehicle's
    assert "sale_post" not in table
    assert "distribution_create" not in table
    filters = page.content.decode().split('id="changelist-filter"', 1)[1]
    assert ">Sale posted</a>" in filters  # the action filter offers words too


def test_object_url_is_empty_where_there_is_no_page():
    assert object_url("nowhere.nothing", "1") == ""
    assert object_url("", "1") == ""


def test_the_audit_log_stays_append_only(client, head_office, sale_entry):
    _sale, entry = sale_entry
    client.force_login(head_office)
    url = reverse("admin:core_auditlog_change", args=[entry.pk])
    assert client.post(url, {"action": "forged"}).status_code == 403
    assert client.get(reverse("admin:core_auditlog_add")).status_code == 403
    delete = reverse("admin:core_auditlog_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == "sale_post"
