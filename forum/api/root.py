"""``GET /api/``: what the API is and where everything is.

The links are read from the URLconf, so every endpoint without a path parameter
(each collection, the account, token and moderation endpoints, the schema and the
docs) is listed, including ones added later, without a list kept by hand.
"""

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

API_PREFIX = "api/"


class ApiRootSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField(help_text="The API's version (the schema's info.version).")
    schema = serializers.URLField(help_text="The OpenAPI 3 document.")
    docs = serializers.URLField(help_text="The API documentation (Swagger UI).")
    links = serializers.DictField(
        child=serializers.URLField(),
        help_text='Every endpoint without a path parameter, by path below /api/ (e.g. "posts").',
    )

    class Meta:
        ref_name = "ApiRoot"


def _fixed_api_paths(patterns, prefix: str = "") -> list[str]:
    """Paths (below the site root) of the URL patterns that take no parameter."""
    found = []
    for entry in patterns:
        route = str(entry.pattern)
        if "<" in route or "(" in route or route.startswith("^"):
            continue  # takes parameters (or is a regex)
        if isinstance(entry, URLResolver):
            found += _fixed_api_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            found.append(prefix + route)
    return found


def api_links() -> list[str]:
    paths = _fixed_api_paths(get_resolver().url_patterns)
    return sorted(
        {path.removeprefix(API_PREFIX).rstrip("/") for path in paths if path.startswith(API_PREFIX)}
        - {""}
    )


class ApiRootView(APIView):
    """The API's name and version, and links to every collection and endpoint that
    takes no path parameter, to the OpenAPI schema and to the docs."""

    @extend_schema(
        operation_id="get_api_root", responses={200: ApiRootSerializer}, auth=[], tags=["root"]
    )
    def get(self, request: Request) -> Response:
        def url(path: str) -> str:
            return request.build_absolute_uri(f"/{API_PREFIX}{path}/")

        return Response(
            {
                "name": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "schema": url("schema"),
                "docs": url("docs"),
                "links": {path: url(path) for path in api_links()},
            }
        )
