"""JSON nested absurdly deep is a 400 on every operation that reads a JSON body
(every one the OpenAPI document lists with a request body), before the parser
recurses: never a 500."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from forum.api.parsers import MAX_DEPTH
from moderation.services import moderator_grant
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment

pytestmark = pytest.mark.django_db

BODIES = {
    "arrays": b"[" * 3000 + b"]" * 3000,
    "objects": b'{"body":' * 3000 + b'"x"' + b"}" * 3000,
    "unclosed": b'{"body": ' + b"[" * 100_000,
    "just too deep": b'{"body": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
}


def _operations_with_bodies(client) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/?format=json", HTTP_ACCEPT="application/json").json()
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


@pytest.mark.parametrize("shape", sorted(BODIES))
def test_every_json_body_refuses_deep_nesting_with_400(shape, settings):
    settings.RATE_LIMITS = {scope: [] for scope in settings.RATE_LIMITS}
    moderator = UserFactory()
    moderator_grant(user=moderator)
    post = PostFactory(blog=BlogFactory())
    comment = make_comment(post, body="c")
    client = Client(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=moderator).key}",
        raise_request_exception=False,
    )
    operations = _operations_with_bodies(client)
    assert len(operations) >= 8
    answers = {}
    for method, path in operations:
        real = path.replace("{id}", str(comment.pk if "comment" in path else post.pk))
        response = client.generic(method, real, BODIES[shape], content_type="application/json")
        answers[(method, path)] = response.status_code
        if response.status_code == 400:
            assert "JSON parse error" in response.json()["detail"]
    assert set(answers.values()) == {400}, answers


def test_a_body_at_the_depth_bound_is_parsed(settings, user):
    client = Client()
    body = b'{"username": "x", "password": "y", "email": ' + b"[" * 31 + b"]" * 31 + b"}"
    response = client.post("/api/accounts/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert "email" in response.json()  # it reached the serializer
