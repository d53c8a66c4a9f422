"""The tenant-aware Celery app: a task sent inside a tenant context runs in that schema."""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("kindred")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
