"""One place where exceptions become HTTP answers.

DRF already maps its own exceptions, ``Http404`` and ``PermissionDenied``. Domain
errors raised by the services (``forum.errors.ServiceError`` and subclasses) carry
their own status code and message, so views never translate them one by one.
"""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from forum.errors import ServiceError


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        data = {"detail": exc.message}
        if exc.field:
            data = {exc.field: [exc.message]}
        data.update(exc.extra)
        return Response(data, status=exc.status_code, headers=exc.headers)
    return drf_exception_handler(exc, context)
