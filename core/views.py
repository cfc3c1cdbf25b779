import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
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


def admin_search(request: HttpRequest) -> HttpResponse:
    """The admin header's search (core.search): results grouped by kind, or the document
    itself when its whole number was typed (unless ?all=1 asks for the list)."""
    from django.contrib import admin
    from django.shortcuts import redirect
    from django.template.response import TemplateResponse

    from core.search import MIN_LENGTH, search

    results = search(request.user, request.GET.get("q", ""))
    if results.opens and not request.GET.get("all"):
        return redirect(results.opens)
    context = {
        **admin.site.each_context(request),
        "title": f"Search: {results.text}" if results.text else "Search",
        "results": results,
        "hsh_search_text": results.text,
        "min_length": MIN_LENGTH,
    }
    return TemplateResponse(request, "admin/hsh_search.html", context)
