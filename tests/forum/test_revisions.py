"""Finding 11 (issue 10): an author's edit never hides anyone's reply. Every version
is kept (``CommentRevision``); the public keeps the last approved text while an
edit awaits review; moderators see every version and what changed, and decide."""

import pytest

from forum.models import CommentStatus
from moderation.models import BlogPolicy, ModerationMode

pytestmark = pytest.mark.moderation_policy


@pytest.fixture
def watched(blog):
    BlogPolicy.objects.update_or_create(
        blog=blog,
        defaults={"mode": ModerationMode.HOLD_NONE, "watched_words": "forbidden"},
    )


@pytest.fixture
def published(post, watched, user_client, moderator_client):
    """A user's published comment with a moderator's reply under it."""
    comment = user_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "first words"}, format="json"
    ).json()
    assert comment["status"] == CommentStatus.APPROVED
    reply = moderator_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "a moderator answers", "parent": comment["id"]},
        format="json",
    ).json()
    return comment, reply


def _thread(client, post):
    return client.get(f"/api/posts/{post.pk}/comments/").json()["results"]


def test_a_held_edit_keeps_the_approved_text_and_every_reply_public(
    api_client, user_client, moderator_client, post, published
):
    comment, reply = published
    edited = user_client.patch(
        f"/api/comments/{comment['id']}/", {"body": "forbidden words"}, format="json"
    )
    assert edited.status_code == 200
    own = edited.json()
    assert own["status"] == CommentStatus.APPROVED
    assert own["body"] == "first words"
    assert own["pending_edit"]["body"] == "forbidden words"
    assert own["pending_edit"]["reasons"] == ["watched_word:forbidden"]

    # The public: the approved text, the reply still there, no edited_at yet.
    thread = _thread(api_client, post)
    assert thread[0]["body"] == "first words"
    assert thread[0]["edited_at"] is None
    assert [r["id"] for r in thread[0]["replies"]] == [reply["id"]]
    public = api_client.get(f"/api/comments/{comment['id']}/").json()
    assert public["body"] == "first words"
    assert "pending_edit" not in public
    assert api_client.get("/api/comments/?search=forbidden").json()["results"] == []
    assert api_client.get(f"/api/comments/{reply['id']}/").status_code == 200
    assert api_client.get(f"/api/posts/{post.pk}/").json()["comment_count"] == 2
    # The author sees the edit waiting.
    assert (
        user_client.get(f"/api/comments/{comment['id']}/").json()["pending_edit"]["body"]
        == "forbidden words"
    )

    # The queue shows the edit with the text the public sees meanwhile.
    queue = moderator_client.get("/api/moderation/queue/").json()["results"]
    (item,) = [i for i in queue if i["id"] == comment["id"]]
    assert item["reasons"] == ["edit", "watched_word:forbidden"]
    assert item["body"] == "forbidden words"
    assert item["pending_edit"] == {"revision": 2, "approved_body": "first words"}

    # Moderators see every version and what changed.
    revisions = moderator_client.get(f"/api/moderation/comments/{comment['id']}/revisions/").json()[
        "results"
    ]
    assert [(r["revision"], r["status"], r["body"]) for r in revisions] == [
        (1, "applied", "first words"),
        (2, "pending", "forbidden words"),
    ]
    assert "-first words" in revisions[1]["diff"]
    assert "+forbidden words" in revisions[1]["diff"]

    # Approving the edit publishes it.
    decided = moderator_client.post(
        f"/api/moderation/comments/{comment['id']}/decision/",
        {"action": "approve_edit"},
        format="json",
    )
    assert decided.status_code == 200
    assert decided.json()["changed"] is True
    thread = _thread(api_client, post)
    assert thread[0]["body"] == "forbidden words"
    assert thread[0]["edited_at"] is not None
    assert [r["id"] for r in thread[0]["replies"]] == [reply["id"]]
    log = moderator_client.get(f"/api/moderation/log/?comment={comment['id']}").json()
    assert [(e["action"], e["from_state"], e["to_state"]) for e in log["results"]] == [
        ("approve_edit", "edit_pending", "edit_approved")
    ]
    # Idempotent: nothing waits any more.
    again = moderator_client.post(
        f"/api/moderation/comments/{comment['id']}/decision/",
        {"action": "approve_edit"},
        format="json",
    )
    assert again.json()["changed"] is False


