"""``/readyz/``: may this process take traffic? The database answers and the broker accepts.

Liveness (``/healthz/``) says only that the process runs; readiness asks its dependencies, so a
load balancer stops sending requests to a node whose database or broker is gone and sends them
again once both are back, without restarting anything.
"""

from __future__ import annotations

import logging
import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 2.0


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("readiness: the database does not answer", exc_info=True)
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write(connect_timeout=BROKER_TIMEOUT_S) as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
        return True
    except Exception:
        logger.warning("readiness: the broker does not answer", exc_info=True)
        return False


@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    started = time.monotonic()
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    body = {
        "status": "ok" if all(checks.values()) else "unavailable",
        "checks": {name: "ok" if passed else "failing" for name, passed in checks.items()},
        "seconds": round(time.monotonic() - started, 3),
    }
    return JsonResponse(body, status=200 if all(checks.values()) else 503)
