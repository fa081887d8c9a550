"""accounts/authentication.py: ``Authorization: Bearer <token>`` and ``Token <token>``,
with 401 messages that say what is wrong."""

import pytest
from rest_framework.authtoken.models import Token

from tests.openapi import SchemaCheckingAPIClient as APIClient

pytestmark = pytest.mark.django_db

ME = "/api/accounts/me/"


@pytest.fixture
def token(user) -> str:
    return Token.objects.create(user=user).key


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer", "token"])
def test_either_scheme_authenticates(user, token, scheme):
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"{scheme} {token}")
    assert response.status_code == 200
    assert response.json()["username"] == user.username


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_a_wrong_token_says_no_account_has_it(scheme):
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"{scheme} not-a-real-token")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token: no account has this token")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_a_scheme_without_a_token_says_the_token_is_missing(scheme):
    response = APIClient().get(ME, HTTP_AUTHORIZATION=scheme)
    assert response.status_code == 401
    assert f"no token after '{scheme}'" in response.json()["detail"]


def test_a_token_with_spaces_is_refused_as_malformed(token):
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token} extra")
    assert response.status_code == 401
    assert "must not contain spaces" in response.json()["detail"]


def test_no_credentials_says_how_to_send_them():
    response = APIClient().get(ME)
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "not provided" in detail and "Authorization: Bearer <token>" in detail


def test_another_scheme_is_not_ours_and_leaves_the_caller_anonymous():
    response = APIClient().get(ME, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert "not provided" in response.json()["detail"]


def test_an_inactive_account_is_refused_with_its_reason(user, token):
    user.is_active = False
    user.save()
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_the_token_endpoint_ignores_a_stale_authorization_header(user):
    user.set_password("a sturdy passphrase 42")
    user.save()
    response = APIClient().post(
        "/api/auth/token/",
        {"username": user.username, "password": "a sturdy passphrase 42"},
        format="json",
        HTTP_AUTHORIZATION="Bearer a-token-that-was-replaced",
    )
    assert response.status_code == 200
    key = response.json()["token"]
    again = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert again.status_code == 200


def test_the_schema_declares_bearer_auth_and_a_public_token_endpoint():
    from tests.openapi import served_schema

    schema = served_schema()
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["tokenAuth"]["description"],
    }
    assert schema["paths"]["/api/auth/token/"]["post"]["security"] == []
    assert schema["paths"]["/api/accounts/register/"]["post"]["security"] == []
    # Public reads say authentication is optional ({} among the alternatives).
    assert {} in schema["paths"]["/api/posts/"]["get"]["security"]
    assert {} not in schema["paths"]["/api/accounts/me/"]["get"]["security"]
