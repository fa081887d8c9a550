"""Django's own error pages for the API's URLs, in the API's JSON shape.

A request that never reaches a DRF view (a path no URL pattern matches, such as
``/api/posts/abc/``) gets Django's handlers; under ``/api/`` they answer
``{"detail": ...}`` like every documented error, other paths keep the HTML pages.
"""

from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


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


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
