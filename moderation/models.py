"""Moderation: each blog's rules (``BlogPolicy``), bans, and the audit log.

``ModerationAction`` is the audit log: one row per decision that changed something,
written in the transaction of the change by ``moderation.services`` and never edited
afterwards. A ``Ban`` is its own record: who banned whom and why (``created_by``,
``reason``), and who lifted it when (``lifted_by``, ``lifted_at``, ``lift_reason``).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from forum.models import Blog, Comment, Post


class ModerationMode(models.TextChoices):
    HOLD_ALL = "hold_all", "Hold every comment"
    HOLD_UNTRUSTED = "hold_untrusted", "Hold comments from anonymous and new posters"
    HOLD_NONE = "hold_none", "Hold only what the link and word rules catch"


def word_list(text: str) -> list[str]:
    """One word (or phrase) per line: trimmed, lower-cased, without blanks or repeats."""
    words: list[str] = []
    for line in text.splitlines():
        word = " ".join(line.split()).lower()
        if word and word not in words:
            words.append(word)
    return words


def default_flag_threshold() -> int:
    """New policies start from the site-wide ``FORUM_FLAG_HIDE_THRESHOLD`` (3)."""
    return settings.FORUM["FLAG_HIDE_THRESHOLD"]


def default_flag_account_min_age_days() -> int:
    """New policies start from ``NEW_ACCOUNT_DAYS`` (7)."""
    return settings.NEW_ACCOUNT_DAYS


class BlogPolicy(models.Model):
    """How a blog moderates new comments. Blogs without a row get one with these
    defaults the first time it is needed
    (``moderation.services.blog_policy_get_or_create``)."""

    blog = models.OneToOneField(Blog, on_delete=models.CASCADE, related_name="moderation_policy")
    mode = models.CharField(
        max_length=16, choices=ModerationMode.choices, default=ModerationMode.HOLD_UNTRUSTED
    )
    trust_after = models.PositiveSmallIntegerField(
        default=3,
        help_text="Approved comments on this blog after which a poster publishes directly "
        "(mode 'hold untrusted').",
    )
    max_links = models.PositiveSmallIntegerField(
        default=2, help_text="Comments with more links than this are held."
    )
    blocked_words = models.TextField(
        blank=True,
        help_text="One word or phrase per line; whole words, any case. "
        "A comment containing one is marked spam.",
    )
    watched_words = models.TextField(
        blank=True,
        help_text="One word or phrase per line; whole words, any case. "
        "A comment containing one is held for review.",
    )
    close_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Close comments on posts published longer ago than this (empty: never).",
    )
    flag_threshold = models.PositiveSmallIntegerField(
        default=default_flag_threshold,
        help_text="Distinct people whose open flags take an approved comment down for "
        "review (see the README: what counts as a person).",
    )
    flag_account_min_age_days = models.PositiveSmallIntegerField(
        default=default_flag_account_min_age_days,
        help_text="Flags from accounts younger than this (days), or without an approved "
        "comment, count with their network (IPv4 /24, IPv6 /64) as one person.",
    )
    flag_trusted_weight = models.PositiveSmallIntegerField(
        default=1,
        help_text="How many people a flag from a trusted account (at least 'trust after' "
        "approved comments on this blog) counts for.",
    )
    allow_downvotes = models.BooleanField(
        default=True, help_text="Readers may vote comments down as well as up."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "blog moderation policy"
        verbose_name_plural = "blog moderation policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=ModerationMode.values), name="blogpolicy_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(flag_threshold__gte=1), name="blogpolicy_flag_threshold_positive"
            ),
            models.CheckConstraint(
                condition=Q(flag_trusted_weight__gte=1),
                name="blogpolicy_flag_trusted_weight_positive",
            ),
            models.CheckConstraint(
                condition=Q(close_after_days__isnull=True) | Q(close_after_days__gte=1),
                name="blogpolicy_close_after_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Moderation policy of {self.blog}"

    @property
    def blocked_word_list(self) -> list[str]:
        return word_list(self.blocked_words)

    @property
    def watched_word_list(self) -> list[str]:
        return word_list(self.watched_words)


class TargetKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    POST = "post", "Post"
    BAN = "ban", "Ban"
    POLICY = "policy", "Blog policy"


class ActionKind(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    SPAM = "spam", "Mark as spam"
    REMOVE = "remove", "Remove"
    RESTORE = "restore", "Restore"
    PUBLISH = "publish", "Publish"
    HOLD = "hold", "Return to the queue"
    BAN = "ban", "Ban"
    LIFT = "lift", "Lift a ban"
    POLICY = "policy", "Change the policy"
    APPROVE_EDIT = "approve_edit", "Approve an edit"
    REJECT_EDIT = "reject_edit", "Reject an edit"
    PIN = "pin", "Pin"
    UNPIN = "unpin", "Unpin"


class ModerationAction(models.Model):
    """One moderator decision that changed something (the audit log): a comment, a
    post, a ban (made or lifted) or a blog's policy.

    Decisions that changed nothing (repeats) are not recorded, so ``from_state``
    always differs from ``to_state`` (policy changes aside: their before/after is in
    ``details``). A comment's state is its status, or ``removed`` while it is
    removed; a post's is its status; a ban's is ``none``, ``banned`` or ``lifted``.
    ``details`` keeps what the states do not say (a comment's moderation reasons
    before the decision, a policy's changed settings before and after); ``undoes``
    names the decision this one undid (``moderation.casework.action_undo``).
    """

    # Null only once the moderator's account is erased (accounts.services.user_erase):
    # the decision stays on record.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="moderation_actions",
    )
    created_at = models.DateTimeField(default=timezone.now)
    target_kind = models.CharField(max_length=8, choices=TargetKind.choices)
    comment = models.ForeignKey(
        Comment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moderation_actions",
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    ban = models.ForeignKey(
        "Ban", null=True, blank=True, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    # Set for bans and policy changes (a comment's or a post's blog is theirs).
    blog = models.ForeignKey(
        Blog, null=True, blank=True, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    action = models.CharField(max_length=16, choices=ActionKind.choices)
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    undoes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        target_kind=TargetKind.COMMENT,
                        comment__isnull=False,
                        post__isnull=True,
                        ban__isnull=True,
                    )
                    | Q(
                        target_kind=TargetKind.POST,
                        post__isnull=False,
                        comment__isnull=True,
                        ban__isnull=True,
                    )
                    | Q(
                        target_kind=TargetKind.BAN,
                        ban__isnull=False,
                        blog__isnull=False,
                        comment__isnull=True,
                        post__isnull=True,
                    )
                    | Q(
                        target_kind=TargetKind.POLICY,
                        blog__isnull=False,
                        ban__isnull=True,
                        comment__isnull=True,
                        post__isnull=True,
                    )
                ),
                name="moderationaction_exactly_one_target",
            ),
            models.CheckConstraint(
                condition=Q(action__in=ActionKind.values), name="moderationaction_action_valid"
            ),
            models.CheckConstraint(
                condition=~Q(from_state=F("to_state")) | Q(target_kind=TargetKind.POLICY),
                name="moderationaction_changes_state",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="moderationaction_recent_idx"),
        ]

    def __str__(self) -> str:
        if self.comment_id:
            target = f"comment #{self.comment_id}"
        elif self.post_id:
            target = f"post #{self.post_id}"
        elif self.ban_id:
            target = f"ban #{self.ban_id}"
        else:
            target = f"the policy of blog #{self.blog_id}"
        return f"{self.get_action_display()} {target}: {self.from_state} → {self.to_state}"


class BanQuerySet(models.QuerySet):
    def active(self, at=None) -> "BanQuerySet":
        """Bans in force at ``at`` (default: now): not lifted and not expired."""
        at = at or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class Ban(models.Model):
    """Keeps an account, or a keyed IP hash (``forum.identity``), from commenting on
    a blog, until ``expires_at`` (empty: for good) or until lifted.

    At most one ban per subject and blog is open (not lifted); an expired one is
    closed (``lifted_at`` = its expiry, no ``lifted_by``) when a new one is made.
    The two partial unique indexes on open bans serve the check on every comment.
    """

    blog = models.ForeignKey(Blog, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="bans",
    )
    ip_hash = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    # Who banned and who lifted: null once that account is erased.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lift_reason = models.TextField(blank=True)

    objects = BanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(ip_hash=""))
                | (Q(user__isnull=True) & ~Q(ip_hash="")),
                name="ban_exactly_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("created_at")),
                name="ban_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(lifted_by__isnull=True) | Q(lifted_at__isnull=False),
                name="ban_lifted_by_needs_lifted_at",
            ),
            # Partial unique indexes: one open ban per subject and blog; they also
            # serve the active-ban lookup made for every new comment.
            models.UniqueConstraint(
                fields=["blog", "user"],
                condition=Q(lifted_at__isnull=True, user__isnull=False),
                name="ban_one_open_per_user",
            ),
            models.UniqueConstraint(
                fields=["blog", "ip_hash"],
                condition=Q(lifted_at__isnull=True) & ~Q(ip_hash=""),
                name="ban_one_open_per_ip_hash",
            ),
        ]

    def __str__(self) -> str:
        # Names, not ids: this is what the admin's messages and "Recent actions" show.
        return f"Ban of {self.subject} from {self.blog.name}"

    @property
    def subject(self) -> str:
        if self.user_id is not None:
            return f"account {self.user.username}"
        return f"network {self.ip_hash[:12]}…"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > at)


# --- proxies for the moderators' desk in the admin -----------------------------


class HeldComment(Comment):
    """A comment awaiting a decision (admin queue page)."""

    class Meta:
        proxy = True
        verbose_name = "held comment"
        verbose_name_plural = "held comments"


class PendingGuestPost(Post):
    """A guest post awaiting review (admin page)."""

    class Meta:
        proxy = True
        verbose_name = "pending guest post"
        verbose_name_plural = "pending guest posts"


class ModeratorNote(models.Model):
    """What moderators want each other to know, never shown to the public: about a
    comment, or about a poster on a blog (an account, or a network hash for posters
    without one). Exported with the blog (``moderation.transfer``)."""

    blog = models.ForeignKey(Blog, on_delete=models.CASCADE, related_name="moderator_notes")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="moderator_notes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="moderator_notes_about",
    )
    ip_hash = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(comment__isnull=False) & Q(user__isnull=True) & Q(ip_hash=""))
                | (Q(comment__isnull=True) & Q(user__isnull=False) & Q(ip_hash=""))
                | (Q(comment__isnull=True) & Q(user__isnull=True) & ~Q(ip_hash="")),
                name="moderatornote_exactly_one_subject",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="moderatornote_not_empty"),
        ]
        indexes = [
            models.Index(fields=["blog", "user"], name="moderatornote_user_idx"),
            models.Index(fields=["blog", "ip_hash"], name="moderatornote_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"Moderator note {self.pk}"
