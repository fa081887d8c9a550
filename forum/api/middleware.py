"""What every request under ``/api/`` gets whatever view (or no view) answers it.

- ``RequestBodyLimitMiddleware`` (every path, not only ``/api/``): a body declared
  longer than ``settings.MAX_REQUEST_BODY_BYTES`` is refused with 413 before a byte
  of it is read; a body without ``Content-Length`` (chunked) with 411, since nothing
  downstream would read it (Django and DRF take a missing length as an empty body);
  a malformed length with 400. Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is the
  same bound (config/settings.py), so no parser reads more either.

- ``JsonBodyOnlyMiddleware``: a write whose body is not JSON is refused with 415
  before any view, throttle or authentication runs. Browsers send form-encoded,
  multipart and text/plain bodies cross-origin without a preflight (and anonymous
  API writes carry no CSRF token), so accepting them would let any web page post
  comments, flags and guest posts from its visitors' addresses. Checking here,
  rather than in each view's parsers alone, covers every endpoint, including one
  that never reads its body. (DRF's parsers are JSON-only too:
  ``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``.)
- ``JsonErrorsMiddleware``: an error answered as HTML under ``/api/`` (Django's
  404 and 500 pages, the debug pages when ``DEBUG`` is on, a 405 from a non-DRF
  view) becomes ``{"detail": ...}`` with the same status and headers.
"""

from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Headers of the original answer worth keeping on its JSON replacement.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/<something>+json``, any parameters."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _has_body(request: HttpRequest) -> bool:
    if request.META.get("HTTP_TRANSFER_ENCODING"):
        return True
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True  # a malformed length is not an empty body


def unsupported_media_type(content_type: str) -> JsonResponse:
    shown = content_type.split(";", 1)[0].strip() or "none"
    return JsonResponse(
        {
            "detail": f'Unsupported media type "{shown}" in request: '
            "send the body as JSON (Content-Type: application/json)."
        },
        status=415,
    )


def _error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


class RequestBodyLimitMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared.strip():
            if request.META.get("HTTP_TRANSFER_ENCODING"):
                return _error(
                    request,
                    411,
                    "A request body needs a Content-Length header (chunked bodies are "
                    "not accepted).",
                )
            return self.get_response(request)
        if not (declared.isascii() and declared.isdigit()):  # int() takes "+5", "5_0"
            return _error(request, 400, "The Content-Length header is not a valid length.")
        length = int(declared)
        if length > limit:
            return _error(
                request,
                413,
                f"The request body is {length} bytes; at most {limit} bytes are accepted.",
            )
        return self.get_response(request)


class JsonBodyOnlyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in WRITE_METHODS
            and is_api(request)
            and _has_body(request)
            and not is_json_media_type(request.META.get("CONTENT_TYPE", ""))
        ):
            return unsupported_media_type(request.META.get("CONTENT_TYPE", ""))
        return self.get_response(request)


class JsonErrorsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
        ):
            return self._as_json(response)
        return response

    @staticmethod
    def _as_json(response: HttpResponse) -> JsonResponse:
        try:
            phrase = HTTPStatus(response.status_code).phrase
        except ValueError:
            phrase = "Error"
        replacement = JsonResponse({"detail": f"{phrase}."}, status=response.status_code)
        for header in _KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement
