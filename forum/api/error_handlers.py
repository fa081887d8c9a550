"""How errors become HTTP answers, in one place.

``exception_handler`` (DRF's ``EXCEPTION_HANDLER``): DRF already maps its own
exceptions, ``Http404`` and ``PermissionDenied``; domain errors raised by the
services (``forum.errors.ServiceError`` and subclasses) carry their own status code
and message, so views never translate them one by one.

``bad_request``, ``not_found``, ``server_error`` (``config/urls.py``'s
``handler400``/``404``/``500``): a request that never reaches a DRF view (a path no
URL pattern matches, such as ``/api/posts/abc/``) gets Django's handlers; under
``/api/`` they answer ``{"detail": ...}`` like every documented error, other paths
keep the HTML pages. A database outage is a 503 with ``Retry-After`` and a JSON body
on every path (``server_error``).
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from forum.errors import ServiceError

API_PREFIX = "/api/"

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait when the database cannot be reached.
OUTAGE_RETRY_AFTER = 30


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        data = {"detail": exc.message}
        if exc.field:
            data = {exc.field: [exc.message]}
        data.update(exc.extra)
        return Response(data, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, NotAuthenticated):
        # No credentials at all (a wrong token is an AuthenticationFailed saying so).
        exc = NotAuthenticated(
            "Authentication credentials were not provided: send "
            "'Authorization: Bearer <token>' (token from POST /api/auth/token/)."
        )
    return drf_exception_handler(exc, context)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def database_unavailable() -> JsonResponse:
    response = JsonResponse(
        {"detail": "The service is briefly unavailable. Please retry."}, status=503
    )
    response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    return response


def server_error(request):
    # Called while the exception is being handled: a database that cannot be reached
    # (refused, timed out, connection lost, pool exhausted) is an outage, not a bug:
    # 503 with Retry-After and a JSON body, on every path (the admin's too).
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable: %s", exc)
        return database_unavailable()
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
