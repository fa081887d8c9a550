"""Writing to the outbox. Called inside the transaction of whatever caused the
delivery, so it exists exactly when that change committed."""

import json

from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.mail import Mail
from notifications.models import Channel, Delivery, WebhookEndpoint


def _create(*, dedupe_key: str | None, **fields) -> Delivery | None:
    if dedupe_key is not None and Delivery.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            return Delivery.objects.create(dedupe_key=dedupe_key, **fields)
    except IntegrityError:  # made by a concurrent worker just now
        if dedupe_key is None:
            raise
        return None


def enqueue_mail(
    mail: Mail, *, kind: str, event_id: int | None = None, dedupe_key: str | None = None
) -> Delivery | None:
    """Queue ``mail``; ``None`` when one with the same ``dedupe_key`` exists."""
    return _create(
        channel=Channel.MAIL,
        kind=kind,
        event_id=event_id,
        dedupe_key=dedupe_key,
        recipient=mail.to,
        **mail.rendered(),
    )


def enqueue_webhook(
    *, endpoint: WebhookEndpoint, kind: str, event_id: int, data: dict
) -> Delivery | None:
    """Queue one call of ``endpoint``; the message id stays the same on every retry."""
    message_id = f"msg_{event_id}_{endpoint.pk}"
    body = json.dumps(
        {"type": kind, "timestamp": timezone.now().isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _create(
        channel=Channel.WEBHOOK,
        kind=kind,
        event_id=event_id,
        dedupe_key=f"webhook:{event_id}:{endpoint.pk}",
        endpoint=endpoint,
        payload=body,
        message_id=message_id,
    )
