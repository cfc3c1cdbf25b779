"""Replay the sales posted before cylinders held existed into holdings and their ledger.

For each customer and cylinder product, in the order the sales were posted (created_at,
then id), every POSTED or VOID sale's line adds `quantity - empties_returned` to the
holding (a SALE entry, even when it is 0: the exchange is the customer's last movement),
and every void takes it back at the moment of the void (a VOID entry, dated voided_at).
All entries carry deposit 0: sales before deposits charged none. Each entry names its
sale (doc_type "sales.transaction", doc_id, reference = its number), its representative,
and who posted it (the void: who voided it).

Opening balances. A customer may hand back empties they had before the first sale on
record, so the replay can go below zero. Where it would, one OPENING entry for the
largest shortfall of that customer and product, dated one second before the customer's
first sale, makes the count start at what they must have held; the count then never goes
below zero, and conservation (invariant 11: check_stock) counts those cylinders in, as
it counts a holding adjustment.

Audited. The entries are append-only (database triggers) and name their sales: they are
the audit trail of every figure the replay wrote. The replay as a whole, the decision to
open balances, is one core.AuditLog entry ("holdings_replay": sales, voids, entries,
holdings, openings and the cylinders they opened), appended to the keyed hash chain here
with the historical models and core.services.audit_hash (as core 0014 seals with its
functions), not through audit_record, which would use today's models on a schema of
this migration's time. Its actor is the first active head-office user (superuser or
ADMIN), else whoever posted the first sale replayed. A database without sales gets no
entries and no audit entry.

Size. Set-based SQL: one pass over the sales and their lines builds the events with
their running count per holding (a window sum) into a temporary table; holdings and
entries are then each written by one INSERT ... SELECT; only the opening entries (few)
pass through Python. On PostgreSQL the sales and their lines are locked in SHARE mode
until the migration commits, so no sale or void can be posted half-replayed (postings
wait for it: measured on 1M sales in BENCHMARKS.md). Works the same on SQLite.

Run again (after a rollback, or when the holdings already exist because the new code
posted sales), it writes nothing: the replay is for a database from before holdings.
Reversing it writes nothing either: the ledger is append-only; 0013's reversal drops it.
"""

import json
from datetime import UTC, datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

EVENTS = "hsh_holdings_replay"
NOTE = (
    "Opening balance: cylinders the customer held before the first sale on record; "
    "without it the sales replayed into holdings would go below zero."
)