def test_rejecting_an_edit_keeps_the_approved_text(
    api_client, user_client, moderator_client, post, published
):
    comment, _reply = published
    user_client.patch(f"/api/comments/{comment['id']}/", {"body": "forbidden 1"}, format="json")
    # A newer edit replaces the one waiting.
    user_client.patch(f"/api/comments/{comment['id']}/", {"body": "forbidden 2"}, format="json")
    decided = moderator_client.post(
        f"/api/moderation/comments/{comment['id']}/decision/",
        {"action": "reject_edit", "reason": "no"},
        format="json",
    )
    assert decided.status_code == 200
    assert _thread(api_client, post)[0]["body"] == "first words"
    revisions = moderator_client.get(f"/api/moderation/comments/{comment['id']}/revisions/").json()[
        "results"
    ]
    assert [r["status"] for r in revisions] == ["applied", "superseded", "rejected"]
    assert user_client.get(f"/api/comments/{comment['id']}/").json()["pending_edit"] is None


def test_an_edit_the_policy_accepts_is_public_at_once(api_client, user_client, post, published):
    comment, _reply = published
    edited = user_client.patch(
        f"/api/comments/{comment['id']}/", {"body": "better words"}, format="json"
    ).json()
    assert edited["body"] == "better words"
    assert edited["pending_edit"] is None
    assert _thread(api_client, post)[0]["body"] == "better words"
    assert _thread(api_client, post)[0]["edited_at"] is not None


def test_revisions_are_for_moderators_only(api_client, user_client, published):
    comment, _reply = published
    url = f"/api/moderation/comments/{comment['id']}/revisions/"
    assert api_client.get(url).status_code == 401
    assert user_client.get(url).status_code == 403


def test_revisions_of_a_missing_comment_are_404(moderator_client):
    assert moderator_client.get("/api/moderation/comments/999999/revisions/").status_code == 404


def test_revisions_list_costs_a_constant_number_of_queries(
    user_client, moderator_client, published, django_assert_num_queries
):
    comment, _reply = published
    for n in range(5):
        user_client.patch(f"/api/comments/{comment['id']}/", {"body": f"v{n}"}, format="json")
    url = f"/api/moderation/comments/{comment['id']}/revisions/"
    # the comment, the count, the page (with editors joined), the version before it
    with django_assert_num_queries(4):
        assert moderator_client.get(url + "?page_size=2&page=2").status_code == 200


def test_erasing_an_account_with_its_comments_erases_their_versions(
    user_client, moderator_client, published
):
    comment, _reply = published
    user_client.patch(f"/api/comments/{comment['id']}/", {"body": "forbidden 1"}, format="json")
    erased = user_client.delete(
        "/api/accounts/me/",
        {"password": "correct horse battery", "comments": "remove"},
        format="json",
    )
    assert erased.status_code == 204
    revisions = moderator_client.get(f"/api/moderation/comments/{comment['id']}/revisions/")
    assert revisions.json()["results"] == []


def test_a_held_edit_keeps_its_format_until_approved_and_readers_still_vote(
    api_client, user_client, moderator_client, post, published
):
    comment, _ = published
    held = user_client.patch(
        f"/api/comments/{comment['id']}/",
        {"body": "*forbidden* words", "format": "markdown"},
        format="json",
    ).json()
    assert held["format"] == "plain"  # the public text is still the plain one
    assert held["pending_edit"]["format"] == "markdown"
    # Readers vote on the comment as the public sees it, with its edit waiting.
    voted = api_client.post(f"/api/comments/{comment['id']}/vote/", {"value": 1}, format="json")
    assert voted.status_code == 200 and voted.json()["score"] == 1

    versions = moderator_client.get(f"/api/moderation/comments/{comment['id']}/revisions/").json()
    versions = versions["results"] if isinstance(versions, dict) else versions
    assert [(v["format"], v["status"]) for v in versions] == [
        ("plain", "applied"),
        ("markdown", "pending"),
    ]
    approved = moderator_client.post(
        f"/api/moderation/comments/{comment['id']}/decision/",
        {"action": "approve_edit"},
        format="json",
    )
    assert approved.status_code == 200
    public = api_client.get(f"/api/comments/{comment['id']}/").json()
    assert public["format"] == "markdown"
    assert "<em>forbidden</em>" in public["body_html"]
    assert public["score"] == 1
