"""A comment under a hidden comment is not public on the reads main added beside the
thread: profiles and their comments, replies to me, a comment's context, votes."""

import pytest

from forum.models import CommentStatus
from tests.factories import UserFactory, make_comment
from tests.openapi import SchemaCheckingAPIClient as APIClient

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def writer(db):
    return UserFactory(username="writer")


@pytest.fixture
def chain(post, writer, moderator_client):
    """A top-level comment, the writer's reply to it, and someone's reply to that;
    then a moderator holds the top-level comment (back to the queue)."""
    top = make_comment(post, body="top")
    mine = make_comment(post, body="mine", parent=top, author=writer)
    answer = make_comment(post, body="answer", parent=mine, ip_hash="someone-else")
    held = moderator_client.post(
        f"/api/moderation/comments/{top.pk}/decision/", {"action": "hold"}, format="json"
    )
    assert held.status_code == 200 and held.json()["status"] == CommentStatus.PENDING
    return top, mine, answer


def _release(moderator_client, top):
    approved = moderator_client.post(
        f"/api/moderation/comments/{top.pk}/decision/", {"action": "approve"}, format="json"
    )
    assert approved.status_code == 200


def test_a_profile_neither_counts_nor_lists_comments_under_a_hidden_one(
    api_client, writer, post, chain, moderator_client
):
    make_comment(post, body="in the open", author=writer)
    assert api_client.get("/api/users/writer/").json()["comment_count"] == 1
    listed = api_client.get("/api/users/writer/comments/").json()
    assert [c["body"] for c in listed["results"]] == ["in the open"]
    _release(moderator_client, chain[0])
    assert api_client.get("/api/users/writer/").json()["comment_count"] == 2
    listed = api_client.get("/api/users/writer/comments/").json()
    assert [c["body"] for c in listed["results"]] == ["in the open", "mine"]


def test_replies_to_me_leave_out_replies_under_a_hidden_comment(writer, chain, moderator_client):
    me = client_for(writer)
    assert me.get("/api/accounts/me/replies/").json()["results"] == []
    _release(moderator_client, chain[0])
    replies = me.get("/api/accounts/me/replies/").json()["results"]
    assert [(c["body"], c["author_is_moderator"]) for c in replies] == [("answer", False)]


def test_the_context_of_a_comment_under_a_hidden_one_is_a_404(api_client, chain, moderator_client):
    _, mine, answer = chain
    for comment in (mine, answer):
        assert api_client.get(f"/api/comments/{comment.pk}/context/").status_code == 404
    _release(moderator_client, chain[0])
    assert api_client.get(f"/api/comments/{answer.pk}/context/").status_code == 200


def test_nobody_votes_on_a_comment_under_a_hidden_one(user_client, chain, moderator_client):
    _, _, answer = chain
    url = f"/api/comments/{answer.pk}/vote/"
    assert user_client.post(url, {"value": 1}, format="json").status_code == 404
    answer.refresh_from_db()
    assert (answer.score, answer.votes_up) == (0, 0)
    _release(moderator_client, chain[0])
    assert user_client.post(url, {"value": 1}, format="json").status_code == 200
