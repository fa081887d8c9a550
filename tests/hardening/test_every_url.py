"""Any method on any URL answers without a 500: every URL pattern the project serves
(API, admin, schema), each path parameter as a real row, a missing one and an
absurd one, every HTTP method (and one nobody knows), with and without a JSON body,
as an anonymous caller, a user and a moderator. Sessions carry CSRF checks as a
browser's would, so nothing here is let in more than an attacker is."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from forum.models import CommentStatus
from moderation.services import moderator_grant
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = ["anonymous", "user", "moderator"]
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _patterns(patterns=None, prefix: str = ""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _paths(pattern: str, real: dict[str, str]) -> list[str]:
    """Concrete paths for one pattern: a real object, a missing one, an absurd one."""
    pattern = pattern.lstrip("^").rstrip("$").replace("^", "")
    names = [m.group(2) or m.group(3) for m in _PARAM.finditer(pattern)]
    if not names:
        return ["/" + pattern]
    choices = []
    values = [lambda name: real.get(name, "1"), lambda name: "9" * 30]
    if pattern.startswith("api/"):
        values.append(lambda name: "999999")
    for value_of in values:
        choices.append("/" + _PARAM.sub(lambda m, f=value_of: f(m.group(2) or m.group(3)), pattern))
    if "app_label" in names:
        choices.append("/admin/nothing-here/")
    return sorted(set(choices))


@pytest.fixture
def world(db):
    blog = BlogFactory(slug="probation")
    post = PostFactory(blog=blog)
    root = make_comment(post, body="root")
    make_comment(post, body="reply", parent=root)
    make_comment(post, body="held", status=CommentStatus.PENDING)
    return {
        "pk": str(post.pk),
        "object_id": str(post.pk),
        "id": "1",
        "slug": blog.slug,
        "app_label": "forum",
        "url": "forum/",
        "content_type_id": "1",
    }


def _client(role: str) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if role == "anonymous":
        return client
    user = UserFactory(is_staff=role == "moderator")
    if role == "moderator":
        moderator_grant(user=user)
    client.force_login(user)
    token = Token.objects.create(user=user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


@pytest.mark.parametrize("role", ROLES)
def test_no_method_on_any_url_answers_a_server_error(role, world):
    client = _client(role)
    failures = []
    paths = sorted({path for pattern in _patterns() for path in _paths(pattern, world)})
    assert len(paths) > 60  # the walk found the admin and the API
    for path in paths:
        for method in METHODS:
            for body in (None, b"{}") if method in WRITES else (None,):
                response = client.generic(
                    method,
                    path,
                    data=body or b"",
                    content_type="application/json" if body else None,
                    HTTP_ACCEPT="application/json",
                )
                if response.status_code >= 500:
                    failures.append((method, path, body, response.status_code))
    assert failures == []
