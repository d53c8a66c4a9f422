"""A trivial liveness check for load balancers (and the benchmarks' floor): no database, no template."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def health(request: HttpRequest) -> HttpResponse:
    """``ok`` as plain text. Add ``path("healthz/", health, name="health")`` to a host's URLs to serve it."""
    return HttpResponse("ok", content_type="text/plain")
