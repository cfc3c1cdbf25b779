"""1. Sale posting: N concurrent clients posting 2-line sales through `sale_post`, against
raw SQL doing the same row writes (sale, its history row, two lines, four stock-level
updates with their history rows, four ledger movements, the document counter, the audit
entry and the chain head) in one transaction each.

Each client is a process of its own (as web workers are), with its own representative,
vehicle and customers; all of them share the hot rows every sale must take: the document
counter and the audit chain head. Target: sale_post at least half the raw rate.
"""

import json
import multiprocessing
import queue
import time
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection, connections

from bench import dataset

NAME = "sale_posting"
CUSTOMERS_PER_CLIENT = 20


def add_arguments(parser):
    group = parser.add_argument_group(NAME)
    group.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    group.add_argument(
        "--sale-seconds", type=float, default=20.0, help="seconds each side posts for (20)"
    )


def _setup(clients):
    """Per client: a representative with a loaded vehicle and priced cash customers."""
    from core.models import Depot, User
    from core.services import user_create
    from sales.models import Customer
    from sales.services import rate_set
    from stock.models import Product, StockLevel
    from stock.services import distribution_create, stock_receive

    admin = dataset.actors()
    depot, _ = Depot.objects.get_or_create(code="BENCHPOST", defaults={"name": "Posting bench"})
    products = [Product.objects.get(code="12.7KG"), Product.objects.get(code="9KG")]
    setups = []
    for i in range(clients):
        rep = User.objects.filter(username=f"bench-poster-{i}").first() or user_create(
            username=f"bench-poster-{i}",
            password=dataset.PASSWORD,
            role="SALES",
            depots=[depot],
            vehicle_no=f"BP-{i}",
            actor=admin,
        )
        for product in products:
            full = StockLevel.objects.filter(sales_rep=rep, product=product, state="FULL")
            if (full.values_list("quantity", flat=True).first() or 0) < 200_000:
                stock_receive(depot=depot, product=product, quantity=500_000, actor=admin)
                distribution_create(
                    sales_rep=rep,
                    depot=depot,
                    product=product,
                    quantity=500_000,
                    kind="COLLECTION",
                    actor=admin,
                )
        customers = []
        for c in range(CUSTOMERS_PER_CLIENT):
            customer, created = Customer.objects.get_or_create(
                code=f"BP{i:02d}{c:03d}",
                defaults={"name": f"Posting customer {i}-{c}", "depot": depot},
            )
            if created:
                for product, rate in zip(products, ("3000.00", "2200.00"), strict=True):
                    rate_set(customer=customer, product=product, rate=Decimal(rate), actor=admin)
            customers.append(customer.pk)
        setups.append({"rep": rep.pk, "customers": customers})
    return setups, [p.pk for p in products]


def _orm_client(setup, products, start_at, seconds, results):
    from core.models import User
    from sales.models import Customer
    from sales.services import sale_post
    from stock.models import Product

    rep = User.objects.get(pk=setup["rep"])
    customers = list(Customer.objects.filter(pk__in=setup["customers"]))
    p1, p2 = (Product.objects.get(pk=pk) for pk in products)
    lines = [
        {"product": p1, "quantity": 1, "empties_returned": 1},
        {"product": p2, "quantity": 1, "empties_returned": 1},
    ]
    time.sleep(max(0.0, start_at - time.time()))
    deadline, done = time.time() + seconds, 0
    while time.time() < deadline:
        sale_post(customer=customers[done % len(customers)], sales_rep=rep, actor=rep, lines=lines)
        done += 1
    results.put(done)
    connections.close_all()


RAW_SALE = [
    "SELECT id, payment_type, credit_limit FROM sales_customer WHERE id = %(customer)s FOR UPDATE",
    # the rate in force for each product
    "SELECT DISTINCT ON (product_id) product_id, rate FROM sales_rate "
    "WHERE customer_id = %(customer)s AND product_id = ANY(%(products)s) "
    "AND effective_from <= now() ORDER BY product_id, effective_from DESC, id DESC",
    "SELECT id, quantity FROM stock_stocklevel WHERE id = ANY(%(levels)s) ORDER BY id FOR UPDATE",
]


