"""Issue 18: a record's name (page titles, breadcrumbs, history headings) reads in words:
products by name, money grouped, moments in the business time zone, no ids."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from sales.models import (
    CylinderHolding,
    CylinderReturnLine,
    DepositRate,
    HoldingEntry,
    HoldingKind,
    TaxRate,
    TransactionLine,
)
from stock.models import StockLevel, StockMovement

pytestmark = pytest.mark.django_db

WHEN = datetime(2025, 10, 31, 2, 30, tzinfo=ZoneInfo("UTC"))  # 08:00 in Colombo


@override_settings(TIME_ZONE="Asia/Colombo")
def test_rates_by_product_name_grouped_amount_and_local_moment(products):
    deposit = DepositRate(product=products["9KG"], amount=Decimal("1500.00"), effective_from=WHEN)
    assert str(deposit) == "9 kg cylinder: 1,500.00 from 31 Oct 2025 08:00"
    assert str(TaxRate(rate=Decimal("18.00"), effective_from=WHEN)) == (
        "18.00% from 31 Oct 2025 08:00"
    )


def test_holdings_and_lines_by_customer_code_and_product_name(products, customer_factory):
    customer = customer_factory()
    holding = CylinderHolding(customer=customer, product=products["9KG"], quantity=4)
    assert str(holding) == "C001 \u2013 9 kg cylinder: 4 held"
    entry = HoldingEntry(kind=HoldingKind.SALE, quantity=1, product=products["9KG"])
    assert str(entry) == "Sale +1 9 kg cylinder"
    line = TransactionLine(quantity=2, product=products["12.7KG"], rate=Decimal("3000.00"))
    assert str(line) == "2 x 12.7 kg cylinder @ 3,000.00"
    assert str(CylinderReturnLine(quantity=3, product=products["9KG"])) == "3 x 9 kg cylinder"


def test_stock_level_and_movement_in_words(products, north):
    level = StockLevel(depot=north, product=products["9KG"], state="FULL", quantity=5)
    assert str(level) == "Full 9 kg cylinders at depot NORTH"
    move = StockMovement(kind="RECEIPT", quantity=5, product=products["9KG"], state="FULL")
    assert str(move) == "Receipt: 5 full 9 kg cylinder"


# --- Field labels as words (issue 18) --------------------------------------------------


@pytest.mark.parametrize(
    "url", ["admin:sales_customer_changelist", "admin:stock_product_changelist"]
)
def test_active_reads_as_a_word_in_column_and_filter(client, head_office, url):
    from django.urls import reverse

    client.force_login(head_office)
    page = client.get(reverse(url)).content.decode()
    assert "By active" in page
    assert "Is active" not in page
    assert "is active" not in page


def test_model_labels_are_words():
    from core.models import Depot
    from sales.models import Customer, Transaction
    from stock.models import Product

    for model in (Customer, Product, Depot):
        assert model._meta.get_field("is_active").verbose_name == "active"
    assert Transaction._meta.get_field("is_paid").verbose_name == "paid"
