"""Every /api/ response the suite receives is checked against the OpenAPI document
the project serves (drf-spectacular), with openapi-core: path, method, status code
and body must all be documented."""

import copy
import gzip
import json
from functools import cache

from django.http import HttpResponse
from django.test.utils import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from rest_framework.test import APIClient

UNCHECKED_PREFIXES = ("/api/schema/", "/api/docs/")


@cache
def served_schema() -> dict:
    """The schema as /api/schema/ serves it (no request: every operation, public),
    as a dict."""
    with override_settings(ALLOWED_HOSTS=["*"]):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


@cache
def served_openapi(server: str = "http://testserver") -> OpenAPI:
    document = copy.deepcopy(served_schema())
    document["servers"] = [{"url": server}]
    return OpenAPI.from_dict(document)


def check_response(response) -> None:
    request = response.wsgi_request
    if not request.path.startswith("/api/") or request.path.startswith(UNCHECKED_PREFIXES):
        return
    if response.status_code == 405:  # DRF's answer to a method the path lacks
        return
    if response.get("Content-Encoding") == "gzip":  # checked as the client decodes it
        decoded = HttpResponse(gzip.decompress(response.content), status=response.status_code)
        for name, value in response.items():
            if name != "Content-Encoding":
                decoded[name] = value
        response = decoded
    served_openapi().validate_response(
        DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(response)
    )


def check_live_response(response, server: str) -> None:
    """The same check for a ``requests`` response from a live server at ``server``."""
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    path = response.request.path_url.split("?")[0]
    if not path.startswith("/api/") or path.startswith(UNCHECKED_PREFIXES):
        return
    served_openapi(server).validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )


class SchemaCheckingAPIClient(APIClient):
    def request(self, **kwargs):
        response = super().request(**kwargs)
        check_response(response)
        return response
