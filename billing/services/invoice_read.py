"""The sale an invoice or a thermal receipt is drawn from, in two statements compiled
once per process (billing.services.compiled: compiling them took most of a receipt's
time). The rows become the model instances select_related and prefetch_related would
give (every concrete field loaded, related objects cached), so the invoice's layout
reads them unchanged."""

from collections.abc import Sequence
from typing import Any

from django.db import models

from billing.services.compiled import CompiledQuery
from core.models import User
from sales.models import Customer, MeterSale, Transaction, TransactionLine
from stock.models import Product


def _names(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _columns(prefix: str, model: type[models.Model]) -> list[str]:
    return [f"{prefix}{name}" for name in _names(model)]


# (model, the lookup prefix from the sale) in the order of the sale query's columns.
SALE_PARTS: Sequence[tuple[type[models.Model], str]] = (
    (Transaction, ""),
    (Customer, "customer__"),
    (User, "sales_rep__"),
    (MeterSale, "meter_sale__"),
    (Product, "meter_sale__product__"),
)
LINE_PARTS: Sequence[tuple[type[models.Model], str]] = (
    (TransactionLine, ""),
    (Product, "product__"),
)


def _query(
    model: type[models.Model], parts: Sequence[tuple[type[models.Model], str]], key: str
) -> CompiledQuery:
    columns = [column for part, prefix in parts for column in _columns(prefix, part)]
    return CompiledQuery(
        lambda sale: model._default_manager.filter(**{key: sale}).values_list(*columns),
        sale=int,
    )


SALE_QUERY = _query(Transaction, SALE_PARTS, "pk")
LINES_QUERY = _query(TransactionLine, LINE_PARTS, "transaction_id")


def _split(
    row: Sequence[Any], parts: Sequence[tuple[type[models.Model], str]], db: str
) -> list[Any]:
    """One instance per part of `row` (None for a part whose primary key is NULL: a sale
    without a meter reading)."""
    instances: list[Any] = []
    start = 0
    for model, _prefix in parts:
        names = _names(model)
        values = row[start : start + len(names)]
        start += len(names)
        pk = values[names.index(model._meta.pk.attname)]
        instances.append(None if pk is None else model.from_db(db, names, values))
    return instances


def invoice_sale(transaction: Transaction) -> Transaction:
    """The sale `transaction` with what its invoice shows: its customer, representative
    and meter sale (with its product) cached, and its lines (with their products)
    prefetched, as select_related and prefetch_related give them; two statements."""
    db = SALE_QUERY.using
    rows = SALE_QUERY.rows(sale=transaction.pk)
    if not rows:
        raise Transaction.DoesNotExist(f"no sale with id {transaction.pk}")
    sale, customer, sales_rep, meter, meter_product = _split(rows[0], SALE_PARTS, db)
    sale.customer = customer
    sale.sales_rep = sales_rep
    if meter is None:
        Transaction.meter_sale.related.set_cached_value(sale, None)
    else:
        meter.product = meter_product
        sale.meter_sale = meter
    lines = []
    for row in LINES_QUERY.rows(sale=transaction.pk):
        line, product = _split(row, LINE_PARTS, db)
        line.product = product
        line.transaction = sale
        lines.append(line)
    # What prefetch_related("lines") leaves: the related manager's queryset, evaluated.
    prefetched = sale.lines.all()
    prefetched._result_cache = lines
    prefetched._prefetch_done = True
    cache_name = TransactionLine.transaction.field.remote_field.cache_name
    sale._prefetched_objects_cache = {cache_name: prefetched}
    found: Transaction = sale
    return found
