"""The end-of-day cash-up (CU-YYYY-NNNNNN): the cash a representative hands in, against
the cash the system expected (sales.day_selectors.cash_expected: cash sales + cash
payments received - cash deposit refunds paid out, since their previous cash-up), and a
manager's confirmation of it.

Lock order: the representative's user row FOR NO KEY UPDATE first (every posting of
theirs holds it FOR SHARE from before it reads its moment until it commits, so a sale in
flight is waited for and counted here, and one that starts now waits and counts in the
next cash-up; two cash-ups of one representative serialise), then the CU counter, then
the audit chain head. A confirmation locks the cash-up row, then the audit chain head.
"""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import atomic_with_retry
from core.idempotency import fingerprint, key_clean, replay
from core.models import Role, User
from core.numbers import money_text
from core.scoping import actor_access_check
from core.services import audit_record, document_number_next
from core.services.moments import history_save, posting_moment
from sales.day_models import CashUp, CashUpStatus
from sales.day_selectors import cash_expected
from sales.services.common import decimal_value
from stock.services import sales_rep_home_depot

NOTE_MAX = 255


def _note(value: str, field: str = "note") -> str:
    note = (value or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(
            {field: ValidationError(f"Use at most {NOTE_MAX} characters.", code="max_length")}
        )
    return note


def cashup_post(
    *,
    sales_rep: User,
    counted_cash: Decimal | int | str,
    actor: User,
    note: str = "",
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> CashUp:
    """Post the representative's cash-up: what they counted, against what the system
    expected since their previous one; the variance is counted - expected (below zero:
    short). The representative posts their own; a manager of their depot or head office
    may post it on their behalf. counted_cash: 0 or more, at most two decimal places.

    A repeated idempotency_key (per actor) returns the cash-up it first posted; the same
    key with another request is refused (idempotency_key_reused).

    `at`: the moment it is posted; None means now. Only the demo seed and tests pass it."""
    counted = decimal_value(counted_cash, "counted_cash", minimum=0)
    note = _note(note)
    key = key_clean(idempotency_key)
    request = ""
    if key is not None:
        request = fingerprint(sales_rep=sales_rep, counted_cash=counted, note=note)
        existing = _keyed(actor, key)
        if existing is not None:
            return _replay(existing, request)
    depot = sales_rep_home_depot(sales_rep, allow_inactive=True, lock=False)
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    try:
        return _cashup_post(
            sales_rep=sales_rep,
            counted=counted,
            actor=actor,
            note=note,
            key=key,
            request=request,
            at=at,
        )
    except IntegrityError:
        existing = _keyed(actor, key) if key else None
        if existing is not None:  # the same key, committed first by another request
            return _replay(existing, request)
        raise


@atomic_with_retry
def _cashup_post(
    *,
    sales_rep: User,
    counted: Decimal,
    actor: User,
    note: str,
    key: str | None,
    request: str,
    at: datetime | None,
) -> CashUp:
    # The representative first (FOR NO KEY UPDATE: it waits for their postings in flight,
    # which hold it FOR SHARE, without blocking rows that merely point at them).
    User.objects.select_for_update(no_key=True).filter(pk=sales_rep.pk).first()
    if key is not None:
        existing = _keyed(actor, key)
        if existing is not None:  # a retry that waited for the first one's lock
            return _replay(existing, request)
    depot = sales_rep_home_depot(sales_rep, allow_inactive=True, lock=False)  # read after it
    actor_access_check(actor=actor, depot=depot, sales_rep=sales_rep)
    now = posting_moment(at)
    figures = cash_expected(sales_rep=sales_rep, at=now)
    expected = figures.expected
    with transaction.atomic():  # a key raced in by another request: the caller replays it
        cashup = CashUp(
            number=document_number_next(series="CU", at=now),
            sales_rep=sales_rep,
            depot=depot,
            period_start=figures.period_start,
            cash_sales=figures.cash_sales,
            cash_payments=figures.cash_payments,
            cash_refunds=figures.cash_refunds,
            expected_cash=expected,
            counted_cash=counted,
            variance=counted - expected,
            note=note,
            created_by=actor,
            created_at=now,
            idempotency_key=key,
            request_fingerprint=request,
        )
        history_save(cashup, at=now)
    audit_record(
        actor=actor,
        action="cashup_post",
        obj=cashup,
        depot=depot,
        at=now,
        data={
            "number": cashup.number,
            "sales_rep": sales_rep.username,
            "period_start": figures.period_start.isoformat() if figures.period_start else None,
            "cash_sales": str(figures.cash_sales),
            "cash_payments": str(figures.cash_payments),
            "cash_refunds": str(figures.cash_refunds),
            "expected_cash": str(expected),
            "counted_cash": str(counted),
            "variance": str(cashup.variance),
            "note": note,
            "idempotency_key": key,
        },
    )
    return cashup


@atomic_with_retry
def cashup_confirm(
    *, cashup: CashUp, actor: User, note: str = "", at: datetime | None = None
) -> CashUp:
    """A manager of the cash-up's depot, or head office, confirms it: the cash was
    handed in as counted. Not the representative themself. A variance beyond
    settings.CASHUP_VARIANCE_TOLERANCE (either way) needs a note saying what was done
    about it (code note_required). A confirmed cash-up is refused (already_confirmed)."""
    note = _note(note)
    locked = (
        CashUp.objects.select_for_update(of=("self",))
        .select_related("sales_rep", "depot", "confirmed_by")
        .get(pk=cashup.pk)
    )
    if actor.pk == locked.sales_rep_id or actor.role == Role.SALES:
        raise PermissionDenied(
            f"{actor.username} may not confirm {locked.number}: a manager of depot "
            f"{locked.depot.code} or head office confirms a representative's cash-up."
        )
    if actor.pk == locked.created_by_id:
        raise ValidationError(
            f"{actor.username} counted {locked.number} on the representative's behalf: "
            "another manager or head office confirms it (two people see the cash).",
            code="own_cashup",
        )
    actor_access_check(actor=actor, depot=locked.depot)
    if locked.status == CashUpStatus.CONFIRMED:
        when = timezone.localtime(locked.confirmed_at).strftime("%Y-%m-%d %H:%M")
        by = locked.confirmed_by.username if locked.confirmed_by else "an unknown user"
        raise ValidationError(
            f"{locked.number} is already confirmed ({when} by {by}).",
            code="already_confirmed",
        )
    tolerance = settings.CASHUP_VARIANCE_TOLERANCE
    if abs(locked.variance) > tolerance and not note:
        short = "short" if locked.variance < 0 else "over"
        raise ValidationError(
            {
                "note": ValidationError(
                    f"{locked.number} is {short} by {money_text(abs(locked.variance))}, "
                    f"more than the tolerance of {money_text(tolerance)}: say what was "
                    "done about it in the note.",
                    code="note_required",
                )
            }
        )
    now = posting_moment(at)
    locked.status = CashUpStatus.CONFIRMED
    locked.confirmed_by = actor
    locked.confirmed_at = now
    locked.confirm_note = note
    history_save(
        locked, at=now, update_fields=["status", "confirmed_by", "confirmed_at", "confirm_note"]
    )
    audit_record(
        actor=actor,
        action="cashup_confirm",
        obj=locked,
        depot=locked.depot,
        at=now,
        data={
            "number": locked.number,
            "sales_rep": locked.sales_rep.username,
            "expected_cash": str(locked.expected_cash),
            "counted_cash": str(locked.counted_cash),
            "variance": str(locked.variance),
            "note": note,
        },
    )
    return locked


def _keyed(actor: User, key: str) -> CashUp | None:
    return CashUp.objects.filter(created_by=actor, idempotency_key=key).first()


def _replay(existing: CashUp, request: str) -> CashUp:
    return replay(existing, request_fingerprint=request, what=f"cash-up {existing.number}")
