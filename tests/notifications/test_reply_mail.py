"""Reply notifications: double opt-in, reply mails, unsubscribing, end to end
through the API, the worker, a real SMTP server and the pages the links open."""

import pytest

from forum.models import Comment, CommentStatus
from notifications.models import MailAddress, ReplySubscription, ThreadMute
from tests.factories import UserFactory, make_comment
from tests.notifications.conftest import follow, html_part, link, run_worker, text_part

ADDRESS = "poster@example.org"


def comment_with_email(api_client, post, email=ADDRESS, **extra):
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "My first thought.", "author_name": "Pat", "email": email, **extra},
    )
    assert response.status_code == 201, response.content
    return Comment.objects.get(pk=response.json()["id"])


def reply_to(comment, body="A reply to you.", **kwargs):
    return make_comment(comment.post, body=body, parent=comment, author_name="Robin", **kwargs)


def test_a_poster_confirms_by_mail_gets_reply_mail_and_unsubscribes_from_the_thread(
    api_client, client, post, smtp
):
    comment = comment_with_email(api_client, post)
    run_worker()
    [confirmation] = smtp.to(ADDRESS)
    assert "Confirm" in confirmation["Subject"]
    assert (
        confirmation["List-Unsubscribe"]
        .strip()
        .startswith("<http://testserver/notify/unsubscribe/")
    )
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert post.title in text_part(confirmation) and post.title in html_part(confirmation)

    # Opening the link shows a button and changes nothing (mail scanners open links).
    confirm = link(confirmation, "/notify/confirm/")
    page, done = follow(client, confirm)
    assert b"Yes, mail me replies" in page.content
    assert done.status_code == 200
    assert MailAddress.objects.get(email=ADDRESS).confirmed_at is not None

    smtp.clear()
    reply_to(comment, body="I disagree, politely.")
    run_worker()
    [reply_mail] = smtp.to(ADDRESS)
    assert "New reply" in reply_mail["Subject"]
    assert "I disagree, politely." in text_part(reply_mail)
    assert "Robin" in html_part(reply_mail)
    assert reply_mail["List-Unsubscribe"]

    # Unsubscribe from this thread: no more mail for replies in it.
    page, done = follow(client, link(reply_mail, "/notify/unsubscribe/"))
    assert b"Stop reply mail from the thread" in page.content
    assert not ReplySubscription.objects.filter(comment=comment).exists()
    smtp.clear()
    reply_to(comment, body="Another reply.")
    run_worker()
    assert smtp.to(ADDRESS) == []


def test_a_get_on_a_confirmation_link_confirms_nothing(api_client, client, post, smtp):
    comment_with_email(api_client, post)
    run_worker()
    [confirmation] = smtp.to(ADDRESS)
    confirm = link(confirmation, "/notify/confirm/")
    assert client.get(confirm).status_code == 200
    assert client.head(confirm).status_code == 200
    assert MailAddress.objects.get(email=ADDRESS).confirmed_at is None


def test_unconfirmed_addresses_get_nothing_but_the_confirmation(api_client, post, smtp):
    comment = comment_with_email(api_client, post)
    reply_to(comment)
    run_worker()
    assert [m["Subject"] for m in smtp.to(ADDRESS)] == ["Confirm reply notifications"]


def test_a_second_comment_soon_after_sends_no_second_confirmation(api_client, post, smtp):
    comment_with_email(api_client, post)
    comment_with_email(api_client, post, body="Second thought.")
    run_worker()
    assert len(smtp.to(ADDRESS)) == 1
    assert ReplySubscription.objects.filter(address__email=ADDRESS).count() == 2


def confirmed(address=ADDRESS):
    found = MailAddress.objects.get(email=address)
    found.confirmed_at = found.created_at
    found.save()


def test_unsubscribe_from_everything_forgets_the_address(api_client, client, post, smtp):
    comment = comment_with_email(api_client, post)
    confirmed()
    reply_to(comment)
    run_worker()
    reply_mail = next(m for m in smtp.to(ADDRESS) if "New reply" in m["Subject"])
    everything = (
        reply_mail["List-Unsubscribe"].strip().strip("<>").removeprefix("http://testserver")
    )
    # One-click unsubscribe (RFC 8058): the mail client POSTs, without a page.
    response = client.post(everything, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not MailAddress.objects.filter(email=ADDRESS).exists()
    assert not ReplySubscription.objects.exists()
    smtp.clear()
    reply_to(comment, body="Anyone there?")
    run_worker()
    assert smtp.to(ADDRESS) == []


def test_no_mail_for_held_replies_until_published(api_client, post, smtp, moderator):
    from moderation.services import comment_approve

    comment = comment_with_email(api_client, post)
    confirmed()
    held = reply_to(comment, status=CommentStatus.PENDING)
    run_worker()
    assert not [m for m in smtp.to(ADDRESS) if "New reply" in m["Subject"]]
    comment_approve(comment_id=held.pk, actor=moderator)
    run_worker()
    assert len([m for m in smtp.to(ADDRESS) if "New reply" in m["Subject"]]) == 1


def test_no_mail_to_the_author_of_the_reply(api_client, post, smtp):
    comment = comment_with_email(api_client, post)
    confirmed()
    # The poster answers a reply under their own comment, giving the same address.
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "Replying to myself.", "parent": comment.pk, "email": ADDRESS},
    )
    assert response.status_code == 201
    run_worker()
    assert not [m for m in smtp.to(ADDRESS) if "New reply" in m["Subject"]]


