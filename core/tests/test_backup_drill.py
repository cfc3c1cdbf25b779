"""Backup and restore drill (issue 19), as the README's operations section tells it.

On the drills' own cluster (core.tests.pgcluster, on a free port), with gunicorn in front:
handhelds post sales over HTTP from four threads; the audit chain's anchor is taken
(`manage.py audit_anchor`); `pg_dump -Fc` runs while they go on posting; the dump is
restored with `pg_restore` into a new database. On the restored database:
`verify_audit --anchor SEQ:HASH` (the chain still reaches the anchor taken before the
dump), `check_stock` and `check_money` pass; it holds at least the sales there were
before the dump and at most those there were after, each whole (its line, its key's
record); and the document numbers go on from where the dump left them.
"""

import re
import time

import pytest

from core.tests.pgcluster import TEMPLATE, Poster, Server, shared_cluster

DB = "hsh_h3_backup"
RESTORED = "hsh_h3_restored"
SALES = "SELECT count(*) FROM sales_transaction"

POST_ONE = """
from core.models import User
from sales.models import Customer
from sales.services import sale_post
from stock.models import Product
rep = User.objects.get(username="h3rep0")
sale = sale_post(
    customer=Customer.objects.get(code="H3C0"), sales_rep=rep, actor=rep,
    lines=[{"product": Product.objects.get(code="12.7KG"), "quantity": 1}],
)
print(sale.number)
"""


# The first test that needs the drills' cluster copies the session's test database into
# it (migrated, as a serialized_rollback test finds it) instead of migrating again.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.xdist_group("pgcluster"),  # one process, one throwaway cluster for both
]


@pytest.fixture
def drill(request):
    cluster = shared_cluster(request.config)
    cluster.createdb(DB, template=TEMPLATE)
    server = Server(cluster, DB)
    try:
        yield cluster, server
    finally:
        server.stop()
        if cluster.running():
            cluster.dropdb(DB)
            cluster.dropdb(RESTORED)
        (cluster.root / "backup.dump").unlink(missing_ok=True)


def _passes(cluster, db, *args) -> str:
    done = cluster.manage(db, *args)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_a_dump_taken_while_postings_run_restores_whole(drill):
    cluster, server = drill
    dump = cluster.root / "backup.dump"
    poster = Poster(server, threads=4, tag="backup")
    poster.start()
    try:
        poster.wait_for(201, 20)
        printed = _passes(cluster, DB, "audit_anchor")
        anchor = re.search(r"verify_audit --anchor (\d+:[0-9a-f]{64})", printed)[1]
        before = cluster.query(SALES, db=DB)[0][0]
        dump_started = time.monotonic()
        dumped = cluster.tool("pg_dump", "-Fc", "-f", dump, DB)
        during = poster.count(201, since=dump_started)
        assert dumped.returncode == 0, dumped.stderr
    finally:
        poster.stop()
    after = cluster.query(SALES, db=DB)[0][0]
    assert during > 0, "no sale was posted while pg_dump ran: the drill proved nothing"
    assert [s for seen in poster.answers.values() for s, _ in seen if s != 201] == []

    cluster.createdb(RESTORED)
    restored = cluster.tool("pg_restore", "--exit-on-error", "-d", RESTORED, dump)
    assert restored.returncode == 0, restored.stderr

    checks = cluster.checks(
        RESTORED, ["verify_audit", "--anchor", anchor], ["check_stock"], ["check_money"]
    )
    assert {name: status for name, (status, _) in checks.items()} == {
        "verify_audit": 0,
        "check_stock": 0,
        "check_money": 0,
    }, checks
    assert f"anchor #{anchor.split(':')[0]} holds" in checks["verify_audit"][1]
    sales, whole = cluster.query(
        """
        SELECT count(*), count(*) FILTER (
            WHERE EXISTS (SELECT 1 FROM sales_transactionline l WHERE l.transaction_id = t.id)
            AND EXISTS (SELECT 1 FROM core_idempotencykey k
                        WHERE k.key = t.idempotency_key AND k.status_code = 201))
        FROM sales_transaction t
        """,
        db=RESTORED,
    )[0]
    assert before <= sales <= after, (before, sales, after)
    assert whole == sales, "a restored sale without its line or its key's record"
    # The numbers go on from the restored counters: no gap, no number used twice.
    number = _passes(cluster, RESTORED, "shell", "-c", POST_ONE).strip()
    assert int(number.rsplit("-", 1)[1]) == sales + 1, number
