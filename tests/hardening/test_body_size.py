"""Request bodies are bounded on every path: a body declared longer than
``MAX_REQUEST_BODY_BYTES`` is a 413 before it is read (API operations, the admin,
the moderators' desk, mail links, feeds, unknown paths), a chunked body (no length)
is a 411, and a body at the bound is still read."""

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from forum.models import Comment
from moderation.services import moderator_grant
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment
from tests.openapi import check_response

pytestmark = pytest.mark.django_db

OTHER_PATHS = [
    "/admin/login/",
    "/admin/moderation/desk/",
    "/notify/moderate/x/",
    "/notify/confirm/x/",
    "/feeds/posts/1/comments.atom",
    "/api/no-such-thing/",
]


def _operations_with_bodies(client) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/?format=json", HTTP_ACCEPT="application/json").json()
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


@pytest.fixture
def token_moderator_client():
    moderator = UserFactory()
    moderator_grant(user=moderator)
    return Client(
        HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=moderator).key}",
        raise_request_exception=False,
    )


def test_every_endpoint_refuses_a_body_over_the_limit_with_413(settings, token_moderator_client):
    moderator_client = token_moderator_client
    settings.RATE_LIMITS = {scope: [] for scope in settings.RATE_LIMITS}
    settings.MAX_REQUEST_BODY_BYTES = 10_000
    post = PostFactory(blog=BlogFactory())
    comment = make_comment(post, body="c")
    comments_before = Comment.objects.count()
    body = json.dumps({"body": "x" * 20_000, "author_name": "big"}).encode()
    operations = _operations_with_bodies(moderator_client)
    assert len(operations) >= 8
    targets = [
        (method, path.replace("{id}", str(comment.pk if "comment" in path else post.pk)))
        for method, path in operations
    ]
    targets += [("POST", path) for path in OTHER_PATHS]
    answers = {}
    for method, path in targets:
        response = moderator_client.generic(method, path, body, content_type="application/json")
        answers[(method, path)] = response.status_code
        assert "at most 10000 bytes" in response.content.decode(), (method, path)
        if (method, path) in targets[: len(operations)]:
            assert response["Content-Type"] == "application/json"
            check_response(response)  # the schema documents the 413
    assert set(answers.values()) == {413}, answers
    assert Comment.objects.count() == comments_before


def test_a_declared_length_over_the_limit_is_refused_without_reading(settings, client):
    """The length header alone decides: a 50 MB claim is refused at once."""
    response = client.post(
        "/api/auth/token/", b"{}", content_type="application/json", CONTENT_LENGTH="50000000"
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request body is 50000000 bytes")


@pytest.mark.parametrize("length", ["-5", "+5", "5_0", "1e3", "\uff15", "x"])
def test_a_malformed_length_is_400(length, client):
    response = client.generic(
        "POST", "/api/auth/token/", b"{}", content_type="application/json", CONTENT_LENGTH=length
    )
    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]


def test_a_chunked_body_without_length_is_411(client):
    response = client.generic(
        "POST",
        "/api/posts/1/comments/",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]
    check_response(response)


def test_a_body_at_the_limit_is_read(settings, client):
    settings.RATE_LIMITS = {scope: [] for scope in settings.RATE_LIMITS}
    settings.MAX_REQUEST_BODY_BYTES = 10_000
    post = PostFactory(blog=BlogFactory())
    prefix = b'{"author_name": "fits", "body": "'
    suffix = b'"}'
    body = prefix + b"y" * (10_000 - len(prefix) - len(suffix)) + suffix
    assert len(body) == 10_000
    response = client.post(f"/api/posts/{post.pk}/comments/", body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]
