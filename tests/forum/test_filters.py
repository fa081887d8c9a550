"""Finding 3 (issue 10): only what the public can read may be searched, filtered or
ordered on, in every list the public reaches."""

import pytest

from forum import services
from forum.models import CommentStatus, Post, PostStatus
from tests.factories import PostFactory, make_comment

SECRET = "call 0123 456789"


def _ids(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def tombstone(post, moderator_client):
    removed = make_comment(post, body=f"my number: {SECRET}", author_name="Victim")
    reply = make_comment(post, body="a visible reply", parent=removed)
    answer = moderator_client.post(
        f"/api/moderation/comments/{removed.pk}/decision/", {"action": "remove"}, format="json"
    )
    assert answer.status_code == 200
    return removed, reply


def test_a_tombstones_text_is_never_matched_by_search(api_client, user_client, tombstone):
    removed, reply = tombstone
    # The tombstone itself is listed (its reply is visible), without its body...
    listed = api_client.get("/api/comments/").json()["results"]
    assert (listed[0]["id"], listed[0]["body"]) == (removed.pk, None)
    # ... and no prefix of the removed text finds it, one character at a time.
    for client in (api_client, user_client):
        for end in range(1, len(SECRET) + 1):
            assert _ids(client, f"/api/comments/?search={SECRET[:end]}") == []
        assert _ids(client, "/api/comments/?search=number") == []
        assert _ids(client, "/api/comments/?search=reply") == [reply.pk]


def test_moderators_still_search_removed_text(moderator_client, tombstone):
    removed, _reply = tombstone
    assert _ids(moderator_client, "/api/comments/?search=0123") == [removed.pk]


def test_a_withdrawn_comment_is_not_searchable(api_client, post, moderator):
    withdrawn = make_comment(post, body="withdrawn words")
    make_comment(post, body="answer", parent=withdrawn)
    token_comment = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "my own words"}, format="json"
    ).json()
    assert (
        api_client.delete(
            f"/api/comments/{token_comment['id']}/",
            headers={"X-Edit-Token": token_comment["edit_token"]},
        ).status_code
        == 204
    )
    assert _ids(api_client, "/api/comments/?search=withdrawn") == [withdrawn.pk]
    services.comment_remove_by_author(comment_id=withdrawn.pk, user=moderator)
    assert _ids(api_client, "/api/comments/?search=withdrawn") == []
    assert _ids(api_client, "/api/comments/?search=own") == []


def test_hidden_comments_are_not_searchable_filterable_or_orderable(api_client, post, blog):
    visible = make_comment(post, body="shared word", author_name="Same")
    for status in (CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED):
        make_comment(post, body=f"shared word {status}", author_name="Same", status=status)
    unpublished = PostFactory(blog=blog)
    make_comment(unpublished, body="shared word on an unpublished post", author_name="Same")
    Post.objects.filter(pk=unpublished.pk).update(status=PostStatus.DRAFT)
    assert _ids(api_client, "/api/comments/?search=shared") == [visible.pk]
    assert _ids(api_client, "/api/comments/?author_name=same") == [visible.pk]
    assert _ids(api_client, "/api/comments/?search=shared&ordering=-created_at") == [visible.pk]
    assert _ids(api_client, f"/api/comments/?post={post.pk}&search=pending") == []


def test_unpublished_posts_are_not_searchable(api_client, blog):
    PostFactory(
        blog=blog,
        title="Secret plans",
        body="hidden body",
        status=PostStatus.DRAFT,
        published_at=None,
    )
    PostFactory(
        blog=blog,
        title="Guest",
        body="pending body",
        status=PostStatus.PENDING,
        published_at=None,
        is_guest=True,
    )
    assert _ids(api_client, "/api/posts/?search=secret") == []
    assert _ids(api_client, "/api/posts/?search=body") == []


def test_moderation_lists_refuse_everyone_but_moderators(api_client, user_client):
    for url in ("/api/moderation/queue/", "/api/moderation/log/"):
        assert api_client.get(url).status_code == 401
        assert user_client.get(url).status_code == 403
