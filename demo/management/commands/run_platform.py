"""``make run``: migrate, seed the demo, then run web, Celery worker and beat until Ctrl-C."""

from __future__ import annotations

import http.client
import ipaddress
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from demo.management.commands.seed_demo import seed_demo_or_fail
from demo.services import DEFAULT_PASSWORD
from demo.supervisor import ChildDied, ChildSpec, Supervisor, stdout_writer
from tenants.selectors import partner_tenants


def _default_port() -> int:
    return int(settings.SITE_PORT) if str(settings.SITE_PORT).isdigit() else 8000


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    # Python's default SIGTERM ends the process without atexit handlers, and one of those is what
    # stops the embedded PostgreSQL: exit properly instead.
    raise SystemExit(128 + signum)


class Command(BaseCommand):
    help = "Run the whole platform locally: bootstrap, demo data, web server, Celery worker and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=_default_port(), help="web server port (default 8000)")
        parser.add_argument(
            "--bind",
            default="127.0.0.1",
            help="address the development server listens on (default 127.0.0.1: this machine only, with "
            "Django's debug pages; any other address turns them off unless KINDRED_DEBUG says otherwise)",
        )
        parser.add_argument("--no-demo", action="store_true", help="skip creating the demo partners and logins")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of the demo logins")

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        bind: str = options["bind"]
        previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        # Ctrl-C must interrupt the setup even when started from a shell that ignores SIGINT in
        # background jobs; the supervisor installs its own handlers afterwards.
        previous_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            self._check_port_free(bind=bind, port=port)
            started = time.monotonic()
            self.stdout.write("Migrating the platform (first run: about 15 s)…")
            call_command("bootstrap", verbosity=0)
            if options["no_demo"]:
                banner = self._banner_without_demo(port=port)
            else:
                self.stdout.write("Seeding the demo partners…")
                banner = seed_demo_or_fail(password=options["password"]).as_lines(port=port)
            call_command("collectstatic", interactive=False, verbosity=0)
            # The children open their own connections; an idle one held here would only be in the way.
            connections.close_all()
            self.stdout.write(f"Ready to start in {time.monotonic() - started:.1f} s; starting web, worker and beat.")
        except KeyboardInterrupt:
            raise CommandError("Interrupted before the platform started.", returncode=130) from None
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)
            signal.signal(signal.SIGINT, previous_sigint)

        supervisor = Supervisor(
            specs=self._children(bind=bind, port=port),
            env=self._child_env(bind=bind, port=port),
            cwd=str(settings.BASE_DIR),
            write=stdout_writer(sys.stdout),
        )

        if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            # Sign-up verification links arrive by email: say where a person can open them.
            banner = [*banner, "", f"Emails (verification links etc.) are written to {settings.EMAIL_FILE_PATH}/"]

        def announce() -> None:
            supervisor.say(f"web server answers on port {port} ({time.monotonic() - started:.1f} s after start)")
            for line in ["", *banner, "", "Press Ctrl-C to stop everything.", ""]:
                supervisor.say(line)

        try:
            supervisor.run(is_ready=lambda: _web_answers(port=port), on_ready=announce)
        except ChildDied as exc:
            raise CommandError(f"The platform stopped: {exc}", returncode=1) from exc
        self.stdout.write("Stopped web, worker and beat.")

    @staticmethod
    def _check_port_free(*, bind: str, port: int) -> None:
        # Fail before the slow setup rather than after it, when runserver would find the port taken.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((bind, port))
            except OSError as exc:
                raise CommandError(f"Port {port} is already in use on {bind}; choose another with --port.") from exc

    @staticmethod
    def _children(*, bind: str, port: int) -> list[ChildSpec]:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        celery = [python, "-m", "celery", "-A", "config"]
        schedule = settings.DATA_DIR / "celerybeat-schedule"
        return [
            ChildSpec("web", [python, manage, "runserver", f"{bind}:{port}", "--noreload"]),
            # Threads, not prefork: no pool processes to track, and two threads are plenty locally.
            ChildSpec("worker", [*celery, "worker", "--loglevel=INFO", "--pool=threads", "--concurrency=2"]),
            ChildSpec("beat", [*celery, "beat", "--loglevel=INFO", f"--schedule={schedule}"]),
        ]

    @staticmethod
    def _child_env(*, bind: str, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # Debug pages list every route and show tracebacks: only for the developer at this machine.
        env.setdefault("KINDRED_DEBUG", "1" if _is_loopback(bind) else "0")
        # The same data dir (database, broker queues, mail) for every child, whatever their defaults.
        env["KINDRED_DATA_DIR"] = str(settings.DATA_DIR)
        # Links in emails and Wagtail's admin base URL must name the port the server really uses,
        # unless the environment says otherwise on purpose (a proxy in front, say).
        env.setdefault("KINDRED_PORT", str(port))
        return env

    @staticmethod
    def _banner_without_demo(*, port: int) -> list[str]:
        root = f"{settings.SITE_SCHEME}://{settings.ROOT_DOMAIN}:{port}"
        lines = [f"Platform        {root}/", f"Platform admin  {root}/admin/", ""]
        partners = list(partner_tenants())
        if not partners:
            return [*lines, "No partner tenants yet: `manage.py provision_tenant` or run without --no-demo."]
        lines.append("Partners (Wagtail admin at /admin/ on each host)")
        for tenant in partners:
            lines.append(f"  {tenant.name:<28} {settings.SITE_SCHEME}://{tenant.primary_domain}:{port}/")
        return lines


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def _web_answers(*, port: int) -> bool:
    """True once the platform's home page answers (any status below 500) on the root domain."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/", headers={"Host": settings.ROOT_DOMAIN})
        return conn.getresponse().status < 500
    except OSError:
        return False
    finally:
        conn.close()
