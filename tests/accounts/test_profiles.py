"""Public profiles (GET /api/users/{username}/ and its comments), hiding one
(PATCH /api/accounts/me/), and replies to me (GET /api/accounts/me/replies/)."""

import datetime

import pytest
from django.utils import timezone

from forum.models import CommentStatus, PostStatus
from moderation import services as moderation_services
from tests.factories import PostFactory, UserFactory, make_comment
from tests.openapi import SchemaCheckingAPIClient as APIClient

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def writer(db):
    return UserFactory(username="writer", display_name="Wendy Writer")


def test_a_profile_counts_what_the_public_sees(api_client, writer, post, blog, moderator):
    make_comment(post, body="one", author=writer)
    make_comment(post, body="two", author=writer)
    make_comment(post, body="held", author=writer, status=CommentStatus.PENDING)
    draft = PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)
    make_comment(post, body="someone else")
    gone = make_comment(post, body="soon gone", author=writer)
    client_for(moderator).post(
        f"/api/moderation/comments/{gone.pk}/decision/", {"action": "remove"}, format="json"
    )
    submitted = (
        client_for(writer)
        .post(
            "/api/guest-posts/",
            {"blog": blog.slug, "title": "Mine", "body": "Text", "author_name": "W"},
            format="json",
        )
        .json()
    )
    moderation_services.post_publish(post_id=submitted["id"], actor=moderator)
    client_for(writer).post(
        "/api/guest-posts/",
        {"blog": blog.slug, "title": "Pending", "body": "Text", "author_name": "W"},
        format="json",
    )
    response = api_client.get("/api/users/writer/")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("joined")
    assert body == {
        "username": "writer",
        "display_name": "Wendy Writer",
        "comment_count": 2,
        "guest_post_count": 1,
        "is_moderator": False,
    }
    assert api_client.get("/api/users/mod/").json()["is_moderator"] is True
    assert draft.pk


def test_a_profile_is_one_query(api_client, writer, post, django_assert_num_queries):
    make_comment(post, body="one", author=writer)
    with django_assert_num_queries(1):
        assert api_client.get("/api/users/writer/").status_code == 200


def test_profile_comments_newest_first_public_only_constant_queries(
    api_client, writer, post, blog, django_assert_num_queries
):
    other = PostFactory(blog=blog)
    for i in range(5):
        make_comment(post if i % 2 else other, body=f"c{i}", author=writer)
    make_comment(post, body="held", author=writer, status=CommentStatus.PENDING)
    make_comment(post, body="not mine")
    url = "/api/users/writer/comments/"
    with django_assert_num_queries(3):  # the account, the count, the page
        first = api_client.get(url, {"page_size": 2})
    data = first.json()
    assert data["count"] == 5
    assert [c["body"] for c in data["results"]] == ["c4", "c3"]
    with django_assert_num_queries(3):
        last = api_client.get(url, {"page_size": 2, "page": 3}).json()
    assert [c["body"] for c in last["results"]] == ["c0"]


def test_a_hidden_profile_is_a_404_and_can_come_back(api_client, writer, post):
    make_comment(post, body="one", author=writer)
    me = client_for(writer)
    hidden = me.patch("/api/accounts/me/", {"profile_hidden": True}, format="json")
    assert hidden.status_code == 200 and hidden.json()["profile_hidden"] is True
    assert api_client.get("/api/users/writer/").status_code == 404
    assert api_client.get("/api/users/writer/comments/").status_code == 404
    # The comments themselves stay in their threads.
    assert api_client.get(f"/api/posts/{post.pk}/comments/").json()["count"] == 1
    me.patch("/api/accounts/me/", {"profile_hidden": False}, format="json")
    assert api_client.get("/api/users/writer/").status_code == 200


def test_posters_without_an_account_have_no_profile(api_client, post):
    make_comment(post, body="named", author_name="Nomad")
    assert api_client.get("/api/users/Nomad/").status_code == 404
    assert api_client.get("/api/users/Anonymous/comments/").status_code == 404
    inactive = UserFactory(username="gone", is_active=False)
    assert api_client.get(f"/api/users/{inactive.username}/").status_code == 404


# --- replies to me -----------------------------------------------------------------------


def test_replies_to_me_newest_first_with_since(writer, post, django_assert_num_queries):
    mine = make_comment(post, body="mine", author=writer)
    other = make_comment(post, body="not mine")
    t0 = timezone.now()
    old = make_comment(post, body="old reply", parent=mine, created_at=t0 - datetime.timedelta(1))
    new = make_comment(post, body="new reply", parent=mine, created_at=t0 + datetime.timedelta(1))
    make_comment(post, body="to myself", parent=mine, author=writer)
    make_comment(post, body="to someone else", parent=other)
    make_comment(post, body="held", parent=mine, status=CommentStatus.PENDING)
    me = client_for(writer)
    with django_assert_num_queries(2):  # the count, the page
        data = me.get("/api/accounts/me/replies/").json()
    assert [c["body"] for c in data["results"]] == ["new reply", "old reply"]
    since = me.get("/api/accounts/me/replies/", {"since": t0.isoformat()}).json()
    assert [c["id"] for c in since["results"]] == [new.pk]
    assert old.pk


def test_replies_to_me_need_an_account_and_a_valid_since(api_client, writer):
    assert api_client.get("/api/accounts/me/replies/").status_code in (401, 403)
    bad = client_for(writer).get("/api/accounts/me/replies/", {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()
