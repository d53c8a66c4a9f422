import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Behind a pooler in transaction mode a tenant's search_path could leak to another request:
# refuse to serve at all (gunicorn --preload loads this in the master, so it does not start).
# Imported here: config.pooling needs the settings that get_wsgi_application() configured.
from config.pooling import require_session_pooling  # noqa: E402

require_session_pooling()

# The start-up heap (Django, Wagtail, DRF: ~180,000 objects) is never garbage. Freezing it keeps
# full collections from walking it again and again (they were the feed's p95: bench/README.md), and
# in a pre-forking server the frozen pages stay shared between workers.
gc.collect()
gc.freeze()
