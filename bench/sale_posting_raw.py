"""The raw clients of sale_posting_full: psycopg, no ORM, one transaction per sale.

`RawPoster(full=True)` ("raw A") writes the rows `sale_post` writes for the benchmark's
sale (2 lines, deposits charged, an e-mailed cash customer): the sale and its history
row, its lines, the four stock levels and their history rows, the four ledger rows, the
customer's two holdings and their entries, the year's counter, the audit entry and the
chain head, and the outbox row. `full=False` ("raw B") writes the business rows only:
no history rows, no audit entry or chain head, no outbox row.

Fewest statements, as a hand-written client would: the reads and locks first (the
customer and the representative, the tax rate's lock, the stock levels, then the rates,
deposits and tax rate in one query), then the counter, then one statement per table
(a row and its history row, the holdings and their entries, the audit entry and the
chain head by data-modifying CTEs). psycopg's defaults: parameters bound by the server,
and each statement prepared once it has run 5 times. `sale()` returns the shared window:
the seconds from the counter's UPDATE returning to COMMIT returning, and its parts.
"""

import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

SERIES = "BF"  # the raw clients' own number series (sale_posting's raw client uses BR)

LOCKS = (
    "SELECT c.payment_type, c.email, c.email_invoices, c.deposit_exempt, c.code, "
    "c.is_active, u.username, (SELECT ud.depot_id FROM core_user_depots ud JOIN core_depot "
    "d ON d.id = ud.depot_id WHERE ud.user_id = u.id ORDER BY d.code LIMIT 1) "
    "FROM sales_customer c, core_user u WHERE c.id = %(customer)s AND u.id = %(rep)s "
    "FOR UPDATE OF c FOR SHARE OF u"
)
LEVELS = (
    "SELECT id, quantity FROM stock_stocklevel WHERE id = ANY(%(levels)s) ORDER BY id FOR UPDATE"
)
PRICES = (
    "SELECT 'rate', product_id, rate FROM (SELECT DISTINCT ON (product_id) product_id, rate "
    "FROM sales_rate WHERE customer_id = %(customer)s AND product_id = ANY(%(products)s) "
    "AND effective_from <= %(now)s ORDER BY product_id, effective_from DESC, id DESC) r "
    "UNION ALL SELECT 'deposit', product_id, amount FROM (SELECT DISTINCT ON (product_id) "
    "product_id, amount FROM sales_depositrate WHERE product_id = ANY(%(products)s) AND "
    "effective_from <= %(now)s ORDER BY product_id, effective_from DESC, id DESC) d "
    "UNION ALL SELECT 'tax', NULL, rate FROM (SELECT rate FROM sales_taxrate WHERE "
    "effective_from <= %(now)s ORDER BY effective_from DESC, id DESC LIMIT 1) t"
)
COUNTER = (
    "UPDATE core_documentcounter SET last_value = last_value + 1 "
    "WHERE series = %(series)s AND year = %(year)s RETURNING last_value"
)
SALE_COLUMNS = (
    "number, customer_id, sales_rep_id, depot_id, payment_type, net_amount, tax_rate, "
    "tax_amount, deposit_amount, deposit_refund, total_amount, cylinders, metered, "
    "amount_paid, is_paid, status, idempotency_key, request_fingerprint, created_at, "
    "void_reason, voided_by_id, voided_at"
)
SALE_INSERT = (
    f"INSERT INTO sales_transaction ({SALE_COLUMNS}, created_by_id, occurred_at) VALUES "
    "(%(number)s, %(customer)s, %(rep)s, %(depot)s, 'CASH', %(net)s, %(tax_rate)s, %(tax)s, "
    "%(deposit)s, 0, %(total)s, %(cylinders)s, 0, %(total)s, true, 'POSTED', NULL, '', "
    "%(now)s, '', NULL, NULL, %(rep)s, %(now)s) RETURNING *"
)
SALE = f"{SALE_INSERT[: -len(' RETURNING *')]} RETURNING id"
SALE_WITH_HISTORY = (
    f"WITH s AS ({SALE_INSERT}) INSERT INTO sales_historicaltransaction (id, {SALE_COLUMNS}, "
    "created_by_id, history_date, history_change_reason, history_type, history_user_id) "
    f"SELECT id, {SALE_COLUMNS}, created_by_id, %(now)s, '', '+', %(rep)s FROM s RETURNING id"
)
LINES = (
    "INSERT INTO sales_transactionline (transaction_id, product_id, quantity, "
    "empties_returned, rate, subtotal, deposit_rate, deposit, deposit_refund) "
    "SELECT %(sale)s, v.* FROM unnest(%(products)s::bigint[], %(quantities)s::int[], "
    "%(empties)s::int[], %(rates)s::numeric[], %(subtotals)s::numeric[], "
    "%(deposit_rates)s::numeric[], %(deposits)s::numeric[], %(refunds)s::numeric[]) AS v"
)
LEVELS_MOVE = (
    "UPDATE stock_stocklevel l SET quantity = l.quantity + v.delta, updated_at = %(now)s "
    "FROM unnest(%(level_ids)s::bigint[], %(deltas)s::int[]) AS v(id, delta) WHERE l.id = v.id"
)
LEVELS_MOVE_WITH_HISTORY = (
    f"WITH l AS ({LEVELS_MOVE} RETURNING l.*) INSERT INTO stock_historicalstocklevel (id, "
    "state, quantity, depot_id, sales_rep_id, product_id, history_date, "
    "history_change_reason, history_type, history_user_id) SELECT id, state, quantity, "
    "depot_id, sales_rep_id, product_id, %(now)s, '', '~', %(rep)s FROM l"
)
LEDGER = (
    "INSERT INTO stock_stockmovement (kind, product_id, state, quantity, from_level_id, "
    "to_level_id, depot_id, sales_rep_id, actor_id, created_at, doc_type, doc_id, "
    "reference, note) SELECT 'SALE', v.*, %(depot)s, %(rep)s, %(rep)s, %(now)s, "
    "'sales.transaction', %(sale)s, %(number)s, '' FROM unnest(%(move_products)s::bigint[], "
    "%(move_states)s::text[], %(move_quantities)s::int[], %(move_from)s::bigint[], "
    "%(move_to)s::bigint[]) AS v"
)
# A holding only grows in this benchmark's sale (checked in Python): the inserted row
# carries the change itself.
HOLDINGS = (
    "WITH v AS (SELECT * FROM unnest(%(products)s::bigint[], %(growth)s::int[], "
    "%(deposits)s::numeric[]) AS v(product, quantity, deposit)), h AS (INSERT INTO "
    "sales_cylinderholding AS h (customer_id, product_id, quantity, deposit_held, "
    "last_movement_at) SELECT %(customer)s, product, quantity, deposit, %(now)s FROM v "
    "ON CONFLICT (customer_id, product_id) DO UPDATE SET quantity = h.quantity + "
    "excluded.quantity, deposit_held = h.deposit_held + excluded.deposit_held, "
    "last_movement_at = greatest(h.last_movement_at, excluded.last_movement_at) "
    "RETURNING id, product_id) INSERT INTO sales_holdingentry (holding_id, customer_id, "
    "product_id, kind, quantity, deposit, refund_to, sales_rep_id, actor_id, created_at, "
    "doc_type, doc_id, reference, note) SELECT h.id, %(customer)s, h.product_id, 'SALE', "
    "v.quantity, v.deposit, '', %(rep)s, %(rep)s, %(now)s, 'sales.transaction', %(sale)s, "
    "%(number)s, '' FROM h JOIN v ON v.product = h.product_id"
)
HEAD = "SELECT last_seq, last_hash FROM core_auditchainhead WHERE id = 1 FOR UPDATE"
AUDIT = (
    "WITH entry AS (INSERT INTO core_auditlog (seq, actor_id, action, object_type, "
    "object_id, depot_id, data, created_at, prev_hash, hash, writer_version) VALUES "
    "(%(seq)s, %(rep)s, 'sale_post', 'sales.transaction', %(object_id)s, %(depot)s, "
    "%(data)s::jsonb, %(now)s, %(prev)s, %(hash)s, %(version)s) RETURNING id) "
    "UPDATE core_auditchainhead SET last_seq = %(seq)s, last_hash = %(hash)s "
    "FROM entry WHERE core_auditchainhead.id = 1"
)
OUTBOX = (
    'INSERT INTO core_outboxmessage (key, kind, document_type, document_id, number, "to", '
    "status, attempts, next_attempt_at, last_error, sent_at, created_at, resend_of_id) "
    "VALUES (%(key)s, 'INVOICE', 'sales.Transaction', %(sale)s, %(number)s, %(to)s, "
    "'PENDING', 0, %(now)s, '', NULL, %(now)s, NULL)"
)
CENT = Decimal("0.01")


