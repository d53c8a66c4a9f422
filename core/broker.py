"""Sending a Celery task when the broker may be down (no Celery app is built here)."""

from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Send ``task`` unless the broker is down; False (logged) when it could not be sent.

    For tasks whose work is recorded in the database first (an outbox: unsent notifications, say)
    and swept again by a beat task: the request that caused them must not fail because the broker is.
    """
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except (KombuOperationalError, OSError) as exc:
        logger.warning("broker unavailable, %s left for the next sweep: %s", task.name, exc)
        return False
    return True
