import pytest
from django.core.management import call_command
from django.db import connection

from stock.services import distribution_create, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_stock(north, cyl, head_office, sales_rep):
    stock_receive(depot=north, product=cyl, quantity=10, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=4,
        kind="COLLECTION",
        actor=head_office,
    )


def test_clean_ledger_passes(some_stock, capsys):
    call_command("check_stock")
    assert "All 2 stock levels match the ledger." in capsys.readouterr().out


def test_a_tampered_level_is_named_and_fails(some_stock, capsys):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE stock_stocklevel SET quantity = 7 WHERE sales_rep_id IS NULL")
    with pytest.raises(SystemExit) as exc:
        call_command("check_stock")
    assert exc.value.code == 1
    captured = capsys.readouterr()
    assert "DIFFERENCE depot NORTH 12.7KG FULL: level says 7, ledger says 6" in captured.out
    assert "1 of 2 stock levels disagree" in captured.err
