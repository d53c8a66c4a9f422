"""django-tenants' PostgreSQL backend, starting the embedded server on the first connection.

Used only when DATABASE_URL is unset. Starting lazily means commands that never touch the
database (mypy's Django plugin, ruff, collectstatic) neither start nor strand a server.
"""
