"""Logging helpers referenced from settings.LOGGING."""

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """A 4xx is an expected refusal (a permission, a missing page, a bad parameter): one
    line says which request it was. Django logs a PermissionDenied with its traceback,
    which tells nobody anything; a server error (5xx) keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
