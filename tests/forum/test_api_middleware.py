"""forum/api/middleware.py: every write under /api/ takes JSON bodies only (415
otherwise, before anything runs), and every /api/ error is JSON whatever DEBUG is.

The write endpoints are enumerated from the served OpenAPI document (which
drf-spectacular builds from the URLconf), so an endpoint added later is covered
without touching this file; a second test walks the URLconf itself so that an
endpoint missing from the schema cannot escape either.
"""

import re

import pytest
from django.apps import apps
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, path
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser

from forum.api.middleware import is_json_media_type
from tests.factories import make_comment
from tests.openapi import served_schema

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch", "delete")
FORM_FIELDS = {
    "body": "posted from someone else's page",
    "reason": "spam",
    "action": "approve",
    "username": "mallory",
    "password": "a sturdy passphrase 42",
    "title": "t",
    "author_name": "Mallory",
    "blog": "probation",
    "display_name": "x",
    "comments": "remove",
}


def write_operations() -> list[tuple[str, str]]:
    paths = served_schema()["paths"]
    return sorted(
        (method, url) for url, item in paths.items() for method in item if method in WRITES
    )


def concrete(url: str, ids: dict[str, int]) -> str:
    """The path with each ``{param}`` filled: the id of an existing object of the
    collection named before it (posts, comments, ...), else 1."""

    def fill(match: re.Match) -> str:
        collection = url[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        return str(ids.get(collection, 1))

    return re.sub(r"\{[^}]+\}", fill, url)


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in ("accounts", "forum", "moderation", "authtoken")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.fixture
def world(post, moderator):
    comment = make_comment(post=post, body="a comment")
    token = Token.objects.create(user=moderator)
    return {"posts": post.pk, "comments": comment.pk, "guest-posts": post.pk}, token.key


def test_the_schema_lists_the_write_endpoints():
    operations = write_operations()
    assert ("post", "/api/posts/{id}/comments/") in operations
    assert ("post", "/api/auth/token/") in operations
    assert ("post", "/api/moderation/comments/{id}/decision/") in operations
    assert ("delete", "/api/accounts/me/") in operations


@pytest.mark.parametrize("as_moderator", [False, True], ids=["anonymous", "moderator"])
@pytest.mark.parametrize(
    "encoding", ["form", "multipart", "text", "none"], ids=lambda e: f"{e}-body"
)
def test_every_write_refuses_a_body_that_is_not_json_with_415_and_changes_nothing(
    world, encoding, as_moderator
):
    ids, token = world
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if as_moderator else {}
    if encoding == "form":
        body = "&".join(f"{k}={v}" for k, v in FORM_FIELDS.items())
        content_type = "application/x-www-form-urlencoded"
    elif encoding == "multipart":
        body, content_type = encode_multipart(BOUNDARY, FORM_FIELDS), MULTIPART_CONTENT
    elif encoding == "text":
        body, content_type = '{"body": "json in disguise"}', "text/plain"
    else:
        body, content_type = '{"body": "json without a type"}', ""
    client = Client()
    before = row_counts()
    for method, url in write_operations():
        response = client.generic(
            method.upper(), concrete(url, ids), body, content_type=content_type, **headers
        )
        assert response.status_code == 415, (method, url, response.content)
        assert response["Content-Type"] == "application/json", (method, url)
        assert "JSON" in response.json()["detail"], (method, url)
    assert row_counts() == before


def test_a_json_body_still_goes_through(api_client, post):
    response = api_client.post(f"/api/posts/{post.pk}/comments/", {"body": "fine"}, format="json")
    assert response.status_code == 201


def test_a_write_without_a_body_is_not_refused_for_its_type(api_client, post):
    comment = make_comment(post=post, body="x")
    response = Client().delete(f"/api/comments/{comment.pk}/", content_type="text/plain")
    assert response.status_code == 403  # not the author: judged on its merits, not 415


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/merge-patch+json", True),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("text/plain", False),
        ("text/json", False),
        ("", False),
    ],
)
def test_what_counts_as_json(content_type, json):
    assert is_json_media_type(content_type) is json


def _api_views(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and (prefix + str(entry.pattern)).startswith("api/"):
            yield prefix + str(entry.pattern), entry.callback


def test_every_api_view_in_the_urlconf_parses_json_only():
    views = list(_api_views(get_resolver().url_patterns))
    assert len(views) >= 15
    for route, callback in views:
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        for parser in getattr(view_class, "parser_classes", ()):
            assert issubclass(parser, JSONParser), (route, parser)


# --- JSON errors whatever DEBUG is -------------------------------------------------


def boom(request):
    raise RuntimeError("an unexpected failure")


urlpatterns = [path("api/test-boom/", boom), *get_resolver("config.urls").url_patterns]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/no-such-thing/", 404),
        ("GET", "/api/posts/abc/", 404),
        ("POST", "/api/nowhere/", 404),
        ("GET", "/api/posts/999999/", 404),
        ("PUT", "/api/blogs/", 405),
        ("DELETE", "/api/posts/", 405),
        ("POST", "/api/schema/", 405),
        ("POST", "/api/docs/", 405),
        ("PATCH", "/api/", 405),
        ("OPTIONS", "/api/docs/", 405),
    ],
)
def test_api_errors_are_json_whatever_debug_is(debug, method, url, status):
    response = Client().generic(method, url, HTTP_ACCEPT="text/html,*/*")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    if status == 405:
        assert response["Allow"]


@pytest.mark.urls(__name__)
def test_an_unexpected_error_under_api_is_a_json_500_whatever_debug_is(debug):
    response = Client(raise_request_exception=False).get("/api/test-boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    assert "an unexpected failure" not in response.content.decode()


def test_pages_outside_the_api_keep_their_html_errors(debug):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
