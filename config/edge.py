"""The edge: one place that refuses input no view can handle and gives every API error one shape.

Every request passes ``InputGuardMiddleware`` before any tenant lookup, view or parser sees it, so
an endpoint added later is covered without a line of its own. It refuses (400) what PostgreSQL,
the JSON encoder or the Python parser cannot take whole: NUL characters, lone UTF-16 surrogates,
invalid UTF-8, JSON nested deeper than ``MAX_JSON_DEPTH`` and integers beyond PostgreSQL's bigint.
Under ``/api/v1/`` every error answer — an unmatched path, a 404 or 405 from Django, an uncaught
exception — is rewritten into the API's ``{"code", "message", "details"}`` shape; elsewhere a bad
request gets a plain 400 page.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.common import CommonMiddleware
from django.template.loader import render_to_string

logger = logging.getLogger("django.request")

API_PREFIX = "/api/v1/"
MAX_JSON_DEPTH = 64
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# Query parameters that are integers wherever they appear (paging and ids); a value beyond bigint
# in any of them can only be a mistake or an attack, and PostgreSQL would refuse it with an error.
INTEGER_PARAMETERS = frozenset({"offset", "limit", "page", "page_size", "id", "ids", "condition", "into"})
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Only a body with such an escape can hold NUL or half of a surrogate pair once decoded.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


class BadInput(Exception):
    """Input the edge refuses: ``field`` names what the client sent (a parameter, "body" or "path")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def error_response(*, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": details or {}}, status=status)


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def check_text(field: str, value: str) -> None:
    if "\x00" in value:
        raise BadInput(field, "Text may not contain NUL characters.")
    if _SURROGATE.search(value):
        raise BadInput(field, "Text must be valid Unicode (no lone surrogates).")


def _beyond_bigint(digits: str) -> bool:
    # Past 20 digits it is out of range whatever it says (and Python refuses int() past 4,300 digits).
    stripped = digits.strip().lstrip("+-").lstrip("0")
    return len(stripped) > 20 or not BIGINT_MIN <= int(digits) <= BIGINT_MAX


def check_integer_parameter(field: str, value: str) -> None:
    if _INTEGER.fullmatch(value) and _beyond_bigint(value):
        raise BadInput(field, f"A whole number between {BIGINT_MIN} and {BIGINT_MAX}.")


def _is_integer_parameter(name: str) -> bool:
    return name in INTEGER_PARAMETERS or name.endswith(("_id", "_ids"))


def check_query(request: HttpRequest) -> None:
    raw = request.META.get("QUERY_STRING", "")
    if raw:
        try:
            unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("query", "The query string is not valid UTF-8.") from None
    for name, values in request.GET.lists():
        check_text(name, name)
        for value in values:
            check_text(name, value)
            if _is_integer_parameter(name):
                check_integer_parameter(name, value)


def check_path(request: HttpRequest) -> None:
    # Integers in a path are ids (``<int:topic_id>``); beyond bigint they name nothing that can exist.
    check_text("path", request.path_info)
    for segment in request.path_info.split("/"):
        if segment.isascii() and segment.isdigit() and _beyond_bigint(segment):
            raise BadInput("path", f"Ids are at most {BIGINT_MAX}.")


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest, counted without parsing (and so without recursion)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _bounded_int(text: str) -> int:
    value = int(text)
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise BadInput("body", f"Whole numbers must lie between {BIGINT_MIN} and {BIGINT_MAX}.")
    return value


def _walk_json(data: Any, *, check_strings: bool) -> None:
    """Depth and text of parsed JSON, walked with a stack (no recursion, whatever the nesting)."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "body")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, str):
            if check_strings:
                check_text(where, value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise BadInput("body", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.")
        if isinstance(value, dict):
            for key, item in value.items():
                if check_strings:
                    check_text(where, key)
                stack.append((item, depth + 1, key if where == "body" else where))
        else:
            stack.extend((item, depth + 1, where) for item in value)


def check_json_body(body: bytes) -> None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("body", "The body is not valid UTF-8.") from None
    if "\x00" in text:
        raise BadInput("body", "Text may not contain NUL characters.")
    try:
        data = json.loads(text, parse_int=_bounded_int)
    except RecursionError:
        raise BadInput("body", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.") from None
    except ValueError:
        return  # malformed JSON: the parser answers with its own 400 ("parse_error")
    # Fewer brackets than the limit cannot nest beyond it; only escapes can hide NUL or a surrogate.
    deep = body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
    suspect = _SUSPECT_ESCAPE.search(text) is not None
    if deep or suspect:
        _walk_json(data, check_strings=suspect)


def check_form_body(body: bytes) -> None:
    try:
        text = unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("body", "The form is not valid UTF-8.") from None
    check_text("body", text)


def check_multipart_fields_utf8(body: bytes, boundary: str) -> None:
    """Refuse a multipart body whose text fields (parts without a filename) are not valid UTF-8."""
    if not boundary:
        return  # the parser refuses it below
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator or b"filename=" in head.lower():
            continue
        try:
            content.removesuffix(b"\r\n").decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("body", "A form field is not valid UTF-8.") from None


def check_request(request: HttpRequest) -> None:
    check_path(request)
    check_query(request)
    content_type = request.content_type or ""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if content_type == "application/json" or content_type.endswith("+json"):
        check_json_body(request.body)
    elif content_type == "application/x-www-form-urlencoded":
        check_form_body(request.body)
    elif content_type == "multipart/form-data":
        # Files may hold any bytes; the fields are text and reach the database. Django decodes
        # fields replacing bad bytes, so the raw fields are checked first (bodies small enough to
        # hold in memory; larger ones are uploads, whose fields are still checked below).
        if int(request.META.get("CONTENT_LENGTH") or 0) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            check_multipart_fields_utf8(request.body, (request.content_params or {}).get("boundary", ""))
        try:
            fields = request.POST
        except MultiPartParserError:
            raise BadInput("body", "The multipart body could not be read (check its boundary).") from None
        for name, values in fields.lists():
            check_text(name, name)
            for value in values:
                check_text(name, value)


# ---------------------------------------------------------------------------------------------
# Middleware
# ---------------------------------------------------------------------------------------------


def _bad_request(request: HttpRequest, error: BadInput) -> HttpResponse:
    if is_api_path(request.path_info):
        return error_response(
            status=400, code="invalid", message="The request is not valid.", details={error.field: [error.message]}
        )
    html = render_to_string("400.html", {"message": error.message})
    return HttpResponse(html, status=400, content_type="text/html; charset=utf-8")


_CODE_FOR_STATUS = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


class InputGuardMiddleware:
    """First in MIDDLEWARE: refuses unusable input, and keeps the API's errors in the API's shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_request(request)
        except BadInput as error:
            return _bad_request(request, error)
        except SuspiciousOperation as error:  # too many fields, a body over the size limit
            return _bad_request(request, BadInput("body", str(error) or "The request is too large."))
        response = self.get_response(request)
        if is_api_path(request.path_info) and response.status_code >= 400:
            return self._as_api_error(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # cycle: config.edge -> config.unavailable -> config.edge (it uses error_response, is_api_path)
        from config.unavailable import is_unavailable, unavailable_response  # noqa: PLC0415

        if is_unavailable(exception):
            logger.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
            return unavailable_response(request)
        if not is_api_path(request.path_info):
            return None
        logger.error("Internal Server Error: %s", request.path, exc_info=exception, extra={"status_code": 500})
        return error_response(
            status=500, code="server_error", message="Something went wrong on our side. Please try again later."
        )

    @staticmethod
    def _as_api_error(response: HttpResponse) -> HttpResponse:
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        code = _CODE_FOR_STATUS.get(status, "server_error" if status >= 500 else "error")
        message = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        rewritten = error_response(status=status, code=code, message=f"{message}.")
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                rewritten[header] = response[header]
        return rewritten


class KindredCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, without slash-appending redirects under /api/v1/: an API client
    gets a 404 in the API's shape for a path that does not exist (in DEBUG Django would raise on a
    POST instead)."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if is_api_path(request.path_info):
            return False
        return super().should_redirect_with_slash(request)
