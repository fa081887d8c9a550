"""Moderators' mails (immediate and hourly digest) with signed, expiring,
single-use links; guest authors' mails. Through a real SMTP server."""

import datetime

import pytest
from django.utils import timezone

from forum import services as forum_services
from forum.models import CommentStatus, Post, PostStatus
from moderation.models import ActionKind, ModerationAction
from moderation.services import moderator_grant, post_reject
from notifications.models import ModerationLink
from tests.factories import UserFactory, make_comment
from tests.notifications.conftest import follow, html_part, link, run_worker, text_part


@pytest.fixture
def mod(db):
    user = UserFactory(username="mailmod", email="mod@example.org")
    return moderator_grant(user=user)


def held_comment(post, body="Please check me."):
    return make_comment(post, body=body, author_name="Quinn", status=CommentStatus.PENDING)


def test_a_held_comment_mails_moderators_whose_link_approves_it(client, post, smtp, mod):
    UserFactory(username="root", email="root@example.org", is_superuser=True, is_staff=True)
    UserFactory(username="nomail", email="")  # not a moderator, no address: nothing
    comment = held_comment(post)
    run_worker()
    [mail] = smtp.to("mod@example.org")
    assert len(smtp.to("root@example.org")) == 1  # superusers moderate too
    assert "Please check me." in text_part(mail) and "Quinn" in html_part(mail)
    assert mail["List-Unsubscribe"]

    approve = link(mail, "/notify/moderate/")
    page = client.get(approve)
    assert b"Approve this comment" in page.content
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING  # a GET decides nothing

    response = client.post(approve)
    assert response.status_code == 200 and b"approved" in response.content
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED
    action = ModerationAction.objects.get(comment=comment)
    assert (action.actor, action.action, action.from_state, action.to_state) == (
        mod,
        ActionKind.APPROVE,
        "pending",
        "approved",
    )
    # Single use: the same link, or its sibling (reject), does nothing more.
    assert client.post(approve).status_code == 409
    reject = [u for u in text_part(mail).split() if "/notify/moderate/" in u][1]
    assert client.post(reject.removeprefix("http://testserver")).status_code == 409
    assert ModerationAction.objects.filter(comment=comment).count() == 1


def test_a_link_decided_elsewhere_first_changes_nothing(client, post, smtp, mod):
    from moderation.services import comment_reject

    comment = held_comment(post)
    run_worker()
    [mail] = smtp.to("mod@example.org")
    comment_reject(comment_id=comment.pk, actor=mod)  # at the desk, meanwhile
    response = client.post(link(mail, "/notify/moderate/"))  # approve
    assert response.status_code == 409
    comment.refresh_from_db()
    assert comment.status == CommentStatus.REJECTED


def test_an_expired_or_forged_link_changes_nothing(client, post, smtp, mod):
    comment = held_comment(post)
    run_worker()
    [mail] = smtp.to("mod@example.org")
    approve = link(mail, "/notify/moderate/")
    ModerationLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.post(approve).status_code == 400
    assert client.post(approve[:-3] + "xx/").status_code == 404
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING


def test_a_link_stops_working_when_its_holder_stops_moderating(client, post, smtp, mod):
    comment = held_comment(post)
    run_worker()
    approve = link(smtp.to("mod@example.org")[0], "/notify/moderate/")
    mod.groups.clear()
    mod.is_staff = False
    mod.save()
    assert client.post(approve).status_code == 403
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING


def test_a_flag_take_down_mails_moderators(post, smtp, mod, settings):
    settings.FORUM = {**settings.FORUM, "FLAG_HIDE_THRESHOLD": 1}
    comment = make_comment(post, body="Contested words.")
    run_worker()
    smtp.clear()
    forum_services.flag_create(comment=comment, reason="abuse", ip_hash="reader")
    run_worker()
    [mail] = smtp.to("mod@example.org")
    assert "flagged" in text_part(mail)


def test_hourly_digest_collects_items_into_one_mail(client, post, smtp, mod, settings):
    mod.moderator_mail = "hourly"
    mod.save()
    first = held_comment(post, body="First held.")
    held_comment(post, body="Second held.")
    decided = held_comment(post, body="Decided before the digest.")
    run_worker()
    assert smtp.to("mod@example.org") == []  # nothing at once
    from moderation.services import comment_reject

    comment_reject(comment_id=decided.pk, actor=mod)
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "DIGEST_SECONDS": 0}
    run_worker()
    [digest] = smtp.to("mod@example.org")
    body = text_part(digest)
    assert "First held." in body and "Second held." in body
    assert "Decided before" not in body
    assert "2 items wait for review" in digest["Subject"]
    follow(client, link(digest, "/notify/moderate/"))
    first.refresh_from_db()
    assert first.status == CommentStatus.APPROVED
    smtp.clear()
    run_worker()
    assert smtp.messages == []  # each item once


def test_moderators_choose_their_mail_through_the_api(post, smtp, mod):
    from tests.openapi import SchemaCheckingAPIClient

    api = SchemaCheckingAPIClient()
    api.force_authenticate(mod)
    assert api.patch("/api/accounts/me/", {"moderator_mail": "sometimes"}).status_code == 400
    response = api.patch("/api/accounts/me/", {"moderator_mail": "none"})
    assert response.status_code == 200 and response.json()["moderator_mail"] == "none"
    held_comment(post)
    run_worker()
    assert smtp.to("mod@example.org") == []


def submit_guest_post(api_client, blog, email="guest@example.org"):
    response = api_client.post(
        "/api/guest-posts/",
        {
            "blog": blog.slug,
            "title": "My <guest> post",
            "body": "Guest words.",
            "author_name": "Gus",
            "email": email,
        },
    )
    assert response.status_code == 201
    return Post.objects.get(pk=response.json()["id"])


def test_a_guest_post_is_published_from_the_moderators_mail_and_its_author_told(
    api_client, client, blog, smtp, mod
):
    post = submit_guest_post(api_client, blog)
    run_worker()
    [mail] = smtp.to("mod@example.org")
    assert "My <guest> post" in mail["Subject"]
    assert "My &lt;guest&gt; post" in html_part(mail)
    follow(client, link(mail, "/notify/moderate/"))  # the first button: Publish
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED and post.guest_number == 1
    run_worker()
    [told] = smtp.to("guest@example.org")
    assert "published" in told["Subject"]
    assert "Guest Blog 1" in text_part(told)


def test_a_rejected_guest_author_hears_the_reason(api_client, blog, smtp, mod):
    post = submit_guest_post(api_client, blog)
    post_reject(post_id=post.pk, actor=mod, reason="Off topic <sorry>.")
    run_worker()
    [told] = smtp.to("guest@example.org")
    assert "Off topic <sorry>." in text_part(told)
    assert "Off topic &lt;sorry&gt;." in html_part(told)


@pytest.mark.moderation_policy
def test_a_comment_the_blog_holds_reaches_the_moderators_and_their_link_publishes_it(
    api_client, client, post, smtp, mod
):
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "New here, hello.", "author_name": "Newbie"}
    )
    assert response.status_code == 201 and response.json()["status"] == "pending"
    run_worker()
    [mail] = smtp.to("mod@example.org")
    assert "New here, hello." in text_part(mail) and "Newbie" in mail["Subject"]
    follow(client, link(mail, "/notify/moderate/"))
    thread = api_client.get(f"/api/posts/{post.pk}/comments/")
    assert [c["body"] for c in thread.json()["results"]] == ["New here, hello."]
