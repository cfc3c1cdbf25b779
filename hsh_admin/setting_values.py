"""Checks of settings values read from the environment (kept out of settings.py)."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured


def money_setting(name: str, text: str, *, example: str, allow_zero: bool = False) -> Decimal:
    """An amount with at most two decimal places (above 0, or 0 too with allow_zero),
    or ImproperlyConfigured naming the variable."""
    try:
        amount = Decimal(text)
        low_ok = amount >= 0 if allow_zero else amount > 0
        if amount.is_finite() and low_ok and amount.quantize(Decimal("0.01")) == amount:
            return amount
    except InvalidOperation:
        pass
    floor = "0 or more" if allow_zero else "above 0"
    raise ImproperlyConfigured(
        f"{name} must be an amount {floor} with at most two decimal places, e.g. {example}."
    )


def logging_config(*, level: str) -> dict:
    """The LOGGING setting: one plain console handler at `level`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "filters": {"refusals": {"()": "core.log.RefusalsWithoutTraceback"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                # A 4xx (403, 404, 400) is one line; a 5xx keeps its traceback.
                "filters": ["refusals"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # Django's default config gives "django" a console handler of its own (with DEBUG
        # on), so every request warning was printed twice: once there, once by the root.
        "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
    }
