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


# --- what generators and fuzzers need (issue: clients and newcomers) ---------------


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_request_bodies_are_json_only(client):
    bodies = 0
    for method, path, operation in _operations(served_schema(client)):
        if "requestBody" in operation:
            bodies += 1
            assert set(operation["requestBody"]["content"]) == {"application/json"}, (method, path)
    assert bodies >= 10


def test_every_response_with_a_body_is_typed(client):
    for method, path, operation in _operations(served_schema(client)):
        for code, response in operation["responses"].items():
            if code in ("204", "304"):
                continue
            schema = response["content"]["application/json"]["schema"]
            assert "$ref" in schema or schema.get("properties") or schema.get("items"), (
                method,
                path,
                code,
            )


def test_no_enum_holds_an_empty_string(client):
    for node in _walk(served_schema(client)):
        assert "" not in node.get("enum", [None]), node


def test_operation_ids_are_unique_readable_verbs(client):
    ids = [operation["operationId"] for _, _, operation in _operations(served_schema(client))]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert operation_id.replace("_", "").isalpha() and operation_id.islower(), operation_id
    assert {"list_posts", "get_thread", "create_comment", "obtain_token", "decide_comment"} <= set(
        ids
    )


def test_component_names_carry_no_private_or_generic_suffixes(client):
    for name in served_schema(client)["components"]["schemas"]:
        assert not name.startswith("_") and "Input" not in name and "Response" not in name, name


def test_the_export_and_a_flag_are_typed(client):
    schema = served_schema(client)
    export = schema["paths"]["/api/accounts/me/export/"]["get"]["responses"]["200"]
    assert export["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AccountExport"
    }
    flag = schema["components"]["schemas"]["Flag"]["properties"]["reason"]
    assert flag == {"allOf": [{"$ref": "#/components/schemas/FlagReasonEnum"}], "readOnly": True}
    kind = schema["components"]["schemas"]["CommentDecision"]["properties"]["removal_kind"]
    assert kind["nullable"] is True


def _parameter(schema: dict, path: str, name: str) -> dict:
    [parameter] = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter["schema"]


def test_the_limits_the_server_enforces_are_in_the_schema(client, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_MAX_LENGTH": 1234}
    schema = served_schema(client)
    thread = "/api/posts/{id}/comments/"
    assert _parameter(schema, thread, "page_size") | {"minimum": 1, "maximum": 200} == (
        _parameter(schema, thread, "page_size")
    )
    assert _parameter(schema, thread, "replies_limit") == {
        "type": "integer",
        "minimum": 0,
        "maximum": 10_000,
    }
    assert _parameter(schema, thread, "id")["minimum"] == 1
    assert _parameter(schema, "/api/comments/", "parent")["minimum"] == 1
    body = schema["components"]["schemas"]["NewCommentRequest"]["properties"]["body"]
    assert (body["minLength"], body["maxLength"]) == (1, 1234)  # the setting, at call time
    parent = schema["components"]["schemas"]["NewCommentRequest"]["properties"]["parent"]
    assert parent["minimum"] == 1


def test_throttled_answers_document_retry_after(client):
    for method, path, operation in _operations(served_schema(client)):
        if "429" in operation["responses"]:
            assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)


def test_the_text_and_shape_rules_the_server_enforces_are_in_the_schema(client):
    """What schemathesis's positive and negative data checks hold the server to."""
    import re

    from forum.text import TEXT_PATTERN

    components = served_schema(client)["components"]["schemas"]
    # Every field checked by forum.text.clean_text refuses control characters.
    for component, field in [
        ("NewCommentRequest", "body"),
        ("NewCommentRequest", "author_name"),
        ("PatchedCommentEditRequest", "body"),
        ("NewFlagRequest", "note"),
        ("GuestPostSubmissionRequest", "title"),
        ("GuestPostSubmissionRequest", "body"),
        ("GuestPostSubmissionRequest", "author_name"),
        ("RegistrationRequest", "display_name"),
        ("PatchedMeUpdateRequest", "display_name"),
        ("CommentActionRequest", "reason"),
        ("PostActionRequest", "reason"),
        ("NewBanRequest", "reason"),
        ("BanLiftRequest", "reason"),
    ]:
        schema = components[component]["properties"][field]
        assert schema["pattern"] == TEXT_PATTERN, field
        assert "oneOf" not in schema  # "" matches the pattern: no second branch for it
    assert re.fullmatch(TEXT_PATTERN, "Tab\\tand\\r\\nnew lines, ünïcödé.")
    assert not re.fullmatch(TEXT_PATTERN, "NUL \x00") and not re.fullmatch(TEXT_PATTERN, "\x85")
    # A PATCH body is validated whole: editing a comment needs its body ({} is 400).
    assert components["PatchedCommentEditRequest"]["required"] == ["body"]
    assert "required" not in components["PatchedMeUpdateRequest"]


def test_free_text_query_parameters_hold_no_nul(client):
    schema = served_schema(client)
    assert _parameter(schema, "/api/posts/", "search")["pattern"] == "^[^\\u0000]*$"
    assert _parameter(schema, "/api/comments/", "author_name")["pattern"] == "^[^\\u0000]*$"
    assert "pattern" not in _parameter(schema, "/api/posts/", "published_after")
    # ?ordering= (an empty array) is refused: the array names at least one field.
    assert _parameter(schema, "/api/posts/", "ordering")["minItems"] == 1
