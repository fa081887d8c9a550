"""Signed webhooks to a real HTTP receiver on loopback, verified with the
``standardwebhooks`` package; retries, give-up, the SSRF guard, the admin."""

import time

import pytest
from standardwebhooks.webhooks import Webhook

from forum.models import CommentStatus
from moderation.services import comment_remove
from notifications import webhooks
from notifications.models import Delivery, DeliveryStatus, WebhookEndpoint
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment
from tests.notifications.conftest import ALL_EVENTS, run_worker


def verified(endpoint, received) -> dict:
    """The payload, after ``standardwebhooks`` checked its signature (raises if bad)."""
    return Webhook(endpoint.secret).verify(received.body, received.headers)


def test_a_failed_call_is_retried_and_both_are_signed_and_logged(post, endpoint, receiver):
    receiver.answers = [500]
    comment = make_comment(post, body="Hello hooks.")
    run_worker()
    assert len(receiver.requests) == 1
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500"

    time.sleep(0.3)  # the test back-off: 0.2 s
    run_worker()
    first_try, retry = receiver.requests
    payload = verified(endpoint, retry)
    assert verified(endpoint, first_try) == payload
    assert payload["type"] == "comment.published"
    assert payload["data"]["id"] == comment.pk and payload["data"]["body"] == "Hello hooks."
    assert first_try.headers["webhook-id"] == retry.headers["webhook-id"]  # one message
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    codes = [(a.ok, a.response_code) for a in delivery.attempt_log.all()]
    assert codes == [(False, 500), (True, 200)]


def test_a_tampered_body_fails_verification(post, endpoint, receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    make_comment(post)
    run_worker()
    [received] = receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(
            received.body.replace(b"A comment", b"B comment"), received.headers
        )


def test_each_event_reaches_the_endpoints_that_asked_for_it(
    api_client, blog, post, receiver, moderator
):
    other_blog = BlogFactory()
    WebhookEndpoint.objects.create(
        blog=other_blog,
        url=receiver.url + "?other",
        events=ALL_EVENTS,
        secret=webhooks.new_secret(),
    )
    only_removals = WebhookEndpoint.objects.create(
        blog=blog,
        url=receiver.url + "?removed",
        events=["comment.removed"],
        secret=webhooks.new_secret(),
    )
    everything = WebhookEndpoint.objects.create(
        blog=blog, url=receiver.url + "?all", events=ALL_EVENTS, secret=webhooks.new_secret()
    )
    comment = make_comment(post, body="Public.")
    make_comment(post, body="Held.", status=CommentStatus.PENDING)
    comment_remove(comment_id=comment.pk, actor=moderator)
    PostFactory(blog=blog)  # factories write rows directly: no event
    api_client.post(
        "/api/guest-posts/",
        {"blog": blog.slug, "title": "Guest", "body": "Words.", "author_name": "G"},
    )
    run_worker()
    seen = {}
    for received in receiver.requests:
        endpoint = {"/hook?removed": only_removals, "/hook?all": everything}[received.path]
        seen.setdefault(received.path, []).append(verified(endpoint, received)["type"])
    assert seen["/hook?removed"] == ["comment.removed"]
    assert sorted(seen["/hook?all"]) == sorted(
        ["comment.published", "comment.held", "comment.removed", "guest_post.submitted"]
    )


def test_a_delivery_is_given_up_after_the_deadline_and_listed_in_the_admin(
    admin_client, post, endpoint, receiver, settings
):
    receiver.answers = [503] * 10
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "GIVE_UP_AFTER_SECONDS": 0.5}
    make_comment(post)
    run_worker()
    time.sleep(0.6)
    run_worker()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    page = admin_client.get("/admin/notifications/delivery/?status__exact=failed")
    assert page.status_code == 200 and receiver.url.encode() in page.content
    detail = admin_client.get(f"/admin/notifications/delivery/{delivery.pk}/change/")
    assert b"503" in detail.content
    receipts = admin_client.get("/admin/notifications/eventreceipt/")
    assert receipts.status_code == 200
    time.sleep(1.1)
    run_worker()
    assert len(receiver.requests) == 2  # given up: never tried again


def test_redirects_are_not_followed(post, endpoint, receiver):
    receiver.answers = [302]
    receiver.headers_to_send = {"Location": receiver.url + "?elsewhere"}
    make_comment(post)
    run_worker()
    assert [r.path for r in receiver.requests] == ["/hook"]
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.PENDING and "redirect" in delivery.last_error