def _raw_client(setup, products, start_at, seconds, results, params):
    import psycopg

    from core.services import AUDIT_WRITER_VERSION, audit_hash

    conn = psycopg.connect(**params, autocommit=False)
    cur = conn.cursor()
    cur.execute(
        "SELECT id, depot_id, product_id, state FROM stock_stocklevel WHERE sales_rep_id = %s "
        "AND product_id = ANY(%s)",
        [setup["rep"], products],
    )
    levels = {(p, s): (pk, depot) for pk, depot, p, s in cur.fetchall()}
    depot = next(iter(levels.values()))[1]
    rep, year = setup["rep"], datetime.now(UTC).year
    cur.execute(
        "INSERT INTO core_documentcounter (series, year, last_value) VALUES ('BR', %s, 0) "
        "ON CONFLICT DO NOTHING",
        [year],
    )
    conn.commit()

    class Entry:
        pass

    time.sleep(max(0.0, start_at - time.time()))
    deadline, done = time.time() + seconds, 0
    while time.time() < deadline:
        customer = setup["customers"][done % len(setup["customers"])]
        args = {
            "customer": customer,
            "products": products,
            "levels": sorted(pk for pk, _ in levels.values()),
        }
        for sql in RAW_SALE:
            cur.execute(sql, args)
            cur.fetchall()
        cur.execute(
            "UPDATE core_documentcounter SET last_value = last_value + 1 "
            "WHERE series = 'BR' AND year = %s RETURNING last_value",
            [year],
        )
        number = f"BR-{year}-{cur.fetchone()[0]:07d}"
        now = datetime.now(UTC)
        cur.execute(
            "INSERT INTO sales_transaction (number, customer_id, sales_rep_id, depot_id, "
            "payment_type, total_amount, cylinders, metered, amount_paid, is_paid, status, "
            "created_by_id, created_at, occurred_at, void_reason) VALUES (%s, %s, %s, %s, "
            "'CASH', 5200, 2, 0, 5200, true, 'POSTED', %s, %s, %s, '') RETURNING id",
            [number, customer, rep, depot, rep, now, now],
        )
        sale = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO sales_historicaltransaction (id, number, payment_type, total_amount, "
            "cylinders, metered, amount_paid, is_paid, status, created_at, void_reason, "
            "customer_id, sales_rep_id, depot_id, created_by_id, history_date, history_type, "
            "history_user_id) VALUES (%s, %s, 'CASH', 5200, 2, 0, 5200, true, 'POSTED', %s, "
            "'', %s, %s, %s, %s, %s, '+', %s)",
            [sale, number, now, customer, rep, depot, rep, now, rep],
        )
        cur.execute(
            "INSERT INTO sales_transactionline (transaction_id, product_id, quantity, "
            "empties_returned, rate, subtotal) VALUES (%s, %s, 1, 1, 3000, 3000), "
            "(%s, %s, 1, 1, 2200, 2200)",
            [sale, products[0], sale, products[1]],
        )
        changes = [(levels[(p, "FULL")][0], -1, p, "FULL", "from_level_id") for p in products] + [
            (levels[(p, "EMPTY")][0], 1, p, "EMPTY", "to_level_id") for p in products
        ]
        cur.execute(
            "UPDATE stock_stocklevel l SET quantity = l.quantity + v.delta, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::int[]) AS v(id, delta) WHERE l.id = v.id "
            "RETURNING l.id, l.quantity",
            [now, [c[0] for c in changes], [c[1] for c in changes]],
        )
        cur.fetchall()
        cur.execute(
            "INSERT INTO stock_historicalstocklevel (id, state, quantity, depot_id, "
            "sales_rep_id, product_id, history_date, history_type, history_user_id) "
            "SELECT l.id, l.state, l.quantity, l.depot_id, l.sales_rep_id, l.product_id, "
            "%s, '~', %s FROM stock_stocklevel l WHERE l.id = ANY(%s)",
            [now, rep, [c[0] for c in changes]],
        )
        cur.execute(
            "INSERT INTO stock_stockmovement (kind, product_id, state, quantity, "
            "from_level_id, to_level_id, depot_id, sales_rep_id, actor_id, created_at, "
            "doc_type, doc_id, reference, note) SELECT 'SALE', v.product, v.state, 1, "
            "v.from_level, v.to_level, %s, %s, %s, %s, 'sales.transaction', %s, %s, '' "
            "FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[]) "
            "AS v(product, state, from_level, to_level)",
            [
                depot,
                rep,
                rep,
                now,
                sale,
                number,
                [c[2] for c in changes],
                [c[3] for c in changes],
                [c[0] if c[4] == "from_level_id" else None for c in changes],
                [c[0] if c[4] == "to_level_id" else None for c in changes],
            ],
        )
        cur.execute("SELECT last_seq, last_hash FROM core_auditchainhead WHERE id = 1 FOR UPDATE")
        seq, prev = cur.fetchone()
        entry = Entry()
        entry.seq, entry.prev_hash, entry.actor_id = seq + 1, prev, rep
        entry.action, entry.object_type, entry.object_id = (
            "sale_post",
            "sales.transaction",
            str(sale),
        )
        entry.depot_id, entry.created_at = depot, now
        entry.data = {"number": number, "customer": customer, "total": "5200.00"}
        digest = audit_hash(entry)
        cur.execute(
            "INSERT INTO core_auditlog (seq, actor_id, action, object_type, object_id, "
            "depot_id, data, created_at, prev_hash, hash, writer_version) VALUES (%s, %s, "
            "%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                entry.seq,
                rep,
                entry.action,
                entry.object_type,
                entry.object_id,
                depot,
                json.dumps(entry.data),
                now,
                prev,
                digest,
                AUDIT_WRITER_VERSION,
            ],
        )
        cur.execute(
            "UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = 1",
            [entry.seq, digest],
        )
        conn.commit()
        done += 1
    results.put(done)
    conn.close()


def _measure(target, setups, products, seconds, *extra):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    connections.close_all()  # children open their own
    start_at = time.time() + 1.0
    procs = [
        context.Process(target=target, args=(s, products, start_at, seconds, results, *extra))
        for s in setups
    ]
    for proc in procs:
        proc.start()
    counts, deadline = [], time.time() + seconds + 120
    while len(counts) < len(procs):
        try:
            counts.append(results.get(timeout=1))
        except queue.Empty:
            failed = [p for p in procs if p.exitcode]
            if failed or time.time() > deadline:
                for proc in procs:
                    proc.terminate()
                raise SystemExit(f"a {target.__name__} process failed or hung") from None
    for proc in procs:
        proc.join()
    return sum(counts) / seconds


def run(args):
    dataset.require_postgresql()
    setups, products = _setup(args.clients)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    orm = _measure(_orm_client, setups, products, args.sale_seconds)
    raw = _measure(_raw_client, setups, products, args.sale_seconds, params)
    return [
        {
            "case": f"{args.clients} clients, 2-line sales",
            "sale_post_per_s": f"{orm:.0f}",
            "raw_sql_per_s": f"{raw:.0f}",
            "ratio": f"{orm / raw:.2f}",
            "target": ">= 0.50",
            "ok": orm / raw >= 0.5,
        }
    ]
