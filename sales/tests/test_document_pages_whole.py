"""The whole document on one read-only page, in words a clerk reads (issue 18, "Pages that
show the whole document"): the sale (head with links, lines by product name, meter
reading, tax, deposits, payments, credit note, delivery, posted vs happened), the
payment (each invoice it settled, what stays on account, its reversal), the credit note
(its lines, the sale it credits) and the customer (rates by what they are for, balance
and ageing, latest documents, links to every list about them). Each page's queries stay
the same with 1 or 5 lines, payments or documents."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sales.models import Transaction
from sales.services import payment_record, payment_reverse, sale_post, sale_void

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "127.0.0.1"}
CYLINDERS = ("12.7KG", "9KG", "14KG", "50KG-POL", "50KG-L")
RATES = {"12.7KG": "3000.00", "9KG": "2200.00", "14KG": "3300.00", "50KG-POL": "12000.00"}
RATES |= {"50KG-L": "11800.00", "BULK": "250.00"}


@pytest.fixture
def vehicle(north, sales_rep, head_office, products):
    """The representative's vehicle with 30 full cylinders of each kind."""
    from stock.services import distribution_create, stock_receive

    for code in CYLINDERS:
        stock_receive(depot=north, product=products[code], quantity=100, actor=head_office)
        distribution_create(
            sales_rep=sales_rep,
            depot=north,
            product=products[code],
            quantity=30,
            kind="COLLECTION",
            actor=head_office,
        )
    return sales_rep


@pytest.fixture
def deposits(head_office, products):
    from sales.services import deposit_set

    deposit_set(product=products["12.7KG"], amount=Decimal("2500.00"), actor=head_office)


@pytest.fixture
def buyer(customer_factory):
    return customer_factory(
        "CREDIT",
        rates=RATES,
        credit_limit=Decimal("1000000.00"),
        last_meter_reading=Decimal("1000.00"),
    )


def sell(rep, customer, products, codes=("12.7KG",), meter=None, **extra):
    lines = [{"product": products[code], "quantity": 2, "empties_returned": 1} for code in codes]
    return sale_post(
        customer=customer, sales_rep=rep, actor=rep, lines=lines, meter_reading=meter, **extra
    )


