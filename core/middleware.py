"""A database that fails mid-request is a 503 with a sentence people understand.

The API's own exception handler (core.api) answers for DRF views; this catches the same
failures anywhere else (admin pages, report pages) instead of a bare "Server Error (500)".
The page is plain HTML that needs no database to render.
"""

import logging

from django.db import close_old_connections
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

from core.db import database_error_message, is_connection_lost

logger = logging.getLogger(__name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Database unavailable</title></head>
<body><h1>Database unavailable</h1><p>{message}</p>
<p><a href="javascript:history.back()">Back</a></p></body></html>
"""


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = database_error_message(exception)
        if message is None:
            return None
        logger.warning("answered 503 for a database failure: %r", exception)
        # Let what runs after this (other middleware, the next request on this thread)
        # open a new connection rather than use the broken one; Django would close it
        # only when the request ends.
        close_old_connections()
        if request.path_info.startswith("/api/"):
            from core.api import error_body

            code = "database_unavailable" if is_connection_lost(exception) else "database_busy"
            response = JsonResponse(error_body(503, code, message), status=503)
        else:
            response = HttpResponse(PAGE.format(message=escape(message)), status=503)
        response["Retry-After"] = "1"
        return response
