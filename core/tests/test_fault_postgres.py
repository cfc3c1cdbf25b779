"""PostgreSQL restarted in the middle of a load of postings (issue 19).

A cluster of the test's own (core.tests.pgcluster, on a free port: never the shared one),
gunicorn in front of it, six handhelds posting sales over HTTP with an Idempotency-Key
each; the cluster is stopped (`pg_ctl stop -m fast`: every session ended), kept down a
second, and started again while they post. Then:

- every request got an answer, 201 or 503 (the database unavailable, Retry-After),
  never a 500, never a dropped connection;
- every key whose answer was a 503 is sent again, with the same key and body, until it
  posts: each key then holds exactly one sale, a second retry replays it;
- nothing is half-written: each sale has its line, its key's record, its audit entry,
  and the TX numbers have no gap; check_stock, verify_audit and check_money pass.
"""

import time

import pytest

from core.tests.pgcluster import TEMPLATE, Poster, Server, shared_cluster

DB = "hsh_h3_fault"


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


def _problems(poster) -> list[str]:
    """Every answer that is neither a 201 nor a 503."""
    return [
        f"{key}: {status}"
        for key, seen in poster.answers.items()
        for status, _ in seen
        if status not in (201, 503)
    ]


def test_a_restart_mid_load_answers_201_or_503_and_posts_each_key_once(drill):
    cluster, server = drill
    poster = Poster(server, threads=6, tag="restart")
    poster.start()
    try:
        poster.wait_for(201, 30)
        cluster.restart(down_seconds=1.0)
        restarted = time.monotonic()
        poster.wait_for(201, 30, since=restarted)
    finally:
        poster.stop()

    assert not _problems(poster), (
        f"answers other than 201 or 503: {_problems(poster)[:10]}\n{server.output()}"
    )
    unavailable = [k for k, seen in poster.answers.items() if seen[-1][0] == 503]
    assert unavailable, "no request met the restart: the drill proved nothing"
    print(
        f"[fault] {poster.count(201)} sales posted, {poster.count(503)} answers 503 around "
        f"the restart; {len(unavailable)} keys sent again"
    )

    # The same key and body again, as a handheld does after a 503, until it posts.
    for key in unavailable:
        for _ in range(50):
            status, _ = poster.post(key)
            if status != 503:
                break
        assert status == 201, f"{key}: {status}"
    # And once more, for some keys that posted at once and for those retried: a replay.
    posted_first = [k for k, seen in poster.answers.items() if seen[0][0] == 201][:10]
    for key in unavailable[:10] + posted_first:
        status, headers = poster.post(key)
        assert (status, headers.get("Idempotent-Replay")) == (201, "true"), key
    assert not _problems(poster), _problems(poster)[:10]

    keys = sorted(poster.requests)
    rows = cluster.query(
        "SELECT idempotency_key, count(*) FROM sales_transaction "
        "WHERE idempotency_key = ANY(%s) GROUP BY idempotency_key",
        [keys],
        db=DB,
    )
    assert dict(rows) == dict.fromkeys(keys, 1), "a key posted no sale, or more than one"
    _assert_nothing_half_written(cluster, keys)
    checks = cluster.checks(DB, ["check_stock"], ["verify_audit"], ["check_money"])
    assert {name: status for name, (status, _) in checks.items()} == {
        "check_stock": 0,
        "verify_audit": 0,
        "check_money": 0,
    }, checks


def _assert_nothing_half_written(cluster, keys):
    (sales, without_lines, without_record, without_audit, numbers) = cluster.query(
        """
        SELECT count(*),
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM sales_transactionline l WHERE l.transaction_id = t.id)),
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM core_idempotencykey k
                   WHERE k.key = t.idempotency_key AND k.status_code = 201)),
               count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM core_auditlog a
                   WHERE a.action = 'sale_post' AND a.object_type = 'sales.transaction'
                   AND a.object_id = t.id::text)),
               array_agg(t.number ORDER BY t.number)
        FROM sales_transaction t
        """,
        db=DB,
    )[0]
    assert sales == len(keys), "sales without a key of this drill, or keys without a sale"
    assert (without_lines, without_record, without_audit) == (0, 0, 0)
    counters = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    assert counters == list(range(1, sales + 1)), "the TX numbers have a gap"
