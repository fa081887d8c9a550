"""An author's edit of a published comment held for review (a pending
``CommentRevision``; the comment stays approved with its approved text) is told to
moderators as held comments are: at once or in the hourly digest, to the same
people, once per event, saying it is an edit and linking to the desk's edits, never
carrying the edit's text. Its ``comment.held`` webhook says ``held: "edit"``.
Through the API, the real worker (``run_worker --once``), SMTP server and HTTP
receiver."""

import json
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from forum.models import CommentRevision, CommentStatus, RevisionStatus
from moderation.casework import edit_decide
from moderation.models import BlogPolicy, ModerationMode
from moderation.services import comment_reject, moderator_grant
from notifications import webhooks
from notifications.models import Delivery, EventReceipt, WebhookEndpoint
from tests.factories import UserFactory, make_comment
from tests.notifications.conftest import SITE_URL, html_part, run_worker, text_part

pytestmark = [pytest.mark.django_db, pytest.mark.moderation_policy]

APPROVED = "First words, all fine."
EDIT = "Second words, forbidden ones."
DESK_EDITS = f"{SITE_URL}/admin/moderation/desk/?kind=edit"


@pytest.fixture
def watched(blog):
    """The blog publishes everything but holds texts with the word "forbidden"."""
    BlogPolicy.objects.update_or_create(
        blog=blog, defaults={"mode": ModerationMode.HOLD_NONE, "watched_words": "forbidden"}
    )


@pytest.fixture
def mod(db):
    return moderator_grant(user=UserFactory(username="mailmod", email="mod@example.org"))


@pytest.fixture
def author(db):
    return UserFactory(username="ed", display_name="Ed", email="ed@example.org")


@pytest.fixture
def endpoint(blog, receiver):
    return WebhookEndpoint.objects.create(
        blog=blog, url=receiver.url, events=["comment.held"], secret=webhooks.new_secret()
    )


def published(post, author):
    comment = make_comment(post, body=APPROVED, author=author)
    assert comment.status == CommentStatus.APPROVED
    return comment


