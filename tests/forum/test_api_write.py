"""The writing part of API.md, through HTTP: comments, replies, edits, deletes,
flags, guest posts; happy paths and refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from forum.models import Comment, Flag, Post, PostStatus
from tests.factories import PostFactory, make_comment
from tests.openapi import SchemaCheckingAPIClient as APIClient

pytestmark = pytest.mark.django_db


def post_comment(client, post, **data):
    return client.post(f"/api/posts/{post.pk}/comments/", data, format="json")


def thread(client, post):
    return client.get(f"/api/posts/{post.pk}/comments/").json()["results"]


# --- posting -------------------------------------------------------------------


def test_anonymous_comment_is_published_with_a_one_time_edit_token(api_client, post):
    response = post_comment(api_client, post, body="Hello <b>there</b>")
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "approved"
    assert data["is_anonymous"] is True and data["display_name"] == "Anonymous"
    assert data["body"] == "Hello <b>there</b>"
    assert data["body_html"] == "<p>Hello &lt;b&gt;there&lt;/b&gt;</p>"
    assert len(data["edit_token"]) >= 43
    assert "edit_token" not in api_client.get(f"/api/comments/{data['id']}/").json()
    assert [c["id"] for c in thread(api_client, post)] == [data["id"]]


def test_named_comment_without_account_shows_the_chosen_name(api_client, post):
    data = post_comment(api_client, post, body="Hi", author_name="  Getafix ").json()
    assert data["author_name"] == "Getafix" and data["is_anonymous"] is False
    assert "edit_token" in data


def test_logged_in_comment_shows_the_display_name_and_gets_no_token(user_client, user, post):
    data = post_comment(user_client, post, body="Hi", author_name="Someone else").json()
    assert data["author_name"] == user.display_name
    assert "edit_token" not in data


def test_reply_nests_under_its_parent(api_client, post):
    parent = post_comment(api_client, post, body="Top").json()
    reply = post_comment(api_client, post, body="Reply", parent=parent["id"])
    assert reply.status_code == 201
    assert reply.json()["depth"] == 1
    [top] = thread(api_client, post)
    assert [r["id"] for r in top["replies"]] == [reply.json()["id"]]
    assert top["reply_count"] == 1


def test_body_is_stored_as_written(api_client, post):
    body = "  Two spaces in front.\n\n1. a list\n2. stays\n"
    assert post_comment(api_client, post, body=body).json()["body"] == body


def test_long_comments_up_to_the_limit_are_accepted(api_client, post):
    assert post_comment(api_client, post, body="x" * 20_000).status_code == 201


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n\t "}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"body": "nul \x00 inside"}, "body"),
        ({"body": "escape \x1b[31m"}, "body"),
        ({}, "body"),
        ({"body": 42}, "body"),
        ({"body": ["a"]}, "body"),
        ({"body": "ok", "parent": "abc"}, "parent"),
        ({"body": "ok", "parent": 999_999}, "parent"),
        ({"body": "ok", "parent": -1}, "parent"),
        ({"body": "ok", "author_name": "x" * 81}, "author_name"),
        ({"body": "ok", "author_name": "bad\x00name"}, "author_name"),
    ],
)
def test_bad_comments_are_refused_with_the_field_and_change_nothing(api_client, post, data, field):
    response = post_comment(api_client, post, **data)
    assert response.status_code == 400
    assert field in response.json()
    assert Comment.objects.count() == 0


def test_malformed_json_is_a_400(api_client, post):
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", "{body: oops", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_a_parent_on_another_post_is_refused(api_client, post):
    other = make_comment(PostFactory(blog=post.blog))
    response = post_comment(api_client, post, body="x", parent=other.pk)
    assert response.status_code == 400 and "parent" in response.json()


def test_a_hidden_parent_is_refused(api_client, post):
    parent = make_comment(post, status="pending")
    response = post_comment(api_client, post, body="x", parent=parent.pk)
    assert response.status_code == 400 and "parent" in response.json()


def test_replies_deeper_than_the_limit_are_refused(api_client, post, settings):
    settings.FORUM = {**settings.FORUM, "MAX_COMMENT_DEPTH": 1}
    top = make_comment(post)
    reply = make_comment(post, parent=top)
    response = post_comment(api_client, post, body="x", parent=reply.pk)
    assert response.status_code == 400 and "parent" in response.json()


def test_comments_on_missing_or_unpublished_posts_are_404(api_client, blog):
    draft = PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)
    assert post_comment(api_client, draft, body="x").status_code == 404
    assert api_client.post("/api/posts/999999/comments/", {"body": "x"}).status_code == 404


def test_held_comment_is_pending_and_not_in_the_thread(api_client, post, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.HoldAll"}
    data = post_comment(api_client, post, body="Hold me").json()
    assert data["status"] == "pending"
    assert thread(api_client, post) == []
    assert api_client.get(f"/api/comments/{data['id']}/").status_code == 404


def test_the_token_holder_sees_the_held_comment_with_its_reasons(api_client, post, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.HoldAll"}
    data = post_comment(api_client, post, body="Hold me").json()
    response = api_client.get(f"/api/comments/{data['id']}/", HTTP_X_EDIT_TOKEN=data["edit_token"])
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["moderation_reasons"] == ["test"]


def test_banned_posters_get_403_with_a_message(api_client, post, settings):
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "tests.forum.policies.BanEveryone"}
    response = post_comment(api_client, post, body="x")
    assert response.status_code == 403
    assert "banned" in response.json()["detail"]


def test_anonymous_comments_are_throttled_with_retry_after(api_client, post, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment_anon": ["2/min"]}
    codes = [post_comment(api_client, post, body=f"n{i}").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    response = post_comment(api_client, post, body="again")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert Comment.objects.count() == 2


def test_session_comment_needs_csrf(user, post):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password="correct horse battery")
    response = post_comment(client, post, body="x")
    assert response.status_code == 403
    assert Comment.objects.count() == 0


# --- editing and deleting --------------------------------------------------------


def patch(client, comment_id, token=None, **data):
    headers = {"HTTP_X_EDIT_TOKEN": token} if token else {}
    return client.patch(f"/api/comments/{comment_id}/", data, format="json", **headers)


def delete(client, comment_id, token=None):
    headers = {"HTTP_X_EDIT_TOKEN": token} if token else {}
    return client.delete(f"/api/comments/{comment_id}/", **headers)


@pytest.fixture
def anon_comment(api_client, post):
    return post_comment(api_client, post, body="Original").json()


def test_token_holder_edits_within_the_window(api_client, anon_comment):
    response = patch(api_client, anon_comment["id"], anon_comment["edit_token"], body="Better")
    assert response.status_code == 200
    assert response.json()["body"] == "Better" and response.json()["edited_at"]


def test_edit_without_or_with_a_wrong_token_is_403_and_changes_nothing(api_client, anon_comment):
    assert patch(api_client, anon_comment["id"], body="Hijack").status_code == 403
    assert patch(api_client, anon_comment["id"], "nope", body="Hijack").status_code == 403
    assert Comment.objects.get(pk=anon_comment["id"]).body == "Original"


def test_edit_after_the_window_is_403(api_client, anon_comment):
    Comment.objects.filter(pk=anon_comment["id"]).update(
        created_at=timezone.now() - timedelta(minutes=16)
    )
    response = patch(api_client, anon_comment["id"], anon_comment["edit_token"], body="Late")
    assert response.status_code == 403


def test_edit_with_a_bad_body_is_400(api_client, anon_comment):
    response = patch(api_client, anon_comment["id"], anon_comment["edit_token"], body=" ")
    assert response.status_code == 400 and "body" in response.json()


def test_logged_in_author_edits_own_comment_but_not_others(user_client, user, post):
    own = make_comment(post, author=user)
    other = make_comment(post, author_name="Someone")
    assert patch(user_client, own.pk, body="Mine, edited").status_code == 200
    assert patch(user_client, other.pk, body="Not mine").status_code == 403


def test_moderator_edits_any_comment(moderator_client, post):
    comment = make_comment(post)
    assert patch(moderator_client, comment.pk, body="Moderated").status_code == 200


def test_editing_a_missing_comment_is_404(api_client):
    assert patch(api_client, 424242, "t", body="x").status_code == 404


def test_author_delete_with_replies_leaves_a_tombstone(api_client, post, anon_comment):
    reply = make_comment(post, body="Reply", parent=Comment.objects.get(pk=anon_comment["id"]))
    assert delete(api_client, anon_comment["id"], anon_comment["edit_token"]).status_code == 204
    [top] = thread(api_client, post)
    assert top["removed"] is True and top["body"] is None and top["body_html"] is None
    assert [r["id"] for r in top["replies"]] == [reply.pk]


def test_author_delete_without_replies_hides_the_comment(api_client, post, anon_comment):
    assert delete(api_client, anon_comment["id"], anon_comment["edit_token"]).status_code == 204
    assert thread(api_client, post) == []
    assert api_client.get(f"/api/posts/{post.pk}/").json()["comment_count"] == 0


def test_delete_by_someone_else_is_403(api_client, user_client, anon_comment):
    assert delete(user_client, anon_comment["id"]).status_code == 403
    assert delete(api_client, anon_comment["id"], "wrong").status_code == 403
    assert not Comment.objects.get(pk=anon_comment["id"]).is_removed


def test_editing_a_removed_comment_is_409(api_client, anon_comment):
    delete(api_client, anon_comment["id"], anon_comment["edit_token"])
    response = patch(api_client, anon_comment["id"], anon_comment["edit_token"], body="Back")
    assert response.status_code == 409


# --- flags -------------------------------------------------------------------------


def flag(client, comment_id, **data):
    return client.post(f"/api/comments/{comment_id}/flag/", data, format="json")


def test_flag_is_201_then_200_for_the_same_reporter(api_client, post):
    comment = make_comment(post)
    first = flag(api_client, comment.pk, reason="spam", note="Looks like an advert")
    again = flag(api_client, comment.pk, reason="abuse")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Flag.objects.count() == 1


def test_anonymous_flags_never_store_the_ip_address(api_client, post):
    comment = make_comment(post)
    flag(api_client, comment.pk, reason="spam", REMOTE_ADDR="203.0.113.9")
    stored = Flag.objects.get()
    assert "203.0.113.9" not in stored.reporter_key
    assert stored.reporter_key.startswith("ip:") and len(stored.reporter_key) == 67


def test_flag_with_a_bad_reason_is_400(api_client, post):
    response = flag(api_client, make_comment(post).pk, reason="boring")
    assert response.status_code == 400 and "reason" in response.json()


def test_flagging_a_hidden_or_missing_comment_is_404(api_client, post):
    assert (
        flag(api_client, make_comment(post, status="pending").pk, reason="spam").status_code == 404
    )
    assert flag(api_client, 999_999, reason="spam").status_code == 404


# --- guest posts ---------------------------------------------------------------------


def submit(client, **data):
    return client.post("/api/guest-posts/", data, format="json")


def test_guest_post_is_pending_and_followable_with_its_token(api_client, blog):
    response = submit(
        api_client,
        blog=blog.slug,
        title="From the front line",
        body="Dear all,\n\nIt is hard.",
        author_name="A PO",
        email="po@example.org",
    )
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "pending" and data["guest_number"] is None and data["edit_token"]
    assert api_client.get("/api/posts/").json()["count"] == 0
    follow = api_client.get(f"/api/guest-posts/{data['id']}/", HTTP_X_EDIT_TOKEN=data["edit_token"])
    assert follow.status_code == 200 and follow.json()["status"] == "pending"
    assert follow.json()["edit_token"] is None
    assert api_client.get(f"/api/guest-posts/{data['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"blog": "nope", "title": "T", "body": "B", "author_name": "N"}, "blog"),
        ({"title": "T", "body": "B", "author_name": "N"}, "blog"),
        ({"blog": "probation", "title": "", "body": "B", "author_name": "N"}, "title"),
        ({"blog": "probation", "title": "T", "body": " ", "author_name": "N"}, "body"),
        ({"blog": "probation", "title": "T", "body": "x" * 50_001, "author_name": "N"}, "body"),
        ({"blog": "probation", "title": "T", "body": "B"}, "author_name"),
        (
            {"blog": "probation", "title": "T", "body": "B", "author_name": "N", "email": "no"},
            "email",
        ),
    ],
)
def test_bad_guest_posts_are_refused_and_change_nothing(api_client, blog, data, field):
    response = submit(api_client, **data)
    assert response.status_code == 400 and field in response.json()
    assert not Post.objects.filter(is_guest=True).exists()


def test_the_same_text_twice_within_five_minutes_is_409_and_posted_once(api_client, post):
    assert post_comment(api_client, post, body="Same words").status_code == 201
    again = post_comment(api_client, post, body="Same words")
    assert again.status_code == 409 and "detail" in again.json()
    assert Comment.objects.count() == 1


def test_the_same_text_twice_from_an_account_is_409_even_from_another_address(
    user_client, post, settings
):
    limits = ("comment_user", "comment_new_account")  # not what is tested here
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, **{scope: [] for scope in limits}}
    assert post_comment(user_client, post, body="Same words").status_code == 201
    again = user_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "Same words"},
        format="json",
        REMOTE_ADDR="10.9.8.7",
    )
    assert again.status_code == 409
    assert Comment.objects.count() == 1


def test_the_same_text_from_someone_else_or_later_is_fine(api_client, user_client, post):
    assert post_comment(api_client, post, body="Same words").status_code == 201
    assert post_comment(user_client, post, body="Same words").status_code == 201
    Comment.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    assert post_comment(api_client, post, body="Same words").status_code == 201


@pytest.mark.parametrize("parent", ["1", 1.0, True, "x", [1], {"id": 1}])
def test_a_parent_that_is_not_a_json_integer_is_refused(api_client, post, parent):
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "hi", "parent": parent}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()
    assert not Comment.objects.filter(post=post).exists()


def test_the_schema_states_the_limits_the_server_enforces(api_client):
    schema = api_client.get("/api/schema/?format=json", HTTP_ACCEPT="application/json").json()
    thread = schema["paths"]["/api/posts/{id}/comments/"]["get"]["parameters"]
    by_name = {p["name"]: p["schema"] for p in thread}
    assert by_name["replies_limit"] == {"type": "integer", "minimum": 0, "maximum": 10000}
    assert by_name["id"]["minimum"] == 1
    assert by_name["page_size"]["minimum"] == 1
    assert by_name["page_size"]["maximum"] == 200
    for path, item in schema["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    assert parameter["schema"]["minimum"] == 1, path
