import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """Liveness and database reachability, for load balancers and docker healthchecks.

    Anyone may call it, so the answer is a bare status: the database's own error text
    names its host, port and user, and goes to the server's log instead.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database error means "not ready"
        # One line, not a traceback: healthchecks ask every few seconds.
        logger.error("healthz: the database is not reachable: %s", exc)
        return JsonResponse({"status": "error"}, status=503)
    return JsonResponse({"status": "ok"})
