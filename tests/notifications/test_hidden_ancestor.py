"""Nothing is announced about a comment the thread does not show: a reply approved
while an ancestor is hidden (here a top-level comment marked spam) reaches neither
the parent's subscriber nor a webhook, through the real worker, SMTP server and
HTTP receiver. The forum's rule: ``forum.models.visible_comment_q``."""

import json

import pytest

from forum import services as forum_services
from forum.models import CommentStatus
from moderation.casework import edit_decide
from moderation.models import BlogPolicy, ModerationMode
from moderation.services import comment_approve, comment_spam
from tests.factories import UserFactory, make_comment
from tests.notifications.conftest import run_worker, text_part
from tests.notifications.test_reply_mail import ADDRESS, comment_with_email, confirmed

SECRET = "Words under a spam comment."


@pytest.fixture
def thread(api_client, post, smtp, endpoint, receiver):
    """A top-level comment; under it a reply by a poster whose address is confirmed;
    under that, a held reply (``SECRET``). Everything sent so far is forgotten."""
    top = make_comment(post, body="Top-level words.", author_name="Tess")
    parent = comment_with_email(api_client, post, parent=top.pk)
    confirmed()
    held = make_comment(
        post, body=SECRET, parent=parent, author_name="Robin", status=CommentStatus.PENDING
    )
    run_worker()
    smtp.clear()
    receiver.requests.clear()
    return top, parent, held


def reply_mails(smtp) -> list:
    return [m for m in smtp.to(ADDRESS) if "New reply" in m["Subject"]]


def payloads(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.requests]


def test_a_reply_approved_under_a_spam_ancestor_is_announced_to_nobody_even_later(
    thread, smtp, receiver, moderator
):
    top, _parent, held = thread
    comment_spam(comment_id=top.pk, actor=moderator)
    comment_approve(comment_id=held.pk, actor=moderator)
    run_worker()
    assert reply_mails(smtp) == []
    assert not [p for p in payloads(receiver) if p["data"]["id"] == held.pk]
    assert all(SECRET not in r.body.decode() for r in receiver.requests)
    assert all(SECRET not in m.as_string() for m in smtp.messages)

    # The top-level comment approved again: the thread shows the reply from now on,
    # and the worker announces the top-level comment (its own event) only. The
    # reply's event was handled while it was hidden; nobody hears of it later.
    comment_approve(comment_id=top.pk, actor=moderator)
    run_worker()
    assert [(p["type"], p["data"]["id"]) for p in payloads(receiver)] == [
        ("comment.published", top.pk)
    ]
    assert reply_mails(smtp) == []


def test_a_reply_is_announced_when_its_ancestor_is_public_again_before_the_worker_comes(
    thread, smtp, receiver, moderator
):
    top, _parent, held = thread
    comment_spam(comment_id=top.pk, actor=moderator)
    comment_approve(comment_id=held.pk, actor=moderator)
    comment_approve(comment_id=top.pk, actor=moderator)
    run_worker()  # the worker reads the thread as it is now: all public
    [mail] = reply_mails(smtp)
    assert SECRET in text_part(mail)
    announced = [(p["type"], p["data"]["id"]) for p in payloads(receiver)]
    assert sorted(announced) == sorted(
        [("comment.published", held.pk), ("comment.published", top.pk)]
    )


def test_a_reply_hidden_again_before_the_worker_comes_is_not_announced(
    thread, smtp, receiver, moderator
):
    _top, _parent, held = thread
    comment_approve(comment_id=held.pk, actor=moderator)
    comment_spam(comment_id=held.pk, actor=moderator)
    run_worker()
    assert reply_mails(smtp) == []
    assert all(SECRET not in r.body.decode() for r in receiver.requests)


@pytest.mark.moderation_policy
def test_an_edit_approved_under_a_spam_ancestor_is_announced_as_published_to_nobody(
    api_client, post, smtp, endpoint, receiver, moderator, blog
):
    BlogPolicy.objects.update_or_create(
        blog=blog, defaults={"mode": ModerationMode.HOLD_NONE, "watched_words": "forbidden"}
    )
    author = UserFactory(username="ed", email="ed@example.org")
    top = make_comment(post, body="Top-level words.", author_name="Tess")
    reply = make_comment(post, body="First words.", parent=top, author=author)
    run_worker()
    receiver.requests.clear()
    new = "Second words, forbidden ones."
    edited = forum_services.comment_update(comment_id=reply.pk, body=new, user=author)
    assert edited.pending_edit is not None
    comment_spam(comment_id=top.pk, actor=moderator)
    edit_decide(
        comment_id=reply.pk,
        verb="approve_edit",
        revision=edited.pending_edit.number,
        actor=moderator,
    )
    run_worker()
    # Approving an edit is no event of the comment: nothing announces the new text
    # as published, and nobody is mailed. The edit's hold was an event
    # (comment.held): held webhooks carry text the public does not see by design
    # (a held comment's), here the comment's text when the worker came.
    assert [p["type"] for p in payloads(receiver)] == ["comment.held"]
    assert all(new not in m.as_string() for m in smtp.messages)
