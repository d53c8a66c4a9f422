"""A database or broker that is gone answers 503 with Retry-After, never a 500 or a traceback.

Requests that need PostgreSQL while it restarts fail cleanly and quickly; Django reopens its
connection on the next request (``CONN_HEALTH_CHECKS``), so the application recovers by itself
once the server is back, without a restart.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.defaults import server_error as django_server_error

from config.edge import error_response, is_api_path

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5
MESSAGE = "The service is briefly unavailable. Please try again in a few seconds."


def is_unavailable(exception: BaseException | None) -> bool:
    """A lost or refused database connection (not a bad query: those are still bugs, 500)."""
    return isinstance(exception, OperationalError | InterfaceError)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path_info):
        response: HttpResponse = error_response(status=503, code="service_unavailable", message=MESSAGE)
    else:
        # No template: rendering one could need the database that is gone (context processors).
        response = HttpResponse(
            f"<!doctype html><title>Unavailable</title><h1>Briefly unavailable</h1><p>{MESSAGE}</p>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500`` of both URL confs: 503 for a database that is gone, Django's 500 otherwise."""
    exception = sys.exc_info()[1]
    if is_unavailable(exception):
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)
    return django_server_error(request)
