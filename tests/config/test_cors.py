"""Cross-origin browser access (django-cors-headers, config/settings.py): off by
default; for the origins in CORS_ALLOWED_ORIGINS, with the API's own headers."""

import pytest
from django.test import Client

from tests.config.test_settings import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db

APP = "https://app.example.org"


def preflight(path: str, origin: str):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, x-edit-token, "
        "if-none-match",
    )


def test_no_origin_is_allowed_by_default(post):
    response = preflight(f"/api/posts/{post.pk}/comments/", APP)
    assert "Access-Control-Allow-Origin" not in response
    get = Client().get("/api/posts/", HTTP_ORIGIN=APP)
    assert "Access-Control-Allow-Origin" not in get


def test_a_named_origin_passes_the_preflight_with_the_apis_headers(settings, post):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    response = preflight(f"/api/posts/{post.pk}/comments/", APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-edit-token", "if-none-match"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_named_origin_reads_the_etag_and_edit_token_headers(settings, post):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    response = Client().get(f"/api/posts/{post.pk}/comments/", HTTP_ORIGIN=APP)
    assert response["Access-Control-Allow-Origin"] == APP
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "x-edit-token", "retry-after"} <= exposed


def test_another_origin_is_not_allowed(settings, post):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    response = preflight(f"/api/posts/{post.pk}/comments/", "https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in response


def test_the_admin_never_answers_cross_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    response = Client().get("/admin/login/", HTTP_ORIGIN=APP)
    assert "Access-Control-Allow-Origin" not in response


def test_the_origins_come_from_the_environment():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)",
        env={**PRODUCTION_ENV, "CORS_ALLOWED_ORIGINS": f"{APP}, http://localhost:3000"},
    )
    assert result.stdout.strip().splitlines()[-1] == f"['{APP}', 'http://localhost:3000']"
