"""Reliability under real conditions (PostgreSQL, committed data, real threads).

- A torture run: sixteen threads doing random field and office work through the services
  for a while (HSH_TORTURE_SECONDS, default 20): sales, voids, payments, load sheets,
  empty returns, receipts, cylinder returns, plant dispatches, transfers between depots,
  count sheets, rate changes; then every invariant of DESIGN.md checked on what they left
  behind (11, cylinders conserved, by check_stock).
- The database connection cut in the middle of a sale (pg_terminate_backend on the
  request's own backend): nothing is half-written, the user gets a clear 503, the same
  request then posts exactly once.
"""

import logging
import os
import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse
from import_export.exceptions import ImportError as ImportExportError
from rest_framework.test import APIClient

import sales.services.sales as sale_service
from core.management.commands.verify_audit import first_break
from core.models import AuditLog, DocumentCounter, IdempotencyKey, SubmissionToken, User
from sales.models import (
    Customer,
    CylinderHolding,
    CylinderReturn,
    MeterSale,
    Payment,
    PaymentAllocation,
    Rate,
    RateImport,
    Transaction,
    TransactionLine,
)
from sales.resources import COLUMNS as RATE_COLUMNS
from sales.resources import RateTableResource
from sales.selectors import customer_balance
from sales.services import (
    cylinder_return,
    payment_record,
    rate_import_undo,
    rate_set,
    sale_post,
    sale_void,
)
from stock.models import (
    Distribution,
    Product,
    StockCount,
    StockLevel,
    StockMovement,
    Transfer,
)
from stock.selectors import ledger_differences
from stock.services import (
    distribution_create,
    empties_dispatch,
    stock_count_post,
    stock_receive,
    stock_transfer,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CENT = Decimal("0.01")


# --- The torture run -------------------------------------------------------------------

THREADS = 16
CYLINDER_RATES = {"12.7KG": (2800, 3400), "9KG": (2000, 2600)}
BULK_RATES = (200, 300)


@pytest.fixture
def business(north, south, head_office, user_factory):
    """Two depots, three representatives with loaded vehicles at each, and at each depot
    cash customers, credit customers with and without a limit, and bulk-tank customers."""
    products = {p.code: p for p in Product.objects.filter(code__in=["12.7KG", "9KG", "BULK"])}
    rng = random.Random(0)
    reps, customers = [], []
    for depot in (north, south):
        for product in (products["12.7KG"], products["9KG"]):
            stock_receive(depot=depot, product=product, quantity=400, actor=head_office)
        # empties at the depot for the plant and for transfers (a count sheet: conservation
        # counts them in as an adjustment)
        stock_count_post(
            depot=depot,
            lines=[
                {"product": products[code], "state": "EMPTY", "counted": 80}
                for code in ("12.7KG", "9KG")
            ],
            reason="opening count of empties",
            actor=head_office,
        )
        for _ in range(3):
            rep = user_factory("SALES", depots=[depot])
            reps.append(rep)
            for product in (products["12.7KG"], products["9KG"]):
                distribution_create(
                    sales_rep=rep,
                    depot=depot,
                    product=product,
                    quantity=40,
                    kind="COLLECTION",
                    actor=head_office,
                )
        kinds = [
            ("CASH", None, False),
            ("CASH", None, False),
            ("CASH", None, True),
            ("CREDIT", None, False),
            ("CREDIT", Decimal("15000.00"), False),
            ("CREDIT", Decimal("40000.00"), False),
            ("CREDIT", Decimal("60000.00"), True),
        ]
        for payment_type, limit, bulk in kinds:
            n = len(customers) + 1
            customer = Customer.objects.create(
                code=f"T{n:03d}",
                name=f"Torture customer {n}",
                depot=depot,
                payment_type=payment_type,
                credit_limit=limit,
            )
            customers.append(customer)
            codes = ["12.7KG", "9KG"] + (["BULK"] if bulk else [])
            for code in codes:
                low, high = BULK_RATES if code == "BULK" else CYLINDER_RATES[code]
                rate_set(
                    customer=customer,
                    product=products[code],
                    rate=Decimal(rng.randint(low, high)),
                    actor=head_office,
                )
    # Idempotency keys that several threads send, each always with the same sale (as a
    # handheld retrying a request whose answer it never got).
    keyed = []
    for i in range(12):
        rep = reps[i % len(reps)]
        unlimited = [
            c for c in customers if c.depot_id == rep.home_depot.pk and c.credit_limit is None
        ]
        customer = unlimited[i % len(unlimited)]
        keyed.append((f"handheld-{i:02d}", rep.pk, customer.pk, "9KG", 1 + i % 2))
    return {"products": products, "reps": reps, "customers": customers, "keyed": keyed}


class _Worker:
    """One thread's random work: counts what succeeded and what was refused."""

    KINDS = (
        ("sale", 28),
        ("meter_sale", 12),
        ("void", 8),
        ("payment", 9),
        ("collection", 12),
        ("empty_return", 8),
        ("receipt", 5),
        ("keyed_sale", 10),
        ("rate_change", 4),
        ("rate_import", 3),
        ("rate_undo", 2),
        ("customer_return", 6),
        ("plant_dispatch", 4),
        ("transfer", 4),
        ("count_sheet", 3),
    )

    def __init__(self, seed, business, head_office_pk, deadline):
        self.rng = random.Random(seed)
        self.business = business
        self.head_office_pk = head_office_pk
        self.deadline = deadline
        self.done, self.refused = Counter(), Counter()
        self.refusals = Counter()  # message shapes, for the summary
        self.keyed = defaultdict(set)  # key -> transaction ids returned
        self.failures = []

    def load(self):
        """Each thread loads its own objects, as each request would."""
        b = self.business
        self.products = {p.code: p for p in Product.objects.filter(code__in=b["products"])}
        self.reps = list(User.objects.filter(pk__in=[r.pk for r in b["reps"]]).order_by("pk"))
        self.rep_depot = {rep.pk: rep.home_depot for rep in self.reps}
        self.customers = list(
            Customer.objects.filter(pk__in=[c.pk for c in b["customers"]]).order_by("pk")
        )
        bulk = set(Rate.objects.filter(product__code="BULK").values_list("customer", flat=True))
        self.bulk = [c for c in self.customers if c.pk in bulk]
        self.head_office = User.objects.get(pk=self.head_office_pk)

    def run(self):
        self.load()
        kinds, weights = zip(*self.KINDS, strict=True)
        # Every kind once first (in this thread's own order), then at random until the
        # deadline: each kind is tried by every thread however slow the machine is.
        first_round = self.rng.sample(kinds, len(kinds))
        while first_round or time.monotonic() < self.deadline:
            kind = first_round.pop() if first_round else self.rng.choices(kinds, weights)[0]
            try:
                getattr(self, kind)()
                self.done[kind] += 1
            except ValidationError as exc:
                self.refused[kind] += 1
                self.refusals[_shape(exc)] += 1
            except Exception as exc:  # anything else fails the run
                self.failures.append((kind, repr(exc), traceback.format_exc()))

    # Helpers

    def rep(self):
        return self.rng.choice(self.reps)

    def customers_of(self, rep, *, bulk=False):
        depot = self.rep_depot[rep.pk]
        pool = self.bulk if bulk else self.customers
        return [c for c in pool if c.depot_id == depot.pk]

    def lines(self):
        codes = self.rng.sample(["12.7KG", "9KG"], self.rng.choice((1, 1, 2)))
        lines = []
        for code in codes:
            quantity = self.rng.randint(1, 4)
            line = {"product": self.products[code], "quantity": quantity}
            if self.rng.random() < 0.7:
                line["empties_returned"] = self.rng.randint(0, quantity)
            lines.append(line)
        return lines

    # The work

    def sale(self):
        rep = self.rep()
        sale_post(
            customer=self.rng.choice(self.customers_of(rep)),
            sales_rep=rep,
            actor=rep,
            lines=self.lines(),
        )

    def meter_sale(self):
        rep = self.rep()
        customer = self.rng.choice(self.customers_of(rep, bulk=True))
        last = Customer.objects.values_list("last_meter_reading", flat=True).get(pk=customer.pk)
        # Mostly a reading above the last one seen; sometimes the same (refused).
        step = Decimal(self.rng.randint(0, 4000)) / 100 if self.rng.random() < 0.9 else 0
        sale_post(
            customer=customer,
            sales_rep=rep,
            actor=rep,
            lines=self.lines() if self.rng.random() < 0.3 else (),
            meter_reading=str(last + step),
        )

    def void(self):
        status = "VOID" if self.rng.random() < 0.1 else "POSTED"
        recent = list(
            Transaction.objects.filter(status=status)
            .order_by("-id")
            .values_list("pk", flat=True)[:25]
        )
        if not recent:
            raise ValidationError("nothing to void yet")
        sale = Transaction.objects.select_related("customer", "sales_rep").get(
            pk=self.rng.choice(recent)
        )
        actor = sale.sales_rep if self.rng.random() < 0.3 else self.head_office
        sale_void(transaction=sale, actor=actor, reason="torture test")

    def payment(self):
        credit = [c for c in self.customers if c.payment_type == "CREDIT"]
        # Now and then a cash customer, who owes nothing (refused).
        customer = self.rng.choice(credit if self.rng.random() < 0.9 else self.customers)
        amount = self.rng.choice(["500.00", "1000.00", "2500.00", "3333.33", "7000.00"])
        payment_record(customer=customer, amount=amount, actor=self.head_office)

    def collection(self):
        rep = self.rep()
        distribution_create(
            sales_rep=rep,
            depot=self.rep_depot[rep.pk],
            product=self.products[self.rng.choice(["12.7KG", "9KG"])],
            quantity=self.rng.randint(1, 12),
            kind="COLLECTION",
            actor=self.rng.choice((rep, self.head_office)),
        )

    def empty_return(self):
        rep = self.rep()
        distribution_create(
            sales_rep=rep,
            depot=self.rep_depot[rep.pk],
            product=self.products[self.rng.choice(["12.7KG", "9KG"])],
            quantity=self.rng.randint(1, 8),
            kind="EMPTY_RETURN",
            actor=rep,
        )

    def receipt(self):
        stock_receive(
            depot=self.rep_depot[self.rep().pk],
            product=self.products[self.rng.choice(["12.7KG", "9KG"])],
            quantity=self.rng.randint(20, 60),
            actor=self.head_office,
        )

    def customer_return(self):
        """Empties collected from a customer without a sale (RET-): refused when they
        hold fewer than that."""
        rep = self.rep()
        codes = self.rng.sample(["12.7KG", "9KG"], self.rng.choice((1, 1, 2)))
        cylinder_return(
            customer=self.rng.choice(self.customers_of(rep)),
            sales_rep=rep,
            lines=[
                {"product": self.products[c], "quantity": self.rng.randint(1, 3)} for c in codes
            ],
            actor=rep,
        )

    def plant_dispatch(self):
        depot = self.rep_depot[self.rep().pk]
        empties_dispatch(
            depot=depot,
            product=self.products[self.rng.choice(["12.7KG", "9KG"])],
            quantity=self.rng.randint(1, 6),
            actor=self.head_office,
            reference=f"DN-{self.rng.randint(1, 99999)}",
        )

    def transfer(self):
        """Either way between the two depots, full or empty: opposite transfers at once
        must not deadlock."""
        depots = list({d.pk: d for d in self.rep_depot.values()}.values())
        source, target = self.rng.sample(depots, 2)
        codes = self.rng.sample(["12.7KG", "9KG"], self.rng.choice((1, 2)))
        stock_transfer(
            from_depot=source,
            to_depot=target,
            lines=[
                {"product": self.products[c], "quantity": self.rng.randint(1, 10)} for c in codes
            ],
            state=self.rng.choice(["FULL", "FULL", "EMPTY"]),
            actor=self.head_office,
        )

    def count_sheet(self):
        """A depot's or a vehicle's count sheet, a few cylinders off what the system held
        a moment ago (postings in between move it: the sheet adjusts to the count)."""
        rep = self.rep()
        where = {"sales_rep": rep} if self.rng.random() < 0.3 else {"depot": self.rep_depot[rep.pk]}
        levels = StockLevel.objects.filter(product__code__in=["12.7KG", "9KG"])
        if "sales_rep" in where:
            levels = levels.filter(sales_rep=rep)
        else:
            levels = levels.filter(depot=where["depot"], sales_rep__isnull=True)
        held = {(lv.product_id, lv.state): lv.quantity for lv in levels}
        lines = []
        for code in self.rng.sample(["12.7KG", "9KG"], self.rng.choice((1, 2))):
            for state in self.rng.sample(["FULL", "EMPTY"], self.rng.choice((1, 2))):
                system = held.get((self.products[code].pk, state), 0)
                counted = max(0, system + self.rng.randint(-3, 2))
                lines.append({"product": self.products[code], "state": state, "counted": counted})
        stock_count_post(lines=lines, reason="torture count", actor=self.head_office, **where)

    def keyed_sale(self):
        key, rep_pk, customer_pk, code, quantity = self.rng.choice(self.business["keyed"])
        rep = next(r for r in self.reps if r.pk == rep_pk)
        sale = sale_post(
            customer=next(c for c in self.customers if c.pk == customer_pk),
            sales_rep=rep,
            actor=rep,
            lines=[{"product": self.products[code], "quantity": quantity}],
            idempotency_key=key,
        )
        self.keyed[key].add(sale.pk)

    def rate_change(self):
        customer = self.rng.choice(self.customers)
        code = self.rng.choice(["12.7KG", "9KG"] + (["BULK"] if customer in self.bulk else []))
        low, high = BULK_RATES if code == "BULK" else CYLINDER_RATES[code]
        rate_set(
            customer=customer,
            product=self.products[code],
            rate=Decimal(self.rng.randint(low, high)),
            actor=self.head_office,
        )

    def rate_import(self):
        """Head office imports a rate table of a few customers (one transaction)."""
        rows = []
        for customer in self.rng.sample(self.customers, self.rng.randint(2, 4)):
            bulk = str(self.rng.randint(*BULK_RATES)) if customer in self.bulk else ""
            cells = [str(self.rng.randint(*CYLINDER_RATES[c])) for c in ("9KG", "12.7KG")]
            rows.append([customer.code, customer.name, bulk, *cells, "", "", "", ""])
        try:
            result = RateTableResource().import_data(
                tablib.Dataset(*rows, headers=RATE_COLUMNS),
                raise_errors=True,
                use_transactions=True,
                user=self.head_office,
                file_name="torture.csv",
            )
        except ImportExportError as exc:
            raise exc.error from exc  # the service's own refusal, or a real failure
        assert not result.has_errors()
        assert not result.has_validation_errors()

    def rate_undo(self):
        batches = list(
            RateImport.objects.filter(undo_of__isnull=True)
            .order_by("-id")[:5]
            .values_list("pk", flat=True)
        )
        if not batches:
            raise ValidationError("nothing to undo yet")
        batch = RateImport.objects.get(pk=self.rng.choice(batches))
        rate_import_undo(batch=batch, actor=self.head_office)


def _shape(exc: ValidationError) -> str:
    """A refusal's message without its figures, to group them in the summary."""
    message = exc.messages[0] if exc.messages else str(exc)
    return "".join("#" if ch.isdigit() else ch for ch in message)[:70]


class _RetryLog(logging.Handler):
    """Counts the lock conflicts atomic_with_retry retried, by SQLSTATE."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.sqlstates = Counter()

    def emit(self, record):
        cause = record.args[1] if isinstance(record.args, tuple) and len(record.args) > 1 else None
        self.sqlstates[getattr(cause, "sqlstate", "?")] += 1


def _run_threads(workers, seconds):
    barrier = threading.Barrier(len(workers))

    def body(worker):
        try:
            barrier.wait(timeout=60)
            worker.run()
        except BaseException as exc:  # reported as a failure of the run
            worker.failures.append(("thread", repr(exc), traceback.format_exc()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(w,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 90)
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"threads still running long after the deadline (deadlock?): {hung}"


def test_sixteen_threads_of_random_business_keep_every_invariant(business, head_office):
    seconds = float(os.environ.get("HSH_TORTURE_SECONDS", "20"))
    retries = _RetryLog()
    logging.getLogger("core.db").addHandler(retries)
    started = time.monotonic()
    workers = [
        _Worker(seed, business, head_office.pk, started + seconds) for seed in range(THREADS)
    ]
    try:
        _run_threads(workers, seconds)
    finally:
        logging.getLogger("core.db").removeHandler(retries)
    elapsed = time.monotonic() - started

    done, refused, shapes = Counter(), Counter(), Counter()
    keyed = defaultdict(set)
    failures = []
    for worker in workers:
        done.update(worker.done)
        refused.update(worker.refused)
        shapes.update(worker.refusals)
        failures.extend(worker.failures)
        for key, pks in worker.keyed.items():
            keyed[key] |= pks
    _print_summary(elapsed, done, refused, shapes, retries)

    # (10) Nothing but a clerk's refusal reached any thread: no deadlock, no
    # serialisation failure, no error; and no lock conflict needed a retry (one fixed
    # lock order means PostgreSQL never had to break a deadlock).
    assert failures == [], "\n\n".join(f"{k}: {r}\n{tb}" for k, r, tb in failures[:5])
    assert retries.sqlstates == Counter(), f"lock conflicts retried: {retries.sqlstates}"
    # The run did real work of every kind.
    for kind, _weight in _Worker.KINDS:
        assert done[kind] >= 3, f"only {done[kind]} {kind} succeeded: {done}"
    assert sum(refused.values()) >= 1

    _check_stock(business)
    _check_cylinders_conserved()
    _check_sales_movements()
    _check_meter_chains(business)
    _check_rates()
    _check_numbers()
    _check_idempotency(business, keyed)
    _check_credit_and_money(business)
    _check_audit(done)


def _print_summary(elapsed, done, refused, shapes, retries):
    width = max(len(k) for k, _ in _Worker.KINDS)
    print(f"\nTorture run: {THREADS} threads for {elapsed:.1f}s")
    for kind, _weight in _Worker.KINDS:
        print(f"  {kind:<{width}}  {done[kind]:>5} done  {refused[kind]:>5} refused")
    total = sum(done.values())
    print(f"  {'total':<{width}}  {total:>5} done  {sum(refused.values()):>5} refused")
    print(f"  {total / elapsed:.0f} successful operations per second")
    print(f"  lock conflicts retried: {dict(retries.sqlstates) or 'none'}")
    print("  refusals:")
    for shape, count in shapes.most_common(12):
        print(f"    {count:>5}  {shape}")


def _check_stock(business):
    # (1) No level is negative; (2) every level is the replay of the ledger.
    assert not StockLevel.objects.filter(quantity__lt=0).exists()
    assert ledger_differences() == []


def _check_cylinders_conserved():
    """(11) Holdings never below zero and equal to their ledger; per cylinder product,
    depots + vehicles + customers = receipts - plant dispatches + adjustments -
    write-offs: check_stock proves both (it exits 1, naming each difference)."""
    assert not CylinderHolding.objects.filter(quantity__lt=0).exists()
    assert not CylinderHolding.objects.filter(deposit_held__lt=0).exists()
    out = StringIO()
    try:
        call_command("check_stock", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"check_stock found differences:\n{out.getvalue()}")
    assert "Cylinders are conserved for all" in out.getvalue()
    assert "cylinder holdings match their ledger" in out.getvalue()
    assert CylinderHolding.objects.filter(quantity__gt=0).count() >= 3


def _vehicle_levels():
    return {
        (level.sales_rep_id, level.product_id, level.state): level.pk
        for level in StockLevel.objects.filter(sales_rep__isnull=False)
    }


def _check_sales_movements():
    """(3) Each sale took its full cylinders off the vehicle and put its empties on it;
    each void put both back, once."""
    levels = _vehicle_levels()
    moved = defaultdict(list)
    for m in StockMovement.objects.filter(doc_type="sales.transaction").values_list(
        "doc_id", "kind", "product_id", "state", "quantity", "from_level_id", "to_level_id"
    ):
        moved[m[0]].append(m[1:])
    sales = Transaction.objects.prefetch_related("lines").select_related("meter_sale")
    checked = 0
    for sale in sales.iterator(chunk_size=500):
        expected = []
        for line in sale.lines.all():
            full = levels[(sale.sales_rep_id, line.product_id, "FULL")]
            empty = levels.get((sale.sales_rep_id, line.product_id, "EMPTY"))
            expected.append(("SALE", line.product_id, "FULL", line.quantity, full, None))
            if line.empties_returned:
                expected.append(
                    ("SALE", line.product_id, "EMPTY", line.empties_returned, None, empty)
                )
            if sale.status == "VOID":
                expected.append(("VOID", line.product_id, "FULL", line.quantity, None, full))
                if line.empties_returned:
                    expected.append(
                        ("VOID", line.product_id, "EMPTY", line.empties_returned, empty, None)
                    )
        assert sorted(moved.pop(sale.pk, []), key=str) == sorted(expected, key=str), sale.number
        checked += 1
    assert moved == {}, f"movements of sales that do not exist: {list(moved)[:5]}"
    voids = Counter(AuditLog.objects.filter(action="sale_void").values_list("object_id", flat=True))
    assert [pk for pk, n in voids.items() if n > 1] == [], "a sale was voided twice"
    assert len(voids) == Transaction.objects.filter(status="VOID").count()
    assert checked == Transaction.objects.count()


def _check_meter_chains(business):
    """(4) Per bulk customer, the posted meter sales continue one from the other and end
    at the customer's reading; replaying posts and voids in audit order (a void gives the
    reading back to where its sale found it) reaches the same reading."""
    meters = {
        m.transaction_id: m
        for m in MeterSale.objects.select_related("transaction").order_by("transaction_id")
    }
    customers = {c.pk: c for c in Customer.objects.all()}
    chains = defaultdict(list)
    for meter in meters.values():
        assert meter.quantity == meter.latest_reading - meter.last_reading
        assert meter.latest_reading > meter.last_reading
        if meter.transaction.status == "POSTED":
            chains[meter.transaction.customer_id].append(meter)
    for customer_id, customer in customers.items():
        reading = Decimal("0")
        for meter in chains.get(customer_id, []):
            assert meter.last_reading == reading, meter.transaction.number
            reading = meter.latest_reading
        assert customer.last_meter_reading == reading, customer.code
    # The same through time, voids included.
    replayed = defaultdict(Decimal)
    entries = AuditLog.objects.filter(action__in=["sale_post", "sale_void"]).order_by("seq")
    for entry in entries.values_list("action", "object_id"):
        meter = meters.get(int(entry[1]))
        if meter is None:
            continue
        customer_id = meter.transaction.customer_id
        if entry[0] == "sale_post":
            assert replayed[customer_id] == meter.last_reading, meter.transaction.number
            replayed[customer_id] = meter.latest_reading
        else:
            assert replayed[customer_id] == meter.latest_reading, meter.transaction.number
            replayed[customer_id] = meter.last_reading
    for customer_id, reading in replayed.items():
        assert customers[customer_id].last_meter_reading == reading
    assert sum(1 for m in meters.values() if m.transaction.status == "POSTED") >= 3


def _check_rates():
    """(5) Every line and meter sale carries the rate in force when it was posted, by
    the rate history (the newest version not after the moment; the later-created wins a
    tie), worked out here independently of the selectors."""
    versions = defaultdict(list)
    for rate in Rate.objects.order_by("effective_from", "id"):
        versions[(rate.customer_id, rate.product_id)].append(rate)

    def in_force(customer_id, product_id, at):
        found = None
        for version in versions[(customer_id, product_id)]:
            if version.effective_from <= at:
                found = version
        return found.rate

    wrong = []
    lines = TransactionLine.objects.select_related("transaction")
    for line in lines.iterator(chunk_size=2000):
        sale = line.transaction
        expected = in_force(sale.customer_id, line.product_id, sale.created_at)
        if line.rate != expected:
            wrong.append((sale.number, line.product_id, line.rate, expected))
    for meter in MeterSale.objects.select_related("transaction"):
        sale = meter.transaction
        expected = in_force(sale.customer_id, meter.product_id, sale.created_at)
        if meter.rate != expected:
            wrong.append((sale.number, "meter", meter.rate, expected))
    assert wrong == [], f"{len(wrong)} sales priced at a rate not in force: {wrong[:5]}"


def _numbers_gapless(numbers, series):
    by_year = defaultdict(list)
    for number in numbers:
        prefix, year, counter = number.split("-")
        assert prefix == series
        by_year[int(year)].append(int(counter))
    for year, counters in by_year.items():
        assert sorted(counters) == list(range(1, len(counters) + 1)), (series, year)
        last = DocumentCounter.objects.get(series=series, year=year).last_value
        assert last == len(counters), (series, year)


def _check_numbers():
    """(6) Sale numbers (and distribution and payment numbers) are unique and gapless per
    year, and each counter stands at the last number issued."""
    _numbers_gapless(Transaction.objects.values_list("number", flat=True), "TX")
    _numbers_gapless(Distribution.objects.values_list("distribution_no", flat=True), "DST")
    _numbers_gapless(Payment.objects.values_list("number", flat=True), "PAY")
    _numbers_gapless(CylinderReturn.objects.values_list("number", flat=True), "RET")
    _numbers_gapless(Transfer.objects.values_list("number", flat=True), "TRF")
    _numbers_gapless(StockCount.objects.values_list("number", flat=True), "CNT")


def _check_idempotency(business, keyed):
    """(7) Each key sent by several threads posted one sale, which every retry got back."""
    assert len(keyed) >= 3, "too few keyed sales succeeded to prove anything"
    for key, _rep, _customer, _code, _qty in business["keyed"]:
        posted = list(Transaction.objects.filter(idempotency_key=key).values_list("pk", flat=True))
        assert len(posted) <= 1, key
        if key in keyed:
            assert keyed[key] == set(posted), key


def _check_credit_and_money(business):
    """(8) No credit sale took a customer past the limit: replay sales, voids and payments
    in audit order and look at the balance after each sale. And the money adds up: totals,
    what is paid, what payments settled."""
    customers = {c.pk: c for c in Customer.objects.all()}
    sales = {s.pk: s for s in Transaction.objects.all()}
    payments = {p.pk: p for p in Payment.objects.all()}
    balance = defaultdict(Decimal)
    entries = AuditLog.objects.filter(
        action__in=["sale_post", "sale_void", "payment_record"]
    ).order_by("seq")
    for action, object_id in entries.values_list("action", "object_id"):
        if action == "payment_record":
            payment = payments[int(object_id)]
            balance[payment.customer_id] -= payment.amount
            continue
        sale = sales[int(object_id)]
        if sale.payment_type != "CREDIT":
            continue
        if action == "sale_post":
            balance[sale.customer_id] += sale.total_amount
            limit = customers[sale.customer_id].credit_limit
            assert limit is None or balance[sale.customer_id] <= limit, sale.number
        else:
            balance[sale.customer_id] -= sale.total_amount
    limited = 0
    for customer in customers.values():
        assert customer_balance(customer=customer) == balance[customer.pk], customer.code
        if customer.credit_limit is not None:
            limited += 1
            assert balance[customer.pk] <= customer.credit_limit, customer.code

    # Totals and settlement.
    lines = defaultdict(Decimal)
    for line in TransactionLine.objects.all():
        assert line.subtotal == (line.quantity * line.rate).quantize(CENT)
        lines[line.transaction_id] += line.subtotal
    for meter in MeterSale.objects.all():
        lines[meter.transaction_id] += meter.subtotal
    allocated_to = defaultdict(Decimal)
    allocated_from = defaultdict(Decimal)
    for allocation in PaymentAllocation.objects.all():
        allocated_to[allocation.transaction_id] += allocation.amount
        allocated_from[allocation.payment_id] += allocation.amount
    for sale in sales.values():
        assert sale.total_amount == lines[sale.pk], sale.number
        if sale.payment_type == "CASH":
            assert sale.amount_paid == sale.total_amount, sale.number
            assert sale.is_paid, sale.number
        else:
            assert sale.amount_paid == allocated_to[sale.pk], sale.number
            assert sale.is_paid == (sale.amount_paid >= sale.total_amount), sale.number
            if sale.status == "VOID":
                assert sale.amount_paid == 0, sale.number
    for payment in payments.values():
        assert payment.allocated == allocated_from[payment.pk], payment.number
    assert limited >= 4
    # check_money: the same, and no money on account left beside an unpaid sale.
    out = StringIO()
    try:
        call_command("check_money", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"check_money found differences:\n{out.getvalue()}")


APPEND_ONLY_SQL = """
SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE t.tgname LIKE '%%\\_append\\_only' ORDER BY 1
"""


def _check_audit(done):
    """(9) The audit chain verifies, holds one entry per posted action, and the
    append-only tables still refuse UPDATE and DELETE."""
    problem = first_break()
    assert problem == (None, None), problem
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit chain intact" in out.getvalue()

    actions = Counter(AuditLog.objects.values_list("action", flat=True))
    assert actions["sale_post"] == Transaction.objects.count()
    assert actions["sale_void"] == Transaction.objects.filter(status="VOID").count()
    assert actions["payment_record"] == Payment.objects.count()
    assert actions["distribution_create"] == Distribution.objects.count()
    assert actions["rate_set"] == Rate.objects.count()
    assert actions["stock_receive"] == StockMovement.objects.filter(kind="RECEIPT").count()
    assert actions["cylinder_return"] == CylinderReturn.objects.count()
    assert (
        actions["empties_dispatch"] == StockMovement.objects.filter(kind="PLANT_DISPATCH").count()
    )
    assert actions["stock_transfer"] == Transfer.objects.count()
    assert actions["stock_count_post"] == StockCount.objects.count()
    # Refused work wrote nothing: what the threads saw succeed is what the log holds (a
    # retried key returns its first sale without posting again).
    assert actions["payment_record"] >= done["payment"]
    assert actions["sale_void"] == done["void"]

    with connection.cursor() as cursor:
        cursor.execute(APPEND_ONLY_SQL)
        tables = [row[0] for row in cursor.fetchall()]
    for table in ("core_auditlog", "stock_stockmovement", "sales_transactionline"):
        assert table in tables
    refused = 0
    for table in tables:
        with connection.cursor() as cursor:
            pk = connection.introspection.get_primary_key_column(cursor, table)
            cursor.execute(f"SELECT min({pk}) FROM {table}")  # noqa: S608 - catalogue names
            first = cursor.fetchone()[0]
        if first is None:
            continue
        for statement in (
            f"UPDATE {table} SET {pk} = {pk} WHERE {pk} = %s",  # noqa: S608
            f"DELETE FROM {table} WHERE {pk} = %s",  # noqa: S608
        ):
            with (
                pytest.raises(DatabaseError, match=f"table {table} is append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [first])
            refused += 1
    assert refused >= 2 * 6


# --- The database connection cut mid-sale -------------------------------------------


def _terminate_backend(pid) -> bool:
    """pg_terminate_backend from another connection (another thread), waiting until the
    backend is gone."""
    result = []

    def kill():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
                result.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    killer = threading.Thread(target=kill)
    killer.start()
    killer.join(15)
    return result == [True]


def _cut_connection_inside(monkeypatch, module, name):
    """The first call of module.name (made inside the sale's transaction, after its stock
    movements and meter reading are written) has the caller's database backend
    terminated, then goes on, into the dead connection. Returns the list of cuts."""
    real = getattr(module, name)
    cuts = []

    def cut(*args, **kwargs):
        if not cuts:
            pid = connection.connection.info.backend_pid
            cuts.append((pid, _terminate_backend(pid)))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, cut)
    return cuts


def _backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def bulk_customer(north, sales_rep, head_office):
    """A cash customer with a bulk tank at 100.00, and the representative's vehicle with
    twenty full 12.7KG cylinders."""
    cyl, bulk = Product.objects.get(code="12.7KG"), Product.objects.get(code="BULK")
    stock_receive(depot=north, product=cyl, quantity=50, actor=head_office)
    distribution_create(
        sales_rep=sales_rep,
        depot=north,
        product=cyl,
        quantity=20,
        kind="COLLECTION",
        actor=sales_rep,
    )
    customer = Customer.objects.create(code="C1", name="Hotel", depot=north)
    rate_set(customer=customer, product=cyl, rate="3000", actor=head_office)
    rate_set(customer=customer, product=bulk, rate="250", actor=head_office)
    sale_post(customer=customer, sales_rep=sales_rep, actor=sales_rep, meter_reading="100")
    return customer


def _state(customer):
    """Everything a sale writes, counted."""
    return {
        "rows": {
            model.__name__: model.objects.count()
            for model in (
                Transaction,
                TransactionLine,
                MeterSale,
                StockMovement,
                AuditLog,
                IdempotencyKey,
                SubmissionToken,
            )
        },
        "history": (Transaction.history.count(), StockLevel.history.count()),
        "levels": dict(StockLevel.objects.values_list("pk", "quantity")),
        "reading": Customer.objects.get(pk=customer.pk).last_meter_reading,
        "counters": dict(DocumentCounter.objects.values_list("series", "last_value")),
        "audit_head": list(connection.cursor().execute("SELECT * FROM core_auditchainhead")),
    }


SALE = {
    "customer": "C1",
    "lines": [{"product": "12.7KG", "quantity": 2, "empties_returned": 1}],
    "meter_reading": "150.00",
}


def test_a_connection_cut_mid_sale_writes_nothing_and_says_so(
    bulk_customer, sales_rep, monkeypatch
):
    client = APIClient()
    client.force_authenticate(sales_rep)
    before = _state(bulk_customer)
    cuts = _cut_connection_inside(monkeypatch, sale_service, "sale_audit_data")

    response = client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="hh-1")

    assert [killed for _pid, killed in cuts] == [True], "the backend was not terminated"
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "status": 503,
            "code": "database_unavailable",
            "message": "The database connection was lost; nothing was saved. Try again.",
            "fields": {},
        }
    }
    assert response["Retry-After"] == "1"
    # The next request on this thread has a new connection, and finds nothing written:
    # no sale, line, meter sale, movement, audit entry, history row or key; stock, the
    # meter reading and the sale number counter as they were.
    assert _backend_pid() != cuts[0][0]
    assert client.get("/api/customers/C1/").json()["last_meter_reading"] == "100.00"
    assert _state(bulk_customer) == before
    monkeypatch.undo()

    retried = client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="hh-1")
    assert retried.status_code == 201, retried.content
    year = retried.json()["number"].split("-")[1]
    assert retried.json()["number"] == f"TX-{year}-000002"  # no gap where the cut one was
    again = client.post("/api/sales/", SALE, format="json", HTTP_IDEMPOTENCY_KEY="hh-1")
    assert again.status_code == 201
    assert again["Idempotent-Replay"] == "true"
    assert again.json()["number"] == retried.json()["number"]
    after = _state(bulk_customer)
    assert after["rows"]["Transaction"] == before["rows"]["Transaction"] + 1
    assert after["rows"]["StockMovement"] == before["rows"]["StockMovement"] + 2
    assert after["reading"] == Decimal("150.00")
    assert ledger_differences() == []
    assert first_break() == (None, None)


def test_a_connection_cut_in_the_admin_sale_form_shows_a_clear_message(
    client, bulk_customer, sales_rep, head_office, monkeypatch
):
    cyl = Product.objects.get(code="12.7KG")
    url = reverse("admin:sales_transaction_add")
    data = {
        "customer": bulk_customer.pk,
        "sales_rep": sales_rep.pk,
        f"qty_{cyl.pk}": 2,
        f"empties_{cyl.pk}": 1,
        "meter_reading": "150.00",
    }
    client.force_login(head_office)
    preview = client.post(url, {**data, "_preview": "1"})
    assert preview.context["stage"] == "confirm", preview.context["form"].errors
    confirm = {**data, "_confirm": "1", "_token": preview.context["token"]}
    before = _state(bulk_customer)
    cuts = _cut_connection_inside(monkeypatch, sale_service, "sale_audit_data")

    page = client.post(url, confirm)

    assert [killed for _pid, killed in cuts] == [True]
    assert page.status_code == 200  # the form again, with the reason on it
    assert page.context["form"].non_field_errors() == [
        "The database connection was lost; nothing was saved. Try again."
    ]
    assert b"The database connection was lost; nothing was saved. Try again." in page.content
    assert _state(bulk_customer) == before
    monkeypatch.undo()

    # The same confirmation sent again posts once (its token was not kept either).
    posted = client.post(url, confirm)
    assert posted.status_code == 302
    twice = client.post(url, confirm)
    assert "already posted" in str(twice.context["form"].non_field_errors())
    assert Transaction.objects.count() == before["rows"]["Transaction"] + 1
    assert ledger_differences() == []


def test_an_admin_page_whose_connection_is_cut_is_a_503_that_says_so(
    client, head_office, monkeypatch
):
    """Outside the posting forms, the middleware answers instead of a bare 500 page."""
    import core.admin_site as admin_site_module

    client.force_login(head_office)
    cuts = _cut_connection_inside(monkeypatch, admin_site_module, "panels_for")
    page = client.get(reverse("admin:index"))
    assert [killed for _pid, killed in cuts] == [True]
    assert page.status_code == 503
    assert b"The database connection was lost; nothing was saved. Try again." in page.content
    monkeypatch.undo()
    assert client.get(reverse("admin:index")).status_code == 200
