"""gunicorn settings of the production profile: ``gunicorn -c config/gunicorn.py config.wsgi``.

Every value can be overridden from the environment (or gunicorn's own command-line flags).
"""

from __future__ import annotations

import multiprocessing
import os

# Importing django.db reads no settings: safe here, although gunicorn reads this file before Django is set up.
from django.db import connections

bind = os.environ.get("KINDRED_BIND", "127.0.0.1:8000")
# Load the app once in the master: workers fork with Django, Wagtail and DRF already imported and
# their start-up heap frozen (config/wsgi.py), so they start fast and share those pages.
preload_app = True
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("KINDRED_WEB_THREADS", "1"))
timeout = int(os.environ.get("KINDRED_WEB_TIMEOUT", "30"))
graceful_timeout = 20
max_requests = int(os.environ.get("KINDRED_WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Django's own log lines are JSON with a request id (config/request_context.py); gunicorn's access
# log would repeat each request without it, so it stays off unless asked for.
accesslog = os.environ.get("KINDRED_ACCESS_LOG") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server: object, worker: object) -> None:
    # A connection the master opened while loading the app must not be shared by forked workers.
    connections.close_all()
