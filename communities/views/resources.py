"""Resources (until the cms app's resource library takes the "resource-library" URL name)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

from communities.selectors import (
    resource_library_page,
    resource_pages,
)
from communities.views.rendering import _render


@require_safe
def resource_index(request: HttpRequest) -> HttpResponse:
    """The header's "Resources" link: the partner's Wagtail resource library (cms.ResourceIndexPage)
    when it has one, else a plain list of its published resource pages. Reads Wagtail's page tree by
    content type: communities never imports cms."""
    library = resource_library_page()
    if library is not None and library.url:
        return redirect(library.url)
    return _render(request, "communities/resource_index.html", {"pages": resource_pages(limit=200)})
