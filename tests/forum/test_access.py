"""Finding 10 (issue 10): a comment whose ancestor is not public is not public, on
every read path (the flat list and its filters, one comment, flags, replies, counts,
the thread), whoever hid the ancestor and however."""

import pytest

from tests.factories import make_comment


def _decide(client, comment_id, action):
    response = client.post(
        f"/api/moderation/comments/{comment_id}/decision/", {"action": action}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def branch(post):
    """top ─ middle ─ reply ─ leaf (all public), and a public sibling of middle."""
    top = make_comment(post, body="top text")
    middle = make_comment(post, body="middle text", parent=top)
    reply = make_comment(post, body="reply text", parent=middle)
    leaf = make_comment(post, body="leaf text", parent=reply)
    sibling = make_comment(post, body="sibling text", parent=top)
    return top, middle, reply, leaf, sibling


def _listed_ids(client, query=""):
    response = client.get(f"/api/comments/?page_size=200{query}")
    assert response.status_code == 200
    return {item["id"] for item in response.json()["results"]}


def test_replies_under_a_hidden_comment_are_hidden_on_every_read_path(
    api_client, moderator_client, post, branch
):
    top, middle, reply, leaf, sibling = branch
    _decide(moderator_client, middle.pk, "spam")

    hidden = {middle.pk, reply.pk, leaf.pk}
    assert _listed_ids(api_client) == {top.pk, sibling.pk}
    assert _listed_ids(api_client, f"&parent={middle.pk}") == set()
    assert _listed_ids(api_client, f"&parent={reply.pk}") == set()
    assert _listed_ids(api_client, "&search=leaf") == set()
    assert _listed_ids(api_client, "&search=reply") == set()
    assert _listed_ids(api_client, "&ordering=-created_at") == {top.pk, sibling.pk}
    for comment_id in hidden:
        assert api_client.get(f"/api/comments/{comment_id}/").status_code == 404
        flagged = api_client.post(
            f"/api/comments/{comment_id}/flag/", {"reason": "spam"}, format="json"
        )
        assert flagged.status_code == 404
    answer = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "under", "parent": leaf.pk}, format="json"
    )
    assert answer.status_code == 400
    assert "parent" in answer.json()
    # Counts: the post counts what the public can read; the thread shows the same.
    assert api_client.get(f"/api/posts/{post.pk}/").json()["comment_count"] == 2
    thread = api_client.get(f"/api/posts/{post.pk}/comments/").json()["results"]
    assert [r["id"] for r in thread[0]["replies"]] == [sibling.pk]
    assert thread[0]["reply_count"] == 1

    # Moderators still see everything; the author of a hidden reply sees it.
    assert moderator_client.get(f"/api/comments/{leaf.pk}/").status_code == 200
    assert hidden <= _listed_ids(moderator_client)

    # Approving the middle comment again brings the whole branch back.
    _decide(moderator_client, middle.pk, "approve")
    assert _listed_ids(api_client) == {top.pk, middle.pk, reply.pk, leaf.pk, sibling.pk}
    assert api_client.get(f"/api/comments/{leaf.pk}/").status_code == 200
    assert api_client.get(f"/api/posts/{post.pk}/").json()["comment_count"] == 5


def test_a_grandchild_stays_hidden_while_any_ancestor_is_hidden(
    api_client, moderator_client, post, branch
):
    top, middle, reply, leaf, sibling = branch
    _decide(moderator_client, top.pk, "spam")
    _decide(moderator_client, reply.pk, "spam")
    assert _listed_ids(api_client) == set()
    _decide(moderator_client, top.pk, "approve")
    # reply is still spam: leaf stays hidden, middle and sibling come back.
    assert _listed_ids(api_client) == {top.pk, middle.pk, sibling.pk}
    assert api_client.get(f"/api/comments/{leaf.pk}/").status_code == 404
    assert api_client.get(f"/api/posts/{post.pk}/").json()["comment_count"] == 3


def test_flagging_a_parent_down_hides_its_replies(api_client, post, branch, settings):
    from tests.factories import UserFactory
    from tests.openapi import SchemaCheckingAPIClient

    top, _middle, _reply, _leaf, sibling = branch
    for n in range(3):
        reader = SchemaCheckingAPIClient(REMOTE_ADDR=f"10.{n}.0.1")
        reader.force_authenticate(UserFactory())
        assert (
            reader.post(
                f"/api/comments/{top.pk}/flag/", {"reason": "abuse"}, format="json"
            ).status_code
            == 201
        )
    assert _listed_ids(api_client) == set()
    assert api_client.get(f"/api/comments/{sibling.pk}/").status_code == 404
    assert api_client.get(f"/api/posts/{post.pk}/").json()["comment_count"] == 0


def test_the_public_comment_list_costs_a_constant_number_of_queries(
    api_client, post, branch, django_assert_num_queries
):
    with django_assert_num_queries(2):
        assert api_client.get("/api/comments/?page_size=200").status_code == 200


def test_feeds_leave_out_replies_under_a_hidden_comment(api_client, moderator_client, post, branch):
    middle = branch[1]
    _decide(moderator_client, middle.pk, "spam")
    for url in (
        f"/feeds/posts/{post.pk}/comments.atom",
        f"/feeds/blogs/{post.blog.slug}/comments.atom",
    ):
        body = api_client.get(url).content.decode()
        assert "top text" in body and "sibling text" in body
        assert "reply text" not in body and "leaf text" not in body and "middle text" not in body


@pytest.mark.parametrize("hide", ["top", "middle"])
def test_a_reply_under_a_comment_with_a_hidden_ancestor_is_refused(
    api_client, moderator_client, post, branch, hide
):
    top, middle, _reply, leaf, _sibling = branch
    _decide(moderator_client, {"top": top, "middle": middle}[hide].pk, "spam")
    # leaf itself is approved and not removed; an ancestor two or three levels up is not.
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "Under a hidden one", "parent": leaf.pk}
    )
    assert response.status_code == 400 and "parent" in response.json()
    leaf.refresh_from_db()
    assert leaf.child_seq == 0 and leaf.reply_count == 0

    _decide(moderator_client, {"top": top, "middle": middle}[hide].pk, "approve")
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "Now it may", "parent": leaf.pk}
    )
    assert response.status_code == 201
    assert api_client.get(f"/api/posts/{post.pk}/").json()["comment_count"] == 6
