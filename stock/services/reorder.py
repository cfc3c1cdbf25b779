"""Reorder levels (the minimum of full cylinders a depot should hold) and the e-mail that
tells a depot's managers when its stock of a product falls below it: once per crossing,
not every day while it stays low (ReorderLevel.alerted_at)."""

import logging
from collections import defaultdict
from datetime import datetime

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.db import atomic_with_retry
from core.models import Depot, Role, User
from core.services import audit_record, head_office_check
from core.services.moments import history_save, posting_moment
from stock.models import Product, ReorderLevel
from stock.selectors import reorder_levels_stock
from stock.services.checks import cylinder_check, depot_check, whole_number

logger = logging.getLogger(__name__)


class LowStockAlertNotSent(RuntimeError):
    """The e-mail of one or more depots could not be sent; they are tried again next run."""


@atomic_with_retry
def reorder_level_set(
    *,
    depot: Depot,
    product: Product,
    minimum_full: int,
    actor: User,
    at: datetime | None = None,
) -> ReorderLevel:
    """Set the minimum of full cylinders of `product` at `depot` (a whole number, 0 or
    more; 0 means no minimum): creates the depot's reorder level or changes it. Head
    office only. The same minimum again writes nothing and returns the level as it is.

    `at`: the moment of the change; None means now. Only the demo seed and tests pass it."""
    head_office_check(actor=actor, what="Reorder levels")
    minimum = whole_number(minimum_full, "minimum_full", minimum=0)
    depot_check(depot, hint=": reopen it (Depots) to set its reorder levels.")
    cylinder_check(product)
    now = posting_moment(at)
    levels = ReorderLevel.objects.select_for_update()
    current = levels.filter(depot=depot, product=product).first()
    if current is None:
        try:
            with transaction.atomic():  # a savepoint: another clerk may create it first
                level = ReorderLevel(
                    depot=depot, product=product, minimum_full=minimum, updated_at=now
                )
                history_save(level, at=now)
        except IntegrityError:
            current = levels.get(depot=depot, product=product)
        else:
            _audit(actor=actor, level=level, before=None, at=now)
            return level
    if current.minimum_full == minimum:
        return current
    before = current.minimum_full
    current.minimum_full, current.updated_at = minimum, now
    history_save(current, at=now, update_fields=["minimum_full", "updated_at"])
    _audit(actor=actor, level=current, before=before, at=now)
    return current


def _audit(*, actor: User, level: ReorderLevel, before: int | None, at: datetime) -> None:
    audit_record(
        actor=actor,
        action="reorder_level_set",
        obj=level,
        depot=level.depot,
        at=at,
        data={
            "depot": level.depot.code,
            "product": level.product.code,
            "minimum_full": level.minimum_full,
            "before": before,
        },
    )


def low_stock_alerts_send(*, at: datetime | None = None) -> int:
    """E-mail each depot's managers the products whose full cylinders at the depot (not
    on vehicles) have fallen below their minimum since they were last told; returns the
    e-mails sent.

    A level is claimed before its e-mail goes (alerted_at set by a conditional UPDATE:
    two workers never send one crossing twice) and released if the e-mail fails, so the
    next run tries again. A level back at or above its minimum is cleared, so its next
    fall is told again. A depot without an active manager with an e-mail address is not
    claimed: its managers are told once one is assigned. Closed depots and products no
    longer sold are not alerted. Raises LowStockAlertNotSent, after trying every depot,
    when an e-mail failed."""
    now = posting_moment(at)
    levels = reorder_levels_stock()
    recovered = list(
        levels.filter(alerted_at__isnull=False, full__gte=F("minimum_full")).values_list(
            "pk", flat=True
        )
    )
    if recovered:
        ReorderLevel.objects.filter(pk__in=recovered).update(alerted_at=None)
    due = (
        levels.filter(
            alerted_at__isnull=True,
            full__lt=F("minimum_full"),
            depot__is_active=True,
            product__is_active=True,
        )
        .select_related("depot", "product")
        .order_by("depot__code", "product__sort_order", "product__code")
    )
    by_depot: dict[Depot, list[ReorderLevel]] = defaultdict(list)
    for level in due:
        by_depot[level.depot].append(level)
    sent, failed = 0, []
    for depot, low in by_depot.items():
        recipients = _manager_addresses(depot)
        if not recipients:
            logger.warning("Depot %s is below its reorder level; no manager to tell.", depot.code)
            continue
        claimed = [
            level
            for level in low
            if ReorderLevel.objects.filter(pk=level.pk, alerted_at__isnull=True).update(
                alerted_at=now
            )
        ]
        if not claimed:  # another worker took them
            continue
        try:
            _alert_mail(depot, claimed, recipients, now)
        except Exception:
            ReorderLevel.objects.filter(pk__in=[lv.pk for lv in claimed], alerted_at=now).update(
                alerted_at=None
            )
            logger.exception("Low-stock e-mail for depot %s failed.", depot.code)
            failed.append(depot.code)
            continue
        sent += 1
    if failed:
        raise LowStockAlertNotSent(f"Low-stock e-mail not sent for depot {', '.join(failed)}.")
    return sent


def _manager_addresses(depot: Depot) -> list[str]:
    return sorted(
        User.objects.filter(role=Role.MANAGER, is_active=True, depots=depot)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def _alert_mail(
    depot: Depot, levels: list[ReorderLevel], recipients: list[str], now: datetime
) -> None:
    lines = "\n".join(
        f"- {lv.product.code}: {lv.full} full cylinders, minimum {lv.minimum_full} "  # type: ignore[attr-defined]
        f"({lv.minimum_full - lv.full} short)"  # type: ignore[attr-defined]
        for lv in levels
    )
    products = ", ".join(lv.product.code for lv in levels)
    send_mail(
        f"Low stock at depot {depot.code}: {products}",
        f"Full cylinders at depot {depot.code} ({depot.name}) are below the reorder "
        f"level, as of {timezone.localtime(now):%d %b %Y %H:%M}:\n\n{lines}\n\n"
        "Order full cylinders from the filling plant or transfer them from another depot. "
        "You will not be told again about these products until the depot is back at its "
        "minimum and falls below it again.\n",
        None,
        recipients,
    )
