"""The project's URLs plus ``/bench/bare/?bytes=N``: a plain Django view sending N
fixed bytes (a JSON string), the yardstick of the cached thread page.
No DRF, no cache, no database: what any response of that size costs in the same
server and middleware."""

from functools import cache

from django.http import HttpResponse
from django.urls import path

from config.urls import handler400, handler404, handler500, urlpatterns  # noqa: F401


@cache
def _body(size: int) -> bytes:
    return b'"' + b"x" * max(0, size - 2) + b'"'


def bare(request) -> HttpResponse:
    size = min(int(request.GET.get("bytes") or 1000), 10_000_000)
    return HttpResponse(_body(size), content_type="application/json")


urlpatterns = [path("bench/bare/", bare), *urlpatterns]
