"""What accounts export and erase of their mail settings and subscriptions."""

from accounts.models import User
from notifications.models import Delivery, DigestItem, MailAddress, ReplySubscription, ThreadMute
from tests.factories import PostFactory, UserFactory, make_comment
from tests.notifications.conftest import run_worker
from tests.openapi import SchemaCheckingAPIClient


def client_for(user):
    api = SchemaCheckingAPIClient()
    api.force_authenticate(user)
    return api


def test_the_export_holds_the_accounts_subscriptions_and_no_one_elses(api_client, post, smtp):
    user = UserFactory(email="me@example.org", notify_replies=True)
    ThreadMute.objects.create(user=user, post=post)
    # A stranger's address subscription, even under the same address, is not theirs.
    api_client.post(f"/api/posts/{post.pk}/comments/", {"body": "Hi.", "email": "me@example.org"})
    response = client_for(user).get("/api/accounts/me/export/")
    assert response.status_code == 200
    export = response.json()
    assert export["notifications"] == {
        "notify_replies": True,
        "moderator_mail": "immediate",
        "muted_threads": [post.pk],
    }
    assert "me@example.org" not in str(export["comments"])


def test_erasure_removes_subscriptions_and_queued_mail(post, smtp):
    user = UserFactory(email="gone@example.org", notify_replies=True)
    user.set_password("erase me please 42")
    user.save()
    ThreadMute.objects.create(user=user, post=PostFactory(blog=post.blog))
    mine = make_comment(post, body="Mine.", author=user)
    make_comment(post, body="A reply.", parent=mine, author_name="R")
    from notifications.fanout import fan_out

    fan_out(limit=10)
    assert Delivery.objects.filter(recipient="gone@example.org").exists()
    response = client_for(user).delete(
        "/api/accounts/me/", {"password": "erase me please 42"}, format="json"
    )
    assert response.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert not ThreadMute.objects.exists() and not DigestItem.objects.exists()
    assert not Delivery.objects.filter(recipient="gone@example.org").exists()
    run_worker()
    assert smtp.to("gone@example.org") == []


def test_unsubscribing_from_everything_erases_the_address(api_client, client, post, smtp):
    api_client.post(f"/api/posts/{post.pk}/comments/", {"body": "Hi.", "email": "a@example.org"})
    run_worker()
    assert MailAddress.objects.exists() and ReplySubscription.objects.exists()
    [mail] = smtp.to("a@example.org")
    one_click = mail["List-Unsubscribe"].strip().strip("<>").removeprefix("http://testserver")
    assert client.post(one_click).status_code == 200
    assert not MailAddress.objects.exists() and not ReplySubscription.objects.exists()
    assert not Delivery.objects.filter(recipient="a@example.org").exists()
