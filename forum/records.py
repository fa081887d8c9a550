"""The rows recorded about comments and imports: a comment's revisions, readers'
flags and votes, rate-limit counters and the import log. Models of the ``forum`` app,
loaded (and re-exported) by ``forum.models``: import them from there."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from forum.models import Blog, Comment, TextFormat


class RevisionStatus(models.TextChoices):
    """What became of one version of a comment's text (``CommentRevision``)."""

    APPLIED = "applied", "Applied (was or is the comment's text)"
    PENDING = "pending", "Awaiting review"
    REJECTED = "rejected", "Rejected by a moderator"
    SPAM = "spam", "Spam"
    SUPERSEDED = "superseded", "Replaced by a later edit before review"


class CommentRevision(models.Model):
    """One version of a comment's text. The first edit of a comment also records
    its original text (number 1); every edit then adds a row. An edit to a published
    comment that the moderation policy would hold waits here (``pending``) while the
    comment keeps its last approved text in public (``Comment.body``); a moderator's
    approval applies it, a rejection keeps the old text. At most one edit of a
    comment is pending (a newer one supersedes it)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    body_html = models.TextField(blank=True)
    body_format = models.CharField(
        max_length=8, choices=TextFormat.choices, default=TextFormat.PLAIN
    )
    status = models.CharField(max_length=16, choices=RevisionStatus.choices)
    # Why the policy held it (Comment.moderation_reasons' codes).
    reasons = models.JSONField(default=list, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["comment", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "number"], name="commentrevision_number_unique"
            ),
            models.UniqueConstraint(
                fields=["comment"],
                condition=Q(status="pending"),
                name="commentrevision_one_pending_per_comment",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RevisionStatus.values), name="commentrevision_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="commentrevision_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of comment {self.comment_id} ({self.status})"


class FlagReason(models.TextChoices):
    SPAM = "spam", "Spam"
    ABUSE = "abuse", "Abuse"
    OFF_TOPIC = "off_topic", "Off topic"
    OTHER = "other", "Other"


class Flag(models.Model):
    """A reader's report of a comment. One per reporter per comment.

    ``reporter_key`` identifies the reporter: ``user:<id>`` for accounts, ``ip:<keyed
    hash>`` for anonymous readers, so the uniqueness holds for both.
    """

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags",
    )
    reporter_key = models.CharField(max_length=80)
    # Keyed hash of the reporter's network (forum.identity.network_hash: IPv4 /24,
    # IPv6 /64): flags are counted by person (forum.flags). Empty on flags made
    # before networks were recorded (such a flag counts by its reporter).
    network_hash = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=16, choices=FlagReason.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter_key"], name="flag_one_per_reporter_per_comment"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=FlagReason.values), name="flag_reason_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["comment"], name="flag_open_idx", condition=Q(resolved_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"Flag {self.pk} ({self.reason}) on comment {self.comment_id}"


class Vote(models.Model):
    """A reader's vote on a comment: +1 or -1, one per voter per comment (a vote
    taken back is deleted). ``voter_key`` is ``user:<id>`` or ``ip:<keyed hash>``,
    as for flags. Written only by ``forum.votes``, which keeps the comment's
    counters in the same transaction."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="votes",
    )
    voter_key = models.CharField(max_length=80)
    value = models.SmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "voter_key"], name="vote_one_per_voter_per_comment"
            ),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="vote_value_up_or_down"),
        ]
        indexes = [
            # "My votes on this post": by voter, then the comment's post via the join.
            models.Index(fields=["voter_key", "comment"], name="vote_voter_idx"),
        ]

    def __str__(self) -> str:
        return f"Vote {self.value:+d} on comment {self.comment_id}"


class RateCounter(models.Model):
    """The recent hits of one identity under one rate limit (forum.ratelimit), when
    Redis is not configured or not answering: ``stamps`` holds the times (ms since the
    epoch, space-separated) of the last ``count`` hits. Rows expire with the limit's span."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    stamps = models.TextField(default="", blank=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class ImportRecord(models.Model):
    """One imported file (forum.bulk): written in the transaction that wrote its rows,
    never edited. The audit trail of imports: what came in, from where, when."""

    blog = models.ForeignKey(Blog, on_delete=models.PROTECT, related_name="imports")
    # The format read: "seeds", "blogger", "blogger-takeout", "disqus", "wordpress".
    source_format = models.CharField(max_length=32)
    # The file's name as given, and the SHA-256 of its bytes.
    source_name = models.CharField(max_length=500)
    source_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    posts_created = models.PositiveIntegerField(default=0)
    comments_created = models.PositiveIntegerField(default=0)
    # The whole report: comments by status, re-parented replies, skipped entries.
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import of {self.source_name} into {self.blog_id}"
