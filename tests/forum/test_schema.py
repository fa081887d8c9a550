"""The OpenAPI document: valid, complete, served with its docs from local files."""

import pytest
from openapi_spec_validator import validate

from tests.openapi import served_openapi

pytestmark = pytest.mark.django_db

CONTRACT = {
    ("/api/blogs/", "get"),
    ("/api/blogs/{slug}/", "get"),
    ("/api/posts/", "get"),
    ("/api/posts/{id}/", "get"),
    ("/api/posts/{id}/comments/", "get"),
    ("/api/posts/{id}/comments/", "post"),
    ("/api/comments/", "get"),
    ("/api/comments/{id}/", "get"),
    ("/api/comments/{id}/", "patch"),
    ("/api/comments/{id}/", "delete"),
    ("/api/comments/{id}/flag/", "post"),
    ("/api/guest-posts/", "post"),
    ("/api/accounts/register/", "post"),
    ("/api/auth/token/", "post"),
    ("/api/accounts/me/", "get"),
}


def served_schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_served_schema_is_valid_openapi_3(client):
    validate(served_schema(client))


def test_the_schema_documents_every_operation_of_the_contract(client):
    paths = served_schema(client)["paths"]
    documented = {(path, method) for path, item in paths.items() for method in item}
    assert documented >= CONTRACT


def test_every_operation_documents_its_error_answers(client):
    for path, item in served_schema(client)["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "404"} <= codes, (method, path)
            if method != "get":
                assert "429" in codes or path.startswith("/api/moderation/"), (method, path)


def test_the_schema_used_to_check_responses_is_the_served_one(client):
    assert set(served_openapi().spec["paths"].keys()) == set(served_schema(client)["paths"])


def test_swagger_ui_is_served_from_local_static_files(client, settings):
    # As WhiteNoise serves them when nothing was collected (tests run no collectstatic).
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
