"""Regressions for what the API fuzzer (test_fuzz_api.py) found, one case each."""

import datetime

import pytest
from django.test import Client

from forum.models import PostStatus
from tests.factories import PostFactory, UserFactory, make_comment

pytestmark = pytest.mark.django_db


def served_paths() -> dict:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return response.json()["paths"]


# --- a path no URL pattern matches: Django's HTML 404 where the schema says JSON ------


@pytest.mark.parametrize(
    "path",
    [
        "/api/posts/not-a-number/",
        "/api/posts/%C3%AC%C3%A5/comments/",
        "/api/comments/-1/flag/",
        "/api/blogs/a%20b/",
        "/api/no-such-endpoint/",
    ],
)
def test_an_api_path_no_url_matches_is_a_json_404(path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_page_outside_the_api_keeps_the_html_404():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- blank ordering items: a 500 (order_by("")), then accepted where the schema ----------
# --- (an array of field names) calls them invalid: now a 400 naming `ordering` ----------


@pytest.mark.parametrize("endpoint", ["/api/posts/", "/api/comments/"])
@pytest.mark.parametrize("ordering", ["", ",,,,,", ",", "x,", ",-x"])
def test_blank_items_in_an_ordering_are_refused(api_client, post, endpoint, ordering):
    field = "published_at" if endpoint == "/api/posts/" else "created_at"
    response = api_client.get(endpoint, {"ordering": ordering.replace("x", field)})
    assert response.status_code == 400
    assert list(response.json()) == ["ordering"]


def test_an_ordering_of_named_fields_still_orders(api_client, post):
    older = PostFactory(blog=post.blog, published_at=post.published_at - datetime.timedelta(1))
    response = api_client.get("/api/posts/", {"ordering": "published_at"})
    assert [item["id"] for item in response.json()["results"]] == [older.pk, post.pk]
    first, second = make_comment(post, body="First."), make_comment(post, body="Second.")
    response = api_client.get("/api/comments/", {"ordering": "-created_at"})
    assert [item["id"] for item in response.json()["results"]] == [second.pk, first.pk]


# --- offsets beyond ±15:59: PostgreSQL refused the date-time (a 500) ---------------------


@pytest.mark.parametrize(
    ("endpoint", "parameter"),
    [
        ("/api/posts/", "published_after"),
        ("/api/posts/", "published_before"),
        ("/api/comments/", "created_after"),
        ("/api/comments/", "created_before"),
    ],
)
def test_date_filters_take_any_valid_iso_offset(api_client, blog, endpoint, parameter):
    # 2024-01-02 05:00+17:22 is 2024-01-01 11:38 UTC.
    moment = datetime.datetime(2024, 1, 1, 11, 38, tzinfo=datetime.UTC)
    post = PostFactory(
        blog=blog, status=PostStatus.PUBLISHED, published_at=moment - datetime.timedelta(1)
    )
    make_comment(post, created_at=moment + datetime.timedelta(minutes=1))
    response = api_client.get(endpoint, {parameter: "2024-01-02T05:00:00+17:22"})
    assert response.status_code == 200
    found = response.json()["count"]
    # The post was published before the moment, its comment written after it.
    before = parameter.endswith("_before")
    assert found == (1 if before == (endpoint == "/api/posts/") else 0)


def test_a_date_filter_out_of_range_once_in_utc_is_a_400(api_client):
    response = api_client.get("/api/posts/", {"published_after": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400
    assert "published_after" in response.json()


# --- a body of a media type no parser reads: 415, undocumented ----------------------------


def test_a_body_without_a_parser_is_a_documented_415(api_client, post):
    # SchemaCheckingAPIClient validates the answer against the schema, 415 included.
    response = api_client.generic(
        "POST", f"/api/posts/{post.pk}/comments/", b"body=x", content_type="text/x-nothing"
    )
    assert response.status_code == 415
    assert set(response.json()) == {"detail"}


def test_every_operation_reading_a_body_documents_415():
    for path, item in served_paths().items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert "415" in operation["responses"], (method, path)


# --- erasing one's account: the DELETE's body (the password) was not in the schema -----


def test_the_account_erasure_documents_its_password_body():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = response.json()
    body = document["paths"]["/api/accounts/me/"]["delete"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][name]["required"] == ["password"]


def test_an_account_is_erased_with_the_documented_body(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    response = api_client.delete(
        "/api/accounts/me/", {"password": "correct horse battery"}, format="json"
    )
    assert response.status_code == 204
    assert not type(user).objects.filter(pk=user.pk).exists()


# --- ids too large for the column: OverflowError (a 500) in the moderation filters -------


@pytest.mark.parametrize("value", [str(10**20), "1e300", "-5.5e298", "1.5", "0"])
@pytest.mark.parametrize("parameter", ["actor", "comment", "post"])
def test_the_moderation_log_refuses_ids_that_are_no_row_ids(moderator_client, parameter, value):
    response = moderator_client.get("/api/moderation/log/", {parameter: value})
    assert response.status_code == 400
    assert parameter in response.json()


def test_the_moderation_queue_refuses_a_post_id_too_large(moderator_client):
    response = moderator_client.get("/api/moderation/queue/", {"post": str(10**20)})
    assert response.status_code == 400
    assert "post" in response.json()


def test_the_moderation_log_ids_are_integers_in_the_schema():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    parameters = response.json()["paths"]["/api/moderation/log/"]["get"]["parameters"]
    types = {p["name"]: p["schema"]["type"] for p in parameters}
    assert (types["actor"], types["comment"], types["post"]) == ("integer",) * 3


# --- a blank filter value (?action=, ?post=) was ignored where the schema has no "" ------


@pytest.mark.parametrize(
    ("endpoint", "parameter"),
    [
        ("/api/moderation/log/", "action"),
        ("/api/moderation/log/", "kind"),
        ("/api/comments/", "post"),
        ("/api/comments/", "status"),
        ("/api/comments/", "created_after"),
        ("/api/posts/", "is_guest"),
        ("/api/posts/", "ordering"),
    ],
)
def test_a_blank_filter_value_is_refused_naming_it(moderator_client, endpoint, parameter):
    response = moderator_client.get(endpoint, {parameter: ""})
    assert response.status_code == 400
    assert list(response.json()) == [parameter]


@pytest.mark.parametrize(
    ("endpoint", "parameter"),
    [("/api/posts/", "search"), ("/api/posts/", "blog"), ("/api/comments/", "author_name")],
)
def test_blank_free_text_filters_still_match_everything(api_client, post, endpoint, parameter):
    response = api_client.get(endpoint, {parameter: ""})
    assert response.status_code == 200


# --- a boolean filter took any text as "no filter" (GET /api/moderation/bans/?active=x) --


@pytest.mark.parametrize(
    ("endpoint", "parameter"),
    [("/api/moderation/bans/", "active"), ("/api/posts/", "is_guest")],
)
@pytest.mark.parametrize("value", ["\x8e", "yes please", "2"])
def test_a_boolean_filter_refuses_what_is_not_a_boolean(
    moderator_client, endpoint, parameter, value
):
    response = moderator_client.get(endpoint, {parameter: value})
    assert response.status_code == 400
    assert list(response.json()) == [parameter]
    assert moderator_client.get(endpoint, {parameter: "true"}).status_code == 200
