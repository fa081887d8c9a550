"""The worker: turns events into deliveries, sends what is due, retries what failed.

Several workers (processes, machines) may run at once against one PostgreSQL
database: events and deliveries are claimed with ``SELECT ... FOR UPDATE SKIP
LOCKED``, and a claimed delivery's ``next_attempt_at`` is pushed one lease ahead
before the claiming transaction commits, so no transaction stays open while a mail
or a webhook call is on the wire. A worker killed mid-delivery leaves the delivery
to be taken again when its lease ends: nothing is lost (a message may arrive
twice; webhooks keep their ``webhook-id`` for receivers to deduplicate).

Retries: after the n-th failed attempt the next one is due
``RETRY_BASE_SECONDS * 2**(n-1)`` (at most ``RETRY_MAX_SECONDS``) later; a delivery
older than ``GIVE_UP_AFTER_SECONDS`` that fails is given up (status ``failed``,
listed in the admin with its attempts). Refused webhook targets fail at once.
"""

import datetime
import logging
import smtplib
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from notifications import fanout, mail, webhooks
from notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    MailAddress,
    ModerationLink,
)

logger = logging.getLogger("notifications.worker")


class PermanentFailure(Exception):
    """Retrying cannot help (a refused target, a removed endpoint)."""


def backoff(attempts: int) -> float:
    config = settings.NOTIFICATIONS
    return min(
        config["RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0), config["RETRY_MAX_SECONDS"]
    )


def claim(*, limit: int) -> list[Delivery]:
    """Take up to ``limit`` due deliveries for this worker (for one lease)."""
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.NOTIFICATIONS["LEASE_SECONDS"])
    with transaction.atomic():
        due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        ids = list(
            fanout._locked(due.order_by("next_attempt_at", "pk")).values_list("pk", flat=True)[
                :limit
            ]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + lease)
        return list(Delivery.objects.filter(pk__in=ids).select_related("endpoint").order_by("pk"))


def _send(delivery: Delivery) -> int | None:
    """Make the delivery; returns the webhook's HTTP status (None for mail)."""
    if delivery.channel == Channel.MAIL:
        try:
            mail.send(
                to=delivery.recipient,
                subject=delivery.subject,
                body_text=delivery.body_text,
                body_html=delivery.body_html,
                headers=delivery.headers,
            )
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        return None
    endpoint = delivery.endpoint
    if endpoint is None or not endpoint.is_active:
        raise PermanentFailure("the endpoint was disabled")
    try:
        response = webhooks.post(
            url=endpoint.url,
            secret=endpoint.secret,
            message_id=delivery.message_id,
            body=delivery.payload,
        )
    except webhooks.RefusedTarget as exc:
        raise PermanentFailure(str(exc)) from exc
    return response.status


def deliver(delivery: Delivery) -> bool:
    """One attempt, logged; updates the delivery's state. True when it went out."""
    started = timezone.now()
    clock = time.monotonic()
    code, error, permanent = None, "", False
    try:
        code = _send(delivery)
        if code is not None and not 200 <= code < 300:
            error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    except PermanentFailure as exc:
        error, permanent = str(exc), True
    except Exception as exc:  # network, SMTP, DNS: try again later
        error = f"{type(exc).__name__}: {exc}"
    ok = not error
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery_id=delivery.pk,
            started_at=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            ok=ok,
            response_code=code,
            error=error[:2000],
        )
        attempts = delivery.attempts + 1
        pending = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING)
        if ok:
            pending.update(
                status=DeliveryStatus.SENT, sent_at=now, attempts=F("attempts") + 1, last_error=""
            )
        else:
            age = (now - delivery.created_at).total_seconds()
            next_at = now + datetime.timedelta(seconds=backoff(attempts))
            give_up = permanent or age >= settings.NOTIFICATIONS["GIVE_UP_AFTER_SECONDS"]
            pending.update(
                status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
                attempts=F("attempts") + 1,
                next_attempt_at=next_at,
                last_error=error[:2000],
            )
    if not ok:
        logger.warning("delivery %s (%s) failed: %s", delivery.pk, delivery.kind, error)
    return ok


def deliver_due(*, limit: int) -> int:
    """Deliver up to ``limit`` due deliveries, claiming one at a time: a lease only
    has to outlast one delivery (its timeouts), never a whole batch."""
    done = 0
    while done < limit:
        claimed = claim(limit=1)
        if not claimed:
            break
        deliver(claimed[0])
        done += 1
    return done


def run_once(*, limit: int | None = None) -> int:
    """One round: events to deliveries, digests, due deliveries. Returns work done."""
    limit = limit or settings.NOTIFICATIONS["BATCH_SIZE"]
    done = fanout.fan_out(limit=limit)
    done += fanout.send_digests()
    done += deliver_due(limit=limit)
    return done


def housekeeping() -> None:
    """Forget what is no longer needed: addresses never confirmed once their link has
    expired (with their subscriptions), and moderation links past their expiry."""
    now = timezone.now()
    confirm_window = datetime.timedelta(seconds=settings.NOTIFICATIONS["CONFIRM_LINK_SECONDS"])
    MailAddress.objects.filter(
        confirmed_at__isnull=True, created_at__lt=now - confirm_window
    ).delete()
    ModerationLink.objects.filter(expires_at__lt=now).delete()


def run(*, once: bool = False, stop: threading.Event | None = None) -> None:
    """Work until ``stop`` is set (or, with ``once``, until nothing is due)."""
    stop = stop or threading.Event()
    last_watermark = 0.0
    while not stop.is_set():
        if not connection.in_atomic_block:  # (tests call the command inside one)
            close_old_connections()  # drop connections the database closed meanwhile
        done = run_once()
        if time.monotonic() - last_watermark > 60 or (once and not done):
            fanout.advance_watermark()
            housekeeping()
            last_watermark = time.monotonic()
        if once and not done:
            return
        if not done:
            stop.wait(settings.NOTIFICATIONS["POLL_SECONDS"])
