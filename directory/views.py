"""The "Find your community" page on the root domain."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from directory.selectors import entry_url, search_directory

MAX_QUERY_LENGTH = 200


def community_directory(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    entries = search_directory(query=query)
    results = [{"entry": entry, "url": entry_url(entry=entry, request=request)} for entry in entries]
    return render(request, "directory/directory.html", {"query": query, "results": results})