def page(client, user, url):
    client.force_login(user)
    response = client.get(url, **HOST)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text_of(html):
    """The page as a clerk reads it: tags gone, spaces folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def queries(client, url):
    client.get(url, **HOST)  # content types and the session warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **HOST)
    assert response.status_code == 200
    return len(captured)


def assert_read_only(html):
    """Nothing on the page looks editable: no field a clerk could type into."""
    form = html.split('id="transaction_form"', 1)[-1]
    assert "<textarea" not in form
    assert "<select" not in form
    inputs = re.findall(r"<input[^>]*>", form)
    assert all('type="hidden"' in i or 'type="submit"' in i for i in inputs), inputs


def sale_url(sale):
    return reverse("admin:sales_transaction_change", args=[sale.pk])


def test_the_sale_page_shows_the_whole_sale_in_words(
    client, head_office, vehicle, buyer, products, settings
):
    settings.CURRENCY = "LKR"
    from sales.services.tax import tax_rate_set

    tax_rate_set(rate=Decimal("18"), actor=head_office)
    sale = sell(vehicle, buyer, products, ("12.7KG", "9KG"), meter=Decimal("1100.00"))
    payment = payment_record(customer=buyer, amount="5000.00", actor=head_office)
    html = page(client, head_office, sale_url(sale))
    text = text_of(html)
    # The head: who, where, how, when; linked
    assert f"Sale {sale.number}: Posted, credit sale of LKR" in text
    assert reverse("admin:sales_customer_change", args=[buyer.pk]) in html
    assert reverse("admin:core_user_change", args=[vehicle.pk]) in html
    assert "Credit: on the customer's account" in text
    assert "Posted " + timezone.localtime(sale.created_at).strftime("%-d %b %Y") in text
    # The lines by product name, quantity, rate and amount; 2 x 3,000 + 2 x 2,200
    assert "12.7 kg cylinder (12.7KG) 2 1 LKR 3,000.00 LKR 6,000.00" in text
    assert "9 kg cylinder (9KG) 2 1 LKR 2,200.00 LKR 4,400.00" in text
    # The meter: previous, current and the quantity between (100 kg x 250 = 25,000)
    assert "Previous reading 1,000.00" in text
    assert "Current reading 1,100.00" in text
    assert "Quantity 100.00 kg at LKR 250.00 = LKR 25,000.00" in text
    # Tax at its rate, the total, the payment that settled part of it (linked)
    assert "GST at 18.00 % LKR 6,372.00" in text  # 18 % of 35,400.00
    assert "Total LKR 41,772.00" in text
    assert reverse("admin:sales_payment_change", args=[payment.pk]) in html
    assert "Part paid: LKR 5,000.00 of LKR 41,772.00; LKR 36,772.00 due." in text
    # Its documents and their delivery
    assert "Not printed yet." in text
    assert "Download invoice (PDF)" in text
    # No stored counters, flags or internal codes; nothing editable
    for hidden in ("Cylinders:", "Metered:", "Is paid", "None", "CREDIT", "POSTED"):
        assert hidden not in text, hidden
    assert_read_only(html)


def test_the_sale_page_shows_deposits_and_when_it_happened_on_the_handheld(
    client, head_office, vehicle, buyer, products, deposits
):
    sale = sell(vehicle, buyer, products)
    # As if captured on the handheld two days before it synced
    happened = sale.created_at - timedelta(days=2)
    Transaction.objects.filter(pk=sale.pk).update(occurred_at=happened)
    text = text_of(page(client, head_office, sale_url(sale)))
    assert "Deposit on 12.7KG (not taxed): 1 cylinder x 2,500.00 2,500.00" in text
    assert "Deposits (not taxed) 2,500.00" in text
    assert "Happened " + timezone.localtime(happened).strftime("%-d %b %Y %H:%M") in text
    assert "(on the handheld; synced later)" in text


def test_a_void_sale_links_its_credit_note_whose_page_shows_the_lines(
    client, head_office, vehicle, buyer, products
):
    sale = sell(vehicle, buyer, products, ("12.7KG", "9KG"))
    sale_void(transaction=sale, actor=head_office, reason="Wrong customer")
    note = sale.credit_note
    note_url = reverse("admin:sales_creditnote_change", args=[note.pk])
    html = page(client, head_office, sale_url(sale))
    assert note_url in html
    assert "Void (credit note issued)" in text_of(html)
    note_html = page(client, head_office, note_url)
    text = text_of(note_html)
    assert f"Credit note {note.number}, crediting {sale.number}" in text
    assert sale_url(sale) in note_html
    assert "12.7 kg cylinder (12.7KG) 2 1 3,000.00 6,000.00" in text
    assert "9 kg cylinder (9KG) 2 1 2,200.00 4,400.00" in text
    assert "Credited 10,400.00" in text
    assert "Reason Wrong customer" in text


def test_the_payment_page_shows_each_invoice_it_settled_and_what_stays_on_account(
    client, head_office, vehicle, buyer, products
):
    first = sell(vehicle, buyer, products)  # 6,000.00
    second = sell(vehicle, buyer, products, ("9KG",))  # 4,400.00
    payment = payment_record(customer=buyer, amount="12000.00", actor=head_office)
    url = reverse("admin:sales_payment_change", args=[payment.pk])
    html = page(client, head_office, url)
    text = text_of(html)
    for sale, total in ((first, "6,000.00"), (second, "4,400.00")):
        assert sale_url(sale) in html
        assert re.search(rf"{sale.number} \S+ \S+ \S+ {total} .*? {total} 0.00", text), sale
    assert "Settles sales 10,400.00" in text
    assert "On account 1,600.00" in text
    payment_reverse(payment=payment, actor=head_office, reason="Cheque bounced")
    text = text_of(page(client, head_office, url))
    assert "Cheque bounced" in text
    assert "(taken back)" in text


def test_the_customer_page_shows_rates_balance_ageing_documents_and_links(
    client, head_office, vehicle, buyer, products
):
    old = sell(vehicle, buyer, products)  # 6,000.00, made 45 days old below
    Transaction.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(days=45))
    recent = sell(vehicle, buyer, products, ("9KG",))  # 4,400.00
    payment = payment_record(customer=buyer, amount="1000.00", actor=head_office)
    url = reverse("admin:sales_customer_change", args=[buyer.pk])
    html = page(client, head_office, url)
    text = text_of(html)
    assert "12.7 kg rate 12.7KG 3,000.00" in text
    assert "50 kg (POL valve) rate 50KG-POL 12,000.00" in text
    assert "Balance 9,400.00 owed of a 1,000,000.00 limit" in text
    # 9,400.00 owed: the newest invoice's 4,400.00 is current, the rest 31 to 60 days old
    assert "0 to 30 days 31 to 60 days 61 to 90 days Over 90 days Total" in text
    assert "4,400.00 5,000.00 0.00 0.00 9,400.00" in text
    assert "Over 30 days 5,000.00" in text
    for document in (old, recent):
        assert sale_url(document) in html
    assert reverse("admin:sales_payment_change", args=[payment.pk]) in html
    pk = buyer.pk
    for link in (
        f"{reverse('admin:sales_transaction_changelist')}?customer__id__exact={pk}",
        f"{reverse('admin:sales_payment_changelist')}?customer__id__exact={pk}",
        f"{reverse('admin:sales_creditnote_changelist')}?transaction__customer__id__exact={pk}",
        reverse("billing:customer_statement", args=[pk]),
    ):
        assert link in html, link
        assert client.get(link, **HOST).status_code == 200, link
    # Head office still edits the master data there
    assert 'name="name"' in html
    assert 'name="credit_limit"' in html


def test_the_sale_page_costs_the_same_for_1_line_or_5(
    client, head_office, vehicle, buyer, products
):
    one = sell(vehicle, buyer, products)
    five = sell(vehicle, buyer, products, CYLINDERS)
    for sale in (one, five):  # each settled by one payment, the other by five below
        payment_record(customer=buyer, amount=str(sale.total_amount), actor=head_office)
    client.force_login(head_office)
    assert queries(client, sale_url(one)) == queries(client, sale_url(five))


def test_the_payment_page_costs_the_same_for_1_invoice_or_5(
    client, head_office, vehicle, buyer, customer_factory, products
):
    other = customer_factory("CREDIT", rates=RATES, credit_limit=Decimal("1000000.00"))
    sell(vehicle, buyer, products)
    for _ in range(5):
        sell(vehicle, other, products)
    one = payment_record(customer=buyer, amount="6000.00", actor=head_office)
    five = payment_record(customer=other, amount="30000.00", actor=head_office)
    assert five.allocations.count() == 5
    client.force_login(head_office)
    url = "admin:sales_payment_change"
    assert queries(client, reverse(url, args=[one.pk])) == queries(
        client, reverse(url, args=[five.pk])
    )


def test_the_customer_page_costs_the_same_for_1_document_or_5(
    client, head_office, vehicle, buyer, customer_factory, products
):
    other = customer_factory("CREDIT", rates=RATES, credit_limit=Decimal("1000000.00"))
    sell(vehicle, buyer, products)
    payment_record(customer=buyer, amount="100.00", actor=head_office)
    for _ in range(5):
        sale = sell(vehicle, other, products)
        payment_record(customer=other, amount="100.00", actor=head_office)
    sale_void(transaction=sale, actor=head_office, reason="test")
    client.force_login(head_office)
    url = "admin:sales_customer_change"
    assert queries(client, reverse(url, args=[buyer.pk])) == queries(
        client, reverse(url, args=[other.pk])
    )


def test_the_lists_show_their_key_columns_in_words_and_money(
    client, head_office, vehicle, buyer, products
):
    sale = sell(vehicle, buyer, products, ("12.7KG", "9KG"))  # 10,400.00
    payment = payment_record(customer=buyer, amount="12000.00", actor=head_office)
    client.force_login(head_office)
    html = page(client, head_office, reverse("admin:sales_transaction_changelist"))
    headings = re.findall(r'<th scope="col"[^>]*class="[^"]*column-(\w+)', html)
    assert headings == ["sale", "customer_shown", "total", "paid", "status_shown"]
    text = text_of(html)
    assert f"{sale.number} " + timezone.localtime(sale.occurred_at).strftime("%-d %b %Y") in text
    assert f"{buyer.code} {buyer.name} Credit · {vehicle.username} · NORTH" in text
    assert "10,400.00 10,400.00 Posted" in text
    text = text_of(page(client, head_office, reverse("admin:sales_payment_changelist")))
    assert f"{payment.number} received" in text
    assert "12,000.00 10,400.00 On account 1,600.00 not yet settling a sale" in text
    text = text_of(page(client, head_office, reverse("admin:sales_customer_changelist")))
    assert f"{buyer.code} {buyer.name}" in text
    assert "Credit limit 1,000,000.00 -1,600.00" in text  # 1,600.00 paid in advance