def test_user_text_is_escaped_in_the_html_part(api_client, post, smtp):
    comment = comment_with_email(api_client, post)
    confirmed()
    make_comment(
        post,
        body='<img src=x onerror=alert(1)> <a href="http://evil">click</a>',
        parent=comment,
        author_name="<b>Mallory</b>",
    )
    run_worker()
    [reply_mail] = [m for m in smtp.to(ADDRESS) if "New reply" in m["Subject"]]
    html = html_part(reply_mail)
    assert "<img" not in html and "<b>Mallory" not in html and 'href="http://evil"' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html


def test_account_holders_choose_reply_mail_and_can_mute_a_thread(client, post, smtp):
    from rest_framework.test import APIClient

    from tests.openapi import SchemaCheckingAPIClient

    author = UserFactory(email="author@example.org")
    api = SchemaCheckingAPIClient()
    api.force_authenticate(author)
    comment = make_comment(post, body="Mine.", author=author)
    reply_to(comment)
    run_worker()
    assert smtp.to("author@example.org") == []  # off by default

    response = api.patch("/api/accounts/me/", {"notify_replies": True})
    assert response.status_code == 200 and response.json()["notify_replies"] is True
    reply_to(comment, body="Now you hear of it.")
    make_comment(post, body="My own follow-up.", parent=comment, author=author)  # no self-mail
    run_worker()
    [reply_mail] = smtp.to("author@example.org")
    assert "Now you hear of it." in text_part(reply_mail)

    follow(client, link(reply_mail, "/notify/unsubscribe/"))  # this thread
    assert ThreadMute.objects.filter(user=author, post=post).exists()
    smtp.clear()
    reply_to(comment, body="Muted.")
    run_worker()
    assert smtp.to("author@example.org") == []
    assert APIClient  # the plain client is not needed: the schema client checks answers


def test_a_logged_in_poster_giving_an_email_gets_400_and_nothing_is_posted(user_client, post):
    response = user_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "Hello.", "email": ADDRESS}
    )
    assert response.status_code == 400
    assert "email" in response.json()
    assert not Comment.objects.exists() and not MailAddress.objects.exists()


def test_the_address_is_never_shown(api_client, post, smtp):
    comment = comment_with_email(api_client, post)
    for url in (f"/api/posts/{post.pk}/comments/", f"/api/comments/{comment.pk}/"):
        response = api_client.get(url)
        assert response.status_code == 200
        assert ADDRESS not in response.content.decode()


def test_a_bad_address_is_refused_with_400(api_client, post):
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "Hello.", "email": "not an address"}
    )
    assert response.status_code == 400 and "email" in response.json()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("scope", ["address", "network"])
def test_confirmation_mails_are_rate_limited(api_client, post, smtp, settings, scope):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "confirm_mail_address": ["2/hour"] if scope == "address" else ["100/hour"],
        "confirm_mail_network": ["2/hour"] if scope == "network" else ["100/hour"],
    }
    # A new address each time for the network limit; the same one (whose
    # confirmation is re-sent only after a while) for the address limit.
    for number in range(2):
        address = ADDRESS if scope == "address" else f"victim{number}@example.org"
        comment_with_email(api_client, post, email=address, body=f"Comment {number}")
        MailAddress.objects.filter(email=address).update(confirmation_sent_at=None)
    address = ADDRESS if scope == "address" else "victim9@example.org"
    before = Comment.objects.count()
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "Once more.", "email": address},
        REMOTE_ADDR="127.0.0.9",  # same /24 network as the test client's 127.0.0.1
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Comment.objects.count() == before  # nothing was posted
    run_worker()
    assert len(smtp.messages) == 2


@pytest.mark.parametrize("page", ["confirm", "unsubscribe", "moderate"])
@pytest.mark.parametrize("token", ["nonsense", "e30:1xWubB:forged", "%00", "a" * 600])
def test_a_forged_or_garbled_link_is_a_404_page_that_changes_nothing(client, db, page, token):
    for method in (client.get, client.post):
        response = method(f"/notify/{page}/{token}/")
        assert response.status_code == 404
        assert b"This link does not work" in response.content
