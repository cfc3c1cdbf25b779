"""The outbox: a posting writes the e-mail of its document here, in its own transaction,
and billing's worker sends it (billing.services.outbox_send).

Why a table and not a task queued by the posting: the message is committed with the
document or not at all, so a posting that rolls back sends nothing, and a posting that
commits while the broker (Redis) is down still has its e-mail sent, by the beat's next
run. The sales layer cannot import billing; it writes this row, which billing reads.
"""

import logging
from datetime import datetime
from functools import cache
from typing import Any

from celery import current_app  # type: ignore[import-untyped]
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Field

from core.models import OutboxKind, OutboxMessage
from core.services.moments import posting_moment

logger = logging.getLogger(__name__)

# The worker's task, named (core may not import billing): billing/tasks.py.
OUTBOX_TASK = "billing.tasks.outbox_send_due"


# No savepoint: the caller's posting is the transaction, and a failed INSERT fails it
# whole anyway. Inside a posting a savepoint is two more round trips while the year's
# counter row is held (every other posting waits for it).
@transaction.atomic(savepoint=False)
def outbox_enqueue(
    *,
    kind: OutboxKind | str,
    document: models.Model,
    number: str,
    to: str,
    at: datetime | None = None,
) -> OutboxMessage | None:
    """Write the e-mail of `document` (its number `number`) to `to`, in the caller's
    transaction: call it inside the posting, after the document is saved. No row (None)
    when `to` is empty: the customer has no address, or chose paper.

    The message is due at once: it goes out right after the commit (a task sent to the
    workers then) or, if the broker cannot take that task, at the beat's next run.
    `at`: the posting's moment (created_at); None means now."""
    message = outbox_message(kind=kind, document=document, number=number, to=to, at=at)
    if message is not None:
        _insert(message)
    return message


def outbox_message(
    *,
    kind: OutboxKind | str,
    document: models.Model,
    number: str,
    to: str,
    at: datetime | None = None,
) -> OutboxMessage | None:
    """outbox_enqueue's message, built, not saved, and the workers asked to send the
    outbox after the commit; the caller inserts it in its transaction (a sale, in its last
    round trip: core.services.final_writes). None when `to` is empty."""
    to = (to or "").strip()
    if not to:
        return None
    now = posting_moment(at)
    transaction.on_commit(outbox_send_soon, robust=True)
    return OutboxMessage(
        kind=OutboxKind(kind),
        document_type=document._meta.label,
        document_id=document.pk,
        number=number,
        to=to,
        next_attempt_at=now,
        created_at=now,
    )


@cache
def _insert_sql(vendor: str) -> "tuple[str, tuple[Field[Any, Any], ...]]":
    """INSERT ... RETURNING id of a message, its SQL written once per process."""
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    meta = OutboxMessage._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) "  # noqa: S608 - names from the model, quoted
        f"RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def _insert(message: OutboxMessage) -> None:
    """message.save(), as one statement whose SQL is not compiled again for each message:
    the posting writes it while the year's counter row is held (every other posting
    waits for it). The model has no save signals to skip; without RETURNING, save()."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover
        # No backend the project runs on (PostgreSQL, SQLite 3.35+); tested on SQLite.
        message.save(force_insert=True)
        return
    sql, fields = _insert_sql(connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(message, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        message.pk = cursor.fetchone()[0]
    message._state.adding = False
    message._state.db = DEFAULT_DB_ALIAS


def outbox_send_soon() -> None:
    """Ask the workers to send the outbox now (after a commit). A broker that cannot
    take the task is logged and left: the message stays due, and the beat's run of the
    same task (every minute) sends it. Without a broker (CELERY_TASK_ALWAYS_EAGER) the
    task runs here, at once."""
    try:
        if current_app.conf.task_always_eager:
            # send_task ignores eager mode: run the task, found by its name. A web
            # process has not imported the apps' tasks modules yet; the loader does.
            if OUTBOX_TASK not in current_app.tasks:
                current_app.loader.import_default_modules()
            current_app.tasks[OUTBOX_TASK].apply()
        else:
            current_app.send_task(OUTBOX_TASK)
    except Exception:  # the posting has committed: nothing here may undo or fail it
        logger.warning(
            "Could not hand the outbox to the workers; the beat sends it at its next run.",
            exc_info=True,
        )