class _Entry:
    """What audit_hash reads of an entry."""


class _Timed:
    """A cursor that adds up the time its statements take once `on` (in the window)."""

    def __init__(self, cursor):
        self.cursor, self.on, self.seconds, self.statements = cursor, False, 0.0, 0

    def execute(self, sql, args=None):
        start = time.perf_counter()
        self.cursor.execute(sql, args)
        if self.on:
            self.seconds += time.perf_counter() - start
            self.statements += 1

    def fetchone(self):
        return self.cursor.fetchone()

    def fetchall(self):
        return self.cursor.fetchall()


class RawPoster:
    """One client's connection and the ids it posts with (read once)."""

    def __init__(self, params, setup, products, lines, *, full):
        import psycopg

        from sales.services.tax import TAX_RATE_LOCK_KEY

        self.full, self.rep, self.products = full, setup["rep"], list(products)
        self.lines = list(lines)  # (quantity, empties returned) per product
        self.lock_key = TAX_RATE_LOCK_KEY
        self.conn = psycopg.connect(**params, autocommit=False)
        self.cur = self.conn.cursor()
        # The vehicle's empty levels, at zero where no sale made them yet (a new database):
        # as levels_lock makes them on a first sale.
        self.cur.execute(
            "INSERT INTO stock_stocklevel (depot_id, sales_rep_id, product_id, state, quantity, "
            "updated_at) SELECT depot_id, sales_rep_id, product_id, 'EMPTY', 0, now() "
            "FROM stock_stocklevel WHERE sales_rep_id = %s AND product_id = ANY(%s) "
            "AND state = 'FULL' ON CONFLICT DO NOTHING",
            [self.rep, self.products],
        )
        self.cur.execute(
            "SELECT id, product_id, state FROM stock_stocklevel WHERE sales_rep_id = %s "
            "AND product_id = ANY(%s)",
            [self.rep, self.products],
        )
        self.levels = {(p, s): pk for pk, p, s in self.cur.fetchall()}
        self.year = datetime.now(UTC).year
        self.cur.execute(
            "INSERT INTO core_documentcounter (series, year, last_value) VALUES (%s, %s, 0) "
            "ON CONFLICT DO NOTHING",
            [SERIES, self.year],
        )
        self.conn.commit()

    def close(self):
        self.conn.close()

    def sale(self, customer):
        """Post one sale to `customer`; its shared window: [seconds from the counter's
        UPDATE returning to COMMIT returning, of which in statements, of which in COMMIT,
        statements, the client's CPU seconds in it]."""
        from django.conf import settings

        from core.services import AUDIT_WRITER_VERSION, audit_hash
        from sales.services.tax import tax_compute

        cur, rep, products = _Timed(self.cur), self.rep, self.products
        now = datetime.now(UTC)
        args = {"customer": customer, "rep": rep, "products": products, "now": now}
        cur.execute(LOCKS, args)
        _, email, email_invoices, exempt, code, active, username, depot = cur.fetchone()
        if not active or depot is None:
            raise RuntimeError(f"customer {code} or {username} cannot sell")
        cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", [self.lock_key])
        args["levels"] = sorted(self.levels.values())
        cur.execute(LEVELS, args)
        stock = dict(cur.fetchall())
        for product, (quantity, _) in zip(products, self.lines, strict=True):
            if stock[self.levels[(product, "FULL")]] < quantity:
                raise RuntimeError("not enough stock on the vehicle")
        cur.execute(PRICES, args)
        prices = {(kind, product): value for kind, product, value in cur.fetchall()}
        rates = [prices[("rate", p)] for p in products]
        deposit_rates = [
            Decimal("0.00") if exempt else prices.get(("deposit", p), Decimal("0.00"))
            for p in products
        ]
        growth = [quantity - empties for quantity, empties in self.lines]
        if min(growth) < 0:
            raise RuntimeError("this client's sale only grows a holding")
        subtotals = [(q * r).quantize(CENT) for (q, _), r in zip(self.lines, rates, strict=True)]
        deposits = [(g * d).quantize(CENT) for g, d in zip(growth, deposit_rates, strict=True)]
        tax_rate = prices[("tax", None)]
        net, tax, total = tax_compute(
            subtotal=sum(subtotals), rate=tax_rate, prices_include_tax=settings.PRICES_INCLUDE_TAX
        )
        total += sum(deposits)

        cur.execute(COUNTER, {"series": SERIES, "year": self.year})
        bumped, cpu, cur.on = time.perf_counter(), time.process_time(), True
        number = f"{SERIES}-{self.year}-{cur.fetchone()[0]:07d}"
        args.update(
            number=number,
            depot=depot,
            net=net,
            tax_rate=tax_rate,
            tax=tax,
            deposit=sum(deposits),
            total=total,
            cylinders=sum(q for q, _ in self.lines),
        )
        cur.execute(SALE_WITH_HISTORY if self.full else SALE, args)
        args["sale"] = sale = cur.fetchone()[0]
        cur.execute(
            LINES,
            {
                **args,
                "quantities": [q for q, _ in self.lines],
                "empties": [e for _, e in self.lines],
                "rates": rates,
                "subtotals": subtotals,
                "deposit_rates": deposit_rates,
                "deposits": deposits,
                "refunds": [Decimal("0.00")] * len(products),
            },
        )
        moves = [  # (product, state, quantity, from level, to level)
            move
            for product, (quantity, empties) in zip(products, self.lines, strict=True)
            for move in (
                (product, "FULL", quantity, self.levels[(product, "FULL")], None),
                (product, "EMPTY", empties, None, self.levels[(product, "EMPTY")]),
            )
            if move[2]
        ]
        cur.execute(
            LEVELS_MOVE_WITH_HISTORY if self.full else LEVELS_MOVE,
            {
                **args,
                "level_ids": [m[3] or m[4] for m in moves],
                "deltas": [-m[2] if m[3] else m[2] for m in moves],
            },
        )
        columns = ("move_products", "move_states", "move_quantities", "move_from", "move_to")
        cur.execute(LEDGER, {**args, **{c: [m[i] for m in moves] for i, c in enumerate(columns)}})
        cur.execute(HOLDINGS, {**args, "growth": growth, "deposits": deposits})
        if self.full:
            cur.execute(HEAD)
            seq, prev = cur.fetchone()
            entry = _Entry()
            entry.seq, entry.prev_hash, entry.actor_id, entry.depot_id = seq + 1, prev, rep, depot
            entry.action, entry.object_type, entry.object_id = (
                "sale_post",
                "sales.transaction",
                str(sale),
            )
            entry.created_at = now
            entry.data = _audit_data(args, code, username, products, self.lines, rates)
            digest = audit_hash(entry)
            cur.execute(
                AUDIT,
                {
                    **args,
                    "seq": entry.seq,
                    "object_id": entry.object_id,
                    "data": json.dumps(entry.data),
                    "prev": prev,
                    "hash": digest,
                    "version": AUDIT_WRITER_VERSION,
                },
            )
            if email and email_invoices:
                cur.execute(OUTBOX, {**args, "key": uuid.uuid4(), "to": email})
        committing = time.perf_counter()
        self.conn.commit()
        done = time.perf_counter()
        cpu = time.process_time() - cpu
        return [done - bumped, cur.seconds, done - committing, cur.statements, cpu]


