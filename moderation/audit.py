"""Audit rows for what is not a decision on a comment or a post: bans made and
lifted, blog policies changed. Called by ``moderation.services`` inside the
transaction of the change, so the row exists exactly when the change does.

A ban's states in the log: ``none`` → ``banned`` (made), ``banned`` → ``lifted``.
A policy change keeps ``from_state``/``to_state`` empty and puts the settings that
changed in ``details``: ``{"before": {...}, "after": {...}}`` (``before`` is empty
when the policy row is new).
"""

from typing import Any

from django.utils import timezone

from accounts.models import User
from moderation.models import ActionKind, Ban, BlogPolicy, ModerationAction, TargetKind

POLICY_FIELDS = (
    "mode",
    "trust_after",
    "max_links",
    "blocked_words",
    "watched_words",
    "close_after_days",
    "flag_threshold",
)
BAN_NONE, BAN_BANNED, BAN_LIFTED = "none", "banned", "lifted"


def _actor(actor) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def ban_subject(ban: Ban) -> dict[str, Any]:
    """Who a ban is about, as the log keeps it: a username or a shortened hash."""
    if ban.user_id is not None:
        return {"account": ban.user.username}
    return {"network": ban.ip_hash[:12]}


def ban_made(*, ban: Ban, actor) -> ModerationAction:
    return ModerationAction.objects.create(
        actor=_actor(actor),
        created_at=ban.created_at,
        target_kind=TargetKind.BAN,
        ban=ban,
        blog_id=ban.blog_id,
        action=ActionKind.BAN,
        from_state=BAN_NONE,
        to_state=BAN_BANNED,
        reason=ban.reason,
        details={
            **ban_subject(ban),
            "expires_at": ban.expires_at.isoformat() if ban.expires_at else None,
        },
    )


def ban_lifted(*, ban: Ban, actor) -> ModerationAction:
    return ModerationAction.objects.create(
        actor=_actor(actor),
        created_at=ban.lifted_at or timezone.now(),
        target_kind=TargetKind.BAN,
        ban=ban,
        blog_id=ban.blog_id,
        action=ActionKind.LIFT,
        from_state=BAN_BANNED,
        to_state=BAN_LIFTED,
        reason=ban.lift_reason,
        details=ban_subject(ban),
    )


def policy_changed(
    *, before: BlogPolicy | None, after: BlogPolicy, actor
) -> ModerationAction | None:
    """One row naming the settings that changed; none when nothing did."""
    old = {name: getattr(before, name) for name in POLICY_FIELDS} if before else {}
    new = {name: getattr(after, name) for name in POLICY_FIELDS}
    changed = [name for name in POLICY_FIELDS if name not in old or old[name] != new[name]]
    if before is not None and not changed:
        return None
    return ModerationAction.objects.create(
        actor=_actor(actor),
        target_kind=TargetKind.POLICY,
        blog_id=after.blog_id,
        action=ActionKind.POLICY,
        from_state="",
        to_state="",
        details={
            "before": {name: old[name] for name in changed if name in old},
            "after": {name: new[name] for name in changed},
        },
    )