def edit(comment, author, body: str = EDIT) -> dict:
    """The author edits through the API; the policy holds the edit."""
    api = APIClient()
    api.force_authenticate(author)
    response = api.patch(f"/api/comments/{comment.pk}/", {"body": body}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def subject(mail) -> str:
    return " ".join(str(mail["Subject"]).split())  # long subjects are folded


def everything(smtp, receiver) -> str:
    """Every mail's subject and parts, decoded, and every webhook body."""
    mails = [subject(m) + text_part(m) + html_part(m) for m in smtp.messages]
    return "".join(mails) + "".join(r.body.decode() for r in receiver.requests)


def test_a_held_edit_mails_moderators_with_the_desk_link_and_never_its_text(
    client, post, watched, smtp, receiver, endpoint, mod, author
):
    UserFactory(username="root", email="root@example.org", is_superuser=True, is_staff=True)
    UserFactory(username="reader", email="reader@example.org")  # not a moderator
    comment = published(post, author)
    run_worker()
    assert smtp.messages == [] and receiver.requests == []  # published: nothing for them
    edit(comment, author)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED and comment.body == APPROVED
    run_worker()

    [mail] = smtp.to("mod@example.org")
    assert len(smtp.to("root@example.org")) == 1  # superusers moderate too
    assert smtp.to("reader@example.org") == [] and smtp.to("ed@example.org") == []
    assert subject(mail).startswith("An edit by Ed of their published comment on")
    assert subject(mail).endswith("waits for review (watched_word:forbidden).")
    text, html = text_part(mail), html_part(mail)
    assert f"Review edits on the desk: {DESK_EDITS}" in text
    assert f'href="{DESK_EDITS}"' in html
    assert "/notify/moderate/" not in text  # decided on the desk, seeing the edit
    assert mail["List-Unsubscribe"]
    # The edit's words reach no one, neither by mail nor webhook.
    assert "forbidden ones" not in everything(smtp, receiver)

    [hook] = receiver.requests
    payload = webhooks_payload(endpoint, hook)
    assert payload["type"] == "comment.held"
    data = payload["data"]
    assert (data["id"], data["held"], data["edit_revision"]) == (comment.pk, "edit", 2)
    assert (data["status"], data["body"]) == ("approved", APPROVED)

    # The link opens the desk on the edits, with this edit's card.
    client.force_login(mod)
    parts = urlsplit(DESK_EDITS)
    page = client.get(parts.path, dict([parts.query.split("=")]))
    assert page.status_code == 200
    assert [(v["card"].kind, v["card"].id) for v in page.context["cards"]] == [("edit", comment.pk)]


def webhooks_payload(endpoint, received) -> dict:
    """The payload, after ``standardwebhooks`` checked its signature."""
    return Webhook(endpoint.secret).verify(received.body, received.headers)


def test_a_held_comment_s_webhook_says_the_comment_itself_waits(
    post, watched, smtp, receiver, endpoint, mod
):
    held = make_comment(post, body="Forbidden from the start.", author_name="Quinn")
    assert held.status == CommentStatus.PENDING
    run_worker()
    [hook] = receiver.requests
    data = json.loads(hook.body)["data"]
    assert (data["id"], data["held"], data["status"]) == (held.pk, "comment", "pending")
    assert "edit_revision" not in data
    [mail] = smtp.to("mod@example.org")
    assert "/notify/moderate/" in text_part(mail)  # held comments keep their links


def test_the_same_event_handled_twice_sends_one_mail_and_one_webhook(
    post, watched, smtp, receiver, endpoint, mod, author
):
    edit(published(post, author), author)
    run_worker()
    assert len(smtp.to("mod@example.org")) == 1 and len(receiver.requests) == 1
    # The worker forgets it handled the event (as after a crash before its receipt
    # was kept) and handles it again: the outbox already holds its deliveries.
    assert EventReceipt.objects.count() > 0
    EventReceipt.objects.all().delete()
    run_worker()
    assert len(smtp.to("mod@example.org")) == 1 and len(receiver.requests) == 1
    assert Delivery.objects.filter(kind="moderation").count() == 1


def test_an_edit_decided_or_replaced_before_the_worker_comes_mails_nobody_about_it(
    post, watched, smtp, receiver, endpoint, mod, author
):
    first = published(post, author)
    second = make_comment(post, body="Other fine words.", author=author)
    edit(first, author)
    edit_decide(comment_id=first.pk, verb="reject_edit", revision=2, actor=mod)
    edit(second, author, "Forbidden, take one.")
    edit(second, author, "Forbidden, take two.")  # replaces take one
    run_worker()
    # Three events, three webhooks; one mail: the edit still waiting.
    assert [json.loads(r.body)["data"]["edit_revision"] for r in receiver.requests] == [2, 2, 3]
    [mail] = smtp.to("mod@example.org")
    assert "waits for review" in subject(mail)
    assert "take" not in text_part(mail) + html_part(mail)
    assert CommentRevision.objects.get(comment=second, number=3).status == RevisionStatus.PENDING


def test_moderators_who_want_no_mail_get_none_for_edits(post, watched, smtp, mod, author):
    mod.moderator_mail = "none"
    mod.save()
    edit(published(post, author), author)
    run_worker()
    assert smtp.messages == []


def test_the_hourly_digest_lists_edits_still_waiting_once(
    post, watched, smtp, mod, author, settings
):
    mod.moderator_mail = "hourly"
    mod.save()
    waiting = published(post, author)
    decided = make_comment(post, body="Other fine words.", author=author)
    rejected = make_comment(post, body="Forbidden comment, held itself.", author_name="Quinn")
    edit(waiting, author)
    edit(decided, author, "Forbidden again.")
    run_worker()
    assert smtp.messages == []  # nothing at once
    edit_decide(comment_id=decided.pk, verb="approve_edit", revision=2, actor=mod)
    comment_reject(comment_id=rejected.pk, actor=mod)
    held = make_comment(post, body="Forbidden, still held.", author_name="Robin")
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "DIGEST_SECONDS": 0}
    run_worker()
    [digest] = smtp.to("mod@example.org")
    assert "2 items wait for review" in subject(digest)
    body = text_part(digest)
    assert body.count("An edit by Ed of their published comment") == 1
    assert f"Review edits on the desk: {DESK_EDITS}" in body
    assert "Forbidden, still held." in body and held.author_name in body
    assert "Forbidden again." not in body and EDIT not in body
    assert "held itself" not in body
    smtp.clear()
    run_worker()
    assert smtp.messages == []  # each item once
