"""What the notifications app keeps: who wants mail, webhook endpoints, and the outbox.

The outbox (``Delivery``) holds every mail and webhook call that is to leave the
process, each with its own retry state; ``DeliveryAttempt`` logs each try. The
worker (``notifications.worker``) fills it from the forum's events
(``forum.events.Event``, marked handled by an ``EventReceipt``) and empties it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MailAddress(models.Model):
    """An address a poster without an account gave with a comment. Nothing but the
    confirmation mail goes to it until it is confirmed (double opt-in). Deleting it
    (unsubscribe from everything) deletes its subscriptions."""

    email = models.EmailField(unique=True)  # stored lower-cased
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "mail addresses"
        constraints = [
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="mailaddress_email_lower_case",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class ReplySubscription(models.Model):
    """Mail ``address`` when someone replies to ``comment``."""

    address = models.ForeignKey(MailAddress, on_delete=models.CASCADE, related_name="subscriptions")
    comment = models.ForeignKey("forum.Comment", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("forum.Post", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address", "comment"], name="replysubscription_one_per_comment"
            ),
        ]
        indexes = [models.Index(fields=["comment"], name="replysubscription_comment_idx")]

    def __str__(self) -> str:
        return f"{self.address} on comment {self.comment_id}"


class ThreadMute(models.Model):
    """An account that asked for no more reply mail from one thread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("forum.Post", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="threadmute_one_per_thread"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} muted post {self.post_id}"


class WebhookEvent(models.TextChoices):
    COMMENT_PUBLISHED = "comment.published", "comment.published"
    COMMENT_HELD = "comment.held", "comment.held"
    COMMENT_REMOVED = "comment.removed", "comment.removed"
    POST_PUBLISHED = "post.published", "post.published"
    GUEST_POST_SUBMITTED = "guest_post.submitted", "guest_post.submitted"


class WebhookEndpoint(models.Model):
    """Where a blog's events are POSTed, signed per Standard Webhooks with ``secret``
    (``whsec_`` + base64 of the key bytes)."""

    blog = models.ForeignKey("forum.Blog", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event types sent to this endpoint.")
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(secret__startswith="whsec_"),  # noqa: S106 (a prefix, not a secret)
                name="webhookendpoint_secret_format",
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="webhookendpoint_url_http",
            ),
        ]

    def __str__(self) -> str:
        return self.url


class Channel(models.TextChoices):
    MAIL = "mail", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Given up"


class Delivery(models.Model):
    """One mail or webhook call to make, until it is made or given up.

    ``next_attempt_at`` is when a worker may (next) take it: a worker claiming it
    pushes it one lease ahead, so a worker that dies mid-delivery leaves it to
    another once the lease ends (at-least-once delivery; webhook receivers
    deduplicate by ``webhook-id``).
    """

    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # What caused it (kind of mail or webhook event), for the admin.
    kind = models.CharField(max_length=40)
    event_id = models.BigIntegerField(null=True, blank=True)
    # Guards against making the same delivery twice (e.g. an event handled again).
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    recipient = models.EmailField(blank=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Webhooks: the JSON body and the message id (``webhook-id``).
    payload = models.TextField(blank=True)
    message_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(channel=Channel.MAIL) & ~Q(recipient=""))
                | (Q(channel=Channel.WEBHOOK) & Q(endpoint__isnull=False)),
                name="delivery_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False),
                name="delivery_sent_has_sent_at",
            ),
        ]
        indexes = [
            # What the worker claims: pending deliveries by due time, nothing else.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(status=DeliveryStatus.PENDING),
            ),
            models.Index(fields=["recipient"], name="delivery_recipient_idx"),
        ]

    def __str__(self) -> str:
        target = self.recipient or (self.endpoint and self.endpoint.url) or "?"
        return f"{self.kind} to {target} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how it went, the HTTP status of a webhook."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"attempt on {self.delivery_id} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class EventReceipt(models.Model):
    """The worker handled this event (``forum.events.Event``): its deliveries exist."""

    event_id = models.BigIntegerField(primary_key=True)
    handled_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"event {self.event_id}"


class FanoutState(models.Model):
    """One row: every event up to ``watermark`` has been handled (the worker looks
    for unhandled events above it only)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    watermark = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="fanoutstate_single_row")]

    def __str__(self) -> str:
        return f"events handled up to {self.watermark}"


class DigestItem(models.Model):
    """A queue item waiting for a moderator's next hourly digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event_id"], name="digestitem_one_per_event"),
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} for {self.user_id}"


class LinkTarget(models.TextChoices):
    COMMENT = "comment", "Comment"
    POST = "post", "Post"


class ModerationLink(models.Model):
    """An approve/reject link sent to one moderator: signed (the URL carries the
    signed id), expiring (``expires_at``) and single-use (``used_at``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=16, choices=LinkTarget.choices)
    target_id = models.BigIntegerField()
    action = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(target__in=LinkTarget.values), name="moderationlink_target_valid"
            ),
            models.CheckConstraint(
                condition=(Q(target=LinkTarget.COMMENT) & Q(action__in=["approve", "reject"]))
                | (Q(target=LinkTarget.POST) & Q(action__in=["publish", "reject"])),
                name="moderationlink_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target} {self.target_id}"