def test_private_targets_are_refused_unless_allowed(post, endpoint, receiver, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "WEBHOOK_ALLOW_PRIVATE": False}
    make_comment(post)
    run_worker()
    assert receiver.requests == []
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.FAILED  # at once: retrying cannot help
    assert "non-public" in delivery.last_error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        # The same addresses spelled otherwise: decimal, hex, octal, short forms.
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.1/",
        "http://0/",
        "http://[::]/",
        "http://[::ffff:169.254.169.254]/",
        # IPv6 forms that carry a private IPv4 address to a translator or relay:
        # NAT64 (well-known and local-use), 6to4, Teredo, IPv4-compatible, SIIT.
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[64:ff9b:1::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        "http://[::127.0.0.1]/",
        "http://[::ffff:0:127.0.0.1]/",
    ],
)
def test_the_guard_refuses_non_public_addresses(url, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "WEBHOOK_ALLOW_PRIVATE": False}
    with pytest.raises(webhooks.RefusedTarget):
        webhooks.resolve(url)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://93.184.215.14/", "93.184.215.14"),
        ("http://[2606:2800:21f:cb07::1]/", "2606:2800:21f:cb07::1"),
        ("http://[2002:5db8:d70e::1]/", "2002:5db8:d70e::1"),  # 6to4 of a public address
    ],
)
def test_the_guard_lets_public_addresses_through(url, address, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "WEBHOOK_ALLOW_PRIVATE": False}
    assert webhooks.resolve(url).address == address


@pytest.mark.parametrize("url", ["ftp://example.org/", "http://user:pw@example.org/", "http:///x"])
def test_the_guard_refuses_urls_that_are_not_plain_http(url):
    with pytest.raises(webhooks.RefusedTarget):
        webhooks.check_url(url)


def test_the_connection_goes_to_the_checked_address(settings, receiver):
    # A host name resolved once: the request reaches the address that was checked,
    # with the name in the Host header.
    target = webhooks.resolve(receiver.url.replace("127.0.0.1", "localhost"))
    assert target.address in ("127.0.0.1", "::1") and target.host == "localhost"


def test_a_blog_owner_adds_an_endpoint_for_their_own_blog_only(client, blog, receiver):
    owner = UserFactory(username="owner", is_staff=True)
    owner.set_password("owner pass 42")
    owner.save()
    blog.owner = owner
    blog.save()
    other = BlogFactory()
    client.force_login(owner)
    form = {
        "blog": other.pk,
        "url": "https://hooks.example.org/in",
        "events": ["comment.published"],
        "secret": webhooks.new_secret(),
        "is_active": "on",
        "description": "",
    }
    response = client.post("/admin/notifications/webhookendpoint/add/", form)
    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()  # not theirs
    response = client.post("/admin/notifications/webhookendpoint/add/", {**form, "blog": blog.pk})
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.blog == blog and endpoint.events == ["comment.published"]
    bad = {**form, "blog": blog.pk, "secret": "hunter2", "url": "ftp://x.example.org/"}
    response = client.post("/admin/notifications/webhookendpoint/add/", bad)
    assert response.status_code == 200 and WebhookEndpoint.objects.count() == 1


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS receiver on loopback with a certificate for ``localhost`` only, which
    the worker's TLS trusts (``SSL_CERT_FILE``)."""
    import shutil
    import ssl
    import subprocess

    from tests.notifications.conftest import start_receiver

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    state, stop = start_receiver(tls_context=context, host="localhost")
    yield state
    stop()


def test_https_goes_to_the_checked_address_and_verifies_the_host_name(blog, post, tls_receiver):
    by_name = WebhookEndpoint.objects.create(
        blog=blog, url=tls_receiver.url, events=ALL_EVENTS, secret=webhooks.new_secret()
    )
    # The same server by address: its certificate does not name 127.0.0.1.
    by_address = WebhookEndpoint.objects.create(
        blog=blog,
        url=tls_receiver.url.replace("localhost", "127.0.0.1"),
        events=ALL_EVENTS,
        secret=webhooks.new_secret(),
    )
    make_comment(post, body="Over TLS.")
    run_worker()
    [received] = tls_receiver.requests
    assert verified(by_name, received)["data"]["body"] == "Over TLS."
    assert received.headers["host"].startswith("localhost:")
    assert Delivery.objects.get(endpoint=by_name).status == DeliveryStatus.SENT
    failed = Delivery.objects.get(endpoint=by_address)
    assert failed.status == DeliveryStatus.PENDING and "certificate" in failed.last_error.lower()
