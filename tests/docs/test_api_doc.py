"""docs/API.md is the API as built: in step with the served OpenAPI schema, and the
README sends readers there (not to a file outside the repository)."""

import re
from pathlib import Path

import pytest

from tests.openapi import served_schema

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "API.md"
METHODS = ("get", "post", "put", "patch", "delete")
# The schema does not describe the two endpoints that serve it (SERVE_INCLUDE_SCHEMA).
SELF_DESCRIBING = {("get", "/api/schema/"), ("get", "/api/docs/")}
SECTION = re.compile(r"^#{2,4} (GET|POST|PUT|PATCH|DELETE) (/\S*)\s*$", re.MULTILINE)


def documented_operations() -> set[tuple[str, str]]:
    return {(method.lower(), path) for method, path in SECTION.findall(API_DOC.read_text())}


def schema_operations() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in served_schema()["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_operation_in_the_schema_has_a_section_in_the_api_doc():
    missing = schema_operations() - documented_operations()
    assert not missing, f"add a '### METHOD /path' section to docs/API.md for: {sorted(missing)}"


def test_every_section_of_the_api_doc_is_an_operation_of_the_schema():
    stale = documented_operations() - schema_operations() - SELF_DESCRIBING
    assert not stale, f"docs/API.md documents operations the schema lacks: {sorted(stale)}"


def test_the_schema_and_docs_endpoints_are_documented_too():
    assert documented_operations() >= SELF_DESCRIBING


def test_the_api_doc_covers_what_clients_need_to_know():
    text = API_DOC.read_text()
    for topic in (
        "cursor",
        "replies_limit",
        "ETag",
        "304",
        "moderation_reasons",
        "body_html",
        "expected_state",
        "export",
        "Erasure",
        "415",
        "429",
        "Retry-After",
        "409",
        "Bearer",
        "CORS_ALLOWED_ORIGINS",
    ):
        assert topic in text, topic


def test_the_readme_points_to_the_api_doc_not_outside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "docs/API.md" in readme
    assert "../shared" not in readme