def _audit_data(args, code, username, products, lines, rates):
    """sale_audit_data's entry for this sale (JSON types only, as it is stored)."""
    from stock.models import Product

    codes = _product_codes(Product, products)
    return {
        "number": args["number"],
        "customer": code,
        "sales_rep": username,
        "payment_type": "CASH",
        "occurred_at": args["now"].isoformat(),
        "net": str(args["net"]),
        "tax_rate": str(args["tax_rate"]),
        "tax": str(args["tax"]),
        "deposit": str(args["deposit"]),
        "deposit_refund": "0.00",
        "refund_to": "",
        "total": str(args["total"]),
        "lines": [
            {"product": codes[p], "quantity": q, "empties_returned": e, "rate": str(r)}
            for p, (q, e), r in zip(products, lines, rates, strict=True)
        ],
        "meter": None,
        "idempotency_key": None,
    }


_CODES: dict[int, str] = {}


def _product_codes(model, products):
    """Product codes, read once per process (before the clients start)."""
    if not all(p in _CODES for p in products):
        _CODES.update(model.objects.filter(pk__in=products).values_list("pk", "code"))
    return _CODES


def raw_client(setup, products, start_at, seconds, results, params, lines, full, out):
    """sale_posting._measure's target: post for `seconds` from `start_at`, write the
    windows to `out` (a directory), put the count in `results`."""
    from django.db import connections

    from stock.models import Product

    _product_codes(Product, products)  # before the clock starts
    connections.close_all()
    poster = RawPoster(params, setup, products, lines, full=full)
    customers = setup["customers"]
    time.sleep(max(0.0, start_at - time.time()))
    deadline, windows = time.time() + seconds, []
    while time.time() < deadline:
        windows.append(poster.sale(customers[len(windows) % len(customers)]))
    poster.close()
    write_windows(out, windows)
    results.put(len(windows))


def write_windows(out, windows):
    import os

    with open(os.path.join(out, f"{os.getpid()}.json"), "w") as file:
        json.dump(windows, file)


ACTIVITY = (
    "SELECT CASE WHEN wait_event_type = 'Lock' THEN 'lock wait' WHEN state = 'active' THEN "
    "coalesce(lower(wait_event_type), 'server cpu') WHEN state LIKE 'idle in transaction%%' "
    "THEN 'client, in transaction' ELSE 'client, between sales' END FROM pg_stat_activity "
    "WHERE datname = current_database() AND backend_type = 'client backend' "
    "AND pid <> pg_backend_pid()"
)


def activity(params, start_at, seconds, results):
    """A process that samples what the clients' backends do every 50 ms while they run:
    waiting for a lock, running (or waiting for I/O), or waiting for their client."""
    import collections

    import psycopg

    seen: collections.Counter[str] = collections.Counter()
    with psycopg.connect(**params, autocommit=True) as conn:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < start_at + seconds:
            seen.update(state for (state,) in conn.execute(ACTIVITY).fetchall())
            time.sleep(0.05)
    results.put(dict(seen))