def _moment(value) -> datetime:
    """A timestamp as the raw cursor gives it (SQLite: text) as an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _events_sql(tables: dict[str, str]) -> str:
    """Every cylinder line of every POSTED or VOID sale (phase 0, at created_at) and of
    every void (phase 1, at voided_at), with the running count of its holding."""
    line = f"""
        SELECT t.customer_id AS customer_id, l.product_id AS product_id,
               {{at}} AS at, t.id AS sale_id, {{phase}} AS phase,
               {{sign}}(l.quantity - l.empties_returned) AS delta,
               t.sales_rep_id AS sales_rep_id, {{actor}} AS actor_id, t.number AS number
          FROM {tables["line"]} l
          JOIN {tables["sale"]} t ON t.id = l.transaction_id
          JOIN {tables["product"]} p ON p.id = l.product_id
         WHERE p.kind = 'CYLINDER' AND {{status}}"""  # noqa: S608 - ours
    sales = line.format(
        at="t.created_at",
        phase=0,
        sign="",
        actor="t.created_by_id",
        status="t.status IN ('POSTED', 'VOID')",
    )
    voids = line.format(
        at="COALESCE(t.voided_at, t.created_at)",
        phase=1,
        sign="-",
        actor="COALESCE(t.voided_by_id, t.created_by_id)",
        status="t.status = 'VOID'",
    )
    return f"""
        CREATE TEMPORARY TABLE {EVENTS} AS
        SELECT e.*, SUM(e.delta) OVER (
                   PARTITION BY e.customer_id, e.product_id
                   ORDER BY e.at, e.sale_id, e.phase
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
          FROM ({sales} UNION ALL {voids}) e"""  # noqa: S608 - table names are ours


def _actor(apps, first_sale_actor: int) -> int:
    from django.db.models import Q

    User = apps.get_model("core", "User")
    head_office = (
        User.objects.filter(Q(is_superuser=True) | Q(role="ADMIN"), is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return head_office or first_sale_actor


def holdings_replay(apps, schema_editor) -> dict[str, int]:
    """Write the holdings and their entries; returns the audit entry's figures (empty
    when nothing was replayed)."""
    CylinderHolding = apps.get_model("sales", "CylinderHolding")
    HoldingEntry = apps.get_model("sales", "HoldingEntry")
    if HoldingEntry.objects.exists() or CylinderHolding.objects.exists():
        return {}
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    tables = {
        "sale": quote(apps.get_model("sales", "Transaction")._meta.db_table),
        "line": quote(apps.get_model("sales", "TransactionLine")._meta.db_table),
        "product": quote(apps.get_model("stock", "Product")._meta.db_table),
        "holding": quote(CylinderHolding._meta.db_table),
        "entry": quote(HoldingEntry._meta.db_table),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {tables['sale']}, {tables['line']} IN SHARE MODE")
        cursor.execute(f"DROP TABLE IF EXISTS {EVENTS}")
        cursor.execute(_events_sql(tables))
        try:
            return _write(apps, cursor, tables)
        finally:
            cursor.execute(f"DROP TABLE {EVENTS}")


def _write(apps, cursor, tables: dict[str, str]) -> dict[str, int]:
    counts = "COUNT(DISTINCT sale_id), COUNT(DISTINCT CASE WHEN phase = 1 THEN sale_id END)"
    cursor.execute(f"SELECT {counts}, COUNT(*) FROM {EVENTS}")  # noqa: S608
    sales, voids, entries = cursor.fetchone()
    if not entries:
        return {}
    cursor.execute(
        f"""INSERT INTO {tables["holding"]}
                (customer_id, product_id, quantity, deposit_held, last_movement_at)
            SELECT customer_id, product_id,
                   SUM(delta) + CASE WHEN MIN(running) < 0 THEN -MIN(running) ELSE 0 END,
                   0, MAX(at)
              FROM {EVENTS} GROUP BY customer_id, product_id"""  # noqa: S608
    )
    cursor.execute(
        f"""SELECT r.customer_id, r.product_id, h.id, -MIN(r.running), f.first_at
              FROM {EVENTS} r
              JOIN (SELECT customer_id, MIN(at) AS first_at FROM {EVENTS}
                     WHERE phase = 0 GROUP BY customer_id) f
                ON f.customer_id = r.customer_id
              JOIN {tables["holding"]} h
                ON h.customer_id = r.customer_id AND h.product_id = r.product_id
             GROUP BY r.customer_id, r.product_id, h.id, f.first_at
            HAVING MIN(r.running) < 0
             ORDER BY f.first_at, r.customer_id, r.product_id"""  # noqa: S608
    )
    shortfalls = cursor.fetchall()
    cursor.execute(
        f"SELECT MIN(actor_id) FROM {EVENTS} WHERE at = (SELECT MIN(at) FROM {EVENTS})"  # noqa: S608
    )
    actor = _actor(apps, cursor.fetchone()[0])
    HoldingEntry = apps.get_model("sales", "HoldingEntry")
    HoldingEntry.objects.bulk_create(
        (
            HoldingEntry(
                holding_id=holding,
                customer_id=customer,
                product_id=product,
                kind="OPENING",
                quantity=quantity,
                actor_id=actor,
                created_at=_moment(first_at) - timedelta(seconds=1),
                note=NOTE,
            )
            for customer, product, holding, quantity, first_at in shortfalls
        ),
        batch_size=2000,
    )
    cursor.execute(
        f"""INSERT INTO {tables["entry"]}
                (holding_id, customer_id, product_id, kind, quantity, deposit, refund_to,
                 sales_rep_id, actor_id, created_at, doc_type, doc_id, reference, note)
            SELECT h.id, r.customer_id, r.product_id,
                   CASE WHEN r.phase = 0 THEN 'SALE' ELSE 'VOID' END, r.delta, 0, '',
                   r.sales_rep_id, r.actor_id, r.at, 'sales.transaction', r.sale_id,
                   r.number, ''
              FROM {EVENTS} r
              JOIN {tables["holding"]} h
                ON h.customer_id = r.customer_id AND h.product_id = r.product_id
             ORDER BY r.at, r.sale_id, r.phase, r.product_id"""  # noqa: S608
    )
    figures = {
        "sales": sales,
        "voids": voids,
        "entries": entries + len(shortfalls),
        "holdings": apps.get_model("sales", "CylinderHolding").objects.count(),
        "openings": len(shortfalls),
        "opening_cylinders": sum(row[3] for row in shortfalls),
    }
    _audit(apps, actor=actor, figures=figures)
    return figures


def _audit(apps, *, actor: int, figures: dict[str, int]) -> None:
    """One entry on the keyed hash chain, as core.services.audit_record_many writes it."""
    from core.services import AUDIT_WRITER_VERSION, audit_hash

    AuditLog = apps.get_model("core", "AuditLog")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    data = {"migration": "sales.0014_holdings_replay", **figures}
    entry = AuditLog(
        seq=head.last_seq + 1,
        actor_id=actor,
        action="holdings_replay",
        object_type="sales.cylinderholding",
        object_id="all",
        depot_id=None,
        data=json.loads(json.dumps(data, cls=DjangoJSONEncoder), parse_float=str),
        created_at=timezone.now(),
        prev_hash=head.last_hash,
        writer_version=AUDIT_WRITER_VERSION,
    )
    entry.hash = audit_hash(entry)
    entry.save()
    head.last_seq, head.last_hash = entry.seq, entry.hash
    head.save(update_fields=["last_seq", "last_hash"])


def replay(apps, schema_editor) -> None:
    holdings_replay(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0013_deposits_and_holdings"),
        ("core", "0017_outbox_statement_kind"),
    ]

    operations = [
        migrations.RunPython(replay, migrations.RunPython.noop, elidable=False),
    ]
