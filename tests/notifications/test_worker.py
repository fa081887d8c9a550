"""The outbox and its worker: nothing sent for a rolled-back change, nothing lost
when a worker process is killed mid-batch, several workers share the work."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from forum.events import Event
from forum.models import CommentStatus
from moderation.services import moderator_grant
from notifications import fanout, worker
from notifications.models import Delivery, DeliveryStatus, EventReceipt, FanoutState
from tests.factories import UserFactory, make_comment
from tests.notifications.conftest import run_worker, text_part

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mod(db):
    return moderator_grant(user=UserFactory(username="workmod", email="mod@example.org"))


def test_a_rolled_back_change_records_and_sends_nothing(post, smtp, mod):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_comment(post, body="Never happened.", status=CommentStatus.PENDING)
        raise RuntimeError("the request failed after the comment was written")
    run_worker()
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert smtp.messages == []


def test_the_change_and_its_event_commit_together(post, mod):
    comment = make_comment(post, body="Held.", status=CommentStatus.PENDING)
    [event] = Event.objects.all()
    assert (event.kind, event.comment_id, event.post_id, event.blog_id) == (
        "comment.held",
        comment.pk,
        post.pk,
        post.blog_id,
    )


def test_back_off_doubles_up_to_the_cap(settings):
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "RETRY_BASE_SECONDS": 30,
        "RETRY_MAX_SECONDS": 3600,
    }
    assert [worker.backoff(n) for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600, 3600]


def test_once_leaves_what_is_not_due_yet(post, smtp, mod):
    make_comment(post, body="Held.", status=CommentStatus.PENDING)
    fanout.fan_out(limit=10)
    Delivery.objects.update(next_attempt_at=Delivery.objects.get().created_at.replace(year=2999))
    run_worker()
    assert smtp.messages == []
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


def test_the_watermark_moves_over_handled_events_only(post, mod, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "EVENT_GRACE_SECONDS": 0}
    first = make_comment(post, body="One.", status=CommentStatus.PENDING)
    fanout.fan_out(limit=10)
    make_comment(post, body="Two.", status=CommentStatus.PENDING)
    fanout.advance_watermark()
    state = FanoutState.objects.get()
    assert state.watermark == Event.objects.get(comment_id=first.pk).pk
    assert not EventReceipt.objects.filter(event_id__lte=state.watermark).exists()
    assert fanout.fan_out(limit=10) == 1  # the second is still handled
    assert Delivery.objects.count() == 2


# --- real worker processes -------------------------------------------------------------


def _database_url() -> str | None:
    """How another process reaches the test database (None: it cannot, in memory)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = db.get("USER") or "postgres"
        return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    name = str(db["NAME"])
    if "memory" in name or name == "":
        return None
    return f"sqlite:///{name}"


def _worker(smtp_port: int, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url() or "",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "NOTIFY_LEASE_SECONDS": "2",
        "NOTIFY_POLL_SECONDS": "0.1",
        "NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "SITE_URL": "http://testserver",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret-key"),
        "CACHE_URL": "locmem://",
    }
    return subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "run_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def shared_database():
    """Worker processes need a database other processes can open: PostgreSQL, or
    SQLite in a file (``SQLITE_TEST_NAME``); the in-memory SQLite test database is not."""
    if _database_url() is None:
        pytest.skip("the test database is SQLite in memory (set SQLITE_TEST_NAME)")


def _wait_for(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing(shared_database, post, smtp, mod):
    bodies = [f"Held comment number {n}." for n in range(6)]
    for body in bodies:
        make_comment(post, body=body, status=CommentStatus.PENDING)
    smtp.delay = 0.4  # a slow mail server: the kill lands in the middle
    process = _worker(smtp.port)
    try:
        _wait_for(lambda: len(smtp.messages) >= 2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert len(smtp.messages) < len(bodies)  # it was killed mid-batch
    assert Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()

    time.sleep(2.1)  # the dead worker's lease ends
    smtp.delay = 0
    finisher = _worker(smtp.port, "--once")
    assert finisher.wait(timeout=60) == 0, finisher.stderr.read().decode()
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    received = " ".join(text_part(m) for m in smtp.to("mod@example.org"))
    assert all(body in received for body in bodies)


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_outbox_without_sending_twice(shared_database, post, smtp, mod):
    bodies = [f"Item {n} for review." for n in range(12)]
    for body in bodies:
        make_comment(post, body=body, status=CommentStatus.PENDING)
    smtp.delay = 0.1
    workers = [_worker(smtp.port, "--once") for _ in range(2)]
    for process in workers:
        assert process.wait(timeout=60) == 0, process.stderr.read().decode()
    texts = [text_part(m) for m in smtp.to("mod@example.org")]
    assert len(texts) == len(bodies)  # each exactly once
    assert all(sum(body in text for text in texts) == 1 for body in bodies)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_unconfirmed_addresses_and_expired_links_are_forgotten(api_client, post, smtp, mod):
    from django.utils import timezone

    from notifications.models import MailAddress, ModerationLink, ReplySubscription

    api_client.post(f"/api/posts/{post.pk}/comments/", {"body": "Hi.", "email": "x@example.org"})
    make_comment(post, body="Held.", status=CommentStatus.PENDING)
    run_worker()
    assert MailAddress.objects.exists() and ModerationLink.objects.count() == 2
    long_ago = timezone.now() - datetime.timedelta(days=30)
    MailAddress.objects.update(created_at=long_ago)
    ModerationLink.objects.update(expires_at=long_ago)
    run_worker()
    assert not MailAddress.objects.exists() and not ReplySubscription.objects.exists()
    assert not ModerationLink.objects.exists()
