"""Moderation writes: decisions on comments and guest posts, blog policies,
moderators; bans live in ``moderation.bans`` (re-exported here).

A comment decision is ``comment_decide`` with an action from ``COMMENT_ACTIONS``, the
one table mapping each action to its rule (``comment_approve`` ... ``comment_restore``
name the actions); a post decision is ``post_publish`` or ``post_reject``. Each
follows the same steps in one transaction:

1. lock the target row (``forum.services.comment_lock`` / ``post_lock``), so a
   concurrent decision on the same item waits and then sees this one;
2. check the actor may moderate it (``NotPermitted``, 403);
3. when the verb's target state already holds, do nothing and say so
   (``changed=False``, no audit row): every verb is idempotent;
4. when the verb makes no sense from the current state, raise ``Conflict`` (409)
   carrying the current state; likewise when the caller said which state they saw
   (``expected_state``, e.g. ``pending`` from the queue) and the comment is no longer
   in it: someone else decided first, and the later decision must not silently
   overturn the earlier one (a reject that won would otherwise be followed by the
   approve that lost, rejected → approved being a valid move);
5. otherwise apply it through forum's verbs (``comment_set_state``,
   ``flags_resolve``, ``post_set_status``: forum writes its own tables), and write
   the audit row (``ModerationAction``: who, when, why, from which state to which).

Comment states (the log's ``from_state``/``to_state``: the status, or ``removed``)::

    verb     from                                to          no-op when
    approve  pending, rejected, spam             approved    approved
    reject   pending, spam                       rejected    rejected
    spam     pending, rejected, approved         spam        spam
    remove   approved; pending if taken down     removed     removed (by anyone)
             by readers' flags
    restore  removed (by a moderator)            approved    not removed
    hold     approved, rejected, spam            pending     pending
    pin      approved top-level (3 per post)     pinned      pinned
    unpin    pinned                              unpinned    not pinned
    approve_edit / reject_edit: an edit awaiting review (the comment stays as it
             is; the log says edit_pending → edit_approved / edit_rejected;
             open flags stay open)                           no edit waits

Any other combination is a ``Conflict``; in particular the status verbs refuse
removed comments (restore first). ``approve`` and ``restore`` clear the comment's
``moderation_reasons``. A removed comment stays ``approved``: a tombstone while it
has visible replies. ``pin``/``unpin`` log ``unpinned``/``pinned`` as their
states, leave flags open and the status alone (``forum.votes.comment_pin_set``: at
most three per post, 409 beyond; a pin ends when its comment is hidden).
Guest posts: ``publish`` pending → published (with the blog's next
``guest_number``), ``reject`` pending → rejected.

``hold`` returns a decided comment to the queue (undoing a decision,
``moderation.casework.action_undo``); it keeps the comment's reasons, or gives it
``moderator_hold`` when it has none. A decision's log row keeps the comment's reasons
before it (``details``), so that an undo can give them back.

Bans keep their own record (``created_by``/``created_at``/``reason`` and
``lifted_by``/``lifted_at``/``lift_reason``) and are also in the log (``ban``,
``lift``), as are policy changes (``policy``, the changed settings before and after
in ``details``), each in the transaction of the change (``moderation.audit``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from forum import events
from forum.errors import Conflict, InvalidInput
from forum.models import Blog, Comment, Post, PostStatus
from forum.permissions import MODERATORS_GROUP, AnyUser
from forum.services import comment_lock, flags_resolve, post_lock, post_set_status
from forum.text import REASON_MAX_LENGTH, clean_reason  # noqa: F401 (the API reads it here)

# Bans live in moderation.bans; callers reach every moderation write through here.
from moderation import audit
from moderation.bans import ban_create, ban_lift, ban_validate  # noqa: F401

# The comment actions' table and rules live in moderation.comment_actions (re-exported).
from moderation.comment_actions import (  # noqa: F401
    _APPROVED,
    _PENDING,
    _REJECTED,
    _SPAM,
    COMMENT_ACTIONS,
    COMMENT_STATES,
    EDIT_APPROVED,
    EDIT_PENDING,
    EDIT_REJECTED,
    EVENT_OF_ACTION,
    MODERATOR_HOLD,
    REMOVED,
    CommentRule,
    _comment_conflict,
    _has_pending_edit,
    _hold,
    _pin_state,
    _pinnable,
    _remove,
    _restore,
    _set_pin,
    _set_status,
    _settle_edit,
    _status_is,
    _taken_down_by_flags,
    comment_state,
)
from moderation.models import (
    ActionKind,
    BlogPolicy,
    ModerationAction,
    TargetKind,
)
from moderation.permissions import require_moderator

# What a moderator may do in the Django admin (the moderators' desk).
MODERATOR_ADMIN_PERMISSIONS = [
    ("forum", "view_blog"),
    ("forum", "view_post"),
    ("forum", "change_post"),
    ("forum", "view_comment"),
    ("forum", "change_comment"),
    ("moderation", "view_heldcomment"),
    ("moderation", "view_pendingguestpost"),
    ("moderation", "view_moderationaction"),
    ("moderation", "view_ban"),
    ("moderation", "add_ban"),
    ("moderation", "view_blogpolicy"),
    ("moderation", "add_blogpolicy"),
    ("moderation", "change_blogpolicy"),
]


# --- moderators ----------------------------------------------------------------------


def moderators_group() -> Group:
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    return group


@transaction.atomic
def moderator_grant(*, user: User) -> User:
    """Make ``user`` a moderator: member of the Moderators group, allowed into the admin."""
    group = moderators_group()
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in MODERATOR_ADMIN_PERMISSIONS
    ]
    group.permissions.add(*permissions)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


# --- blog policies --------------------------------------------------------------------


def blog_policy_get_or_create(*, blog_id: int) -> BlogPolicy:
    """The blog's policy; a blog without one gets the defaults, saved. One query
    once the row exists. (Not wrapped in ``atomic``: ``get_or_create`` guards its
    own insert, and the policy asks for this on every comment, inside the
    comment's transaction, where a savepoint would cost two more statements.)"""
    policy, _ = BlogPolicy.objects.get_or_create(blog_id=blog_id)
    return policy


_POLICY_FIELDS = {
    "mode",
    "trust_after",
    "max_links",
    "blocked_words",
    "watched_words",
    "close_after_days",
    "flag_threshold",
    "flag_account_min_age_days",
    "flag_trusted_weight",
    "allow_downvotes",
}


@transaction.atomic
def blog_policy_save(*, policy: BlogPolicy, actor: AnyUser) -> BlogPolicy:
    """Save a blog's policy as edited (the admin's form): validated, moderators only."""
    require_moderator(actor, policy.blog_id)
    try:
        policy.full_clean()
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from exc
    before = BlogPolicy.objects.select_for_update().filter(blog_id=policy.blog_id).first()
    policy.save()
    audit.policy_changed(before=before, after=policy, actor=actor)
    return policy


@transaction.atomic
def blog_policy_update(*, blog: Blog, actor: AnyUser, **changes: Any) -> BlogPolicy:
    """Change some of ``blog``'s moderation settings (the fields of ``BlogPolicy``)."""
    unknown = set(changes) - _POLICY_FIELDS
    if unknown:
        raise InvalidInput(f"Unknown policy settings: {', '.join(sorted(unknown))}.")
    policy = blog_policy_get_or_create(blog_id=blog.pk)
    for name, value in changes.items():
        setattr(policy, name, value)
    return blog_policy_save(policy=policy, actor=actor)


# --- decisions --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentOutcome:
    comment: Comment
    changed: bool
    action: ModerationAction | None = None


@dataclass(frozen=True)
class PostOutcome:
    post: Post
    changed: bool
    action: ModerationAction | None = None


@transaction.atomic
def comment_decide(
    *,
    comment_id: int,
    action: str,
    actor: User,
    reason: str = "",
    expected_state: str | None = None,
) -> CommentOutcome:
    """Apply the action named ``action`` (see ``COMMENT_ACTIONS``) to a comment."""
    rule = COMMENT_ACTIONS.get(action)
    if rule is None:
        raise InvalidInput(f"{action!r} is not a valid choice.", field="action")
    reason = clean_reason(reason)
    if expected_state is not None and expected_state not in COMMENT_STATES:
        raise InvalidInput(f"{expected_state!r} is not a valid choice.", field="expected_state")
    comment = comment_lock(comment_id=comment_id)
    require_moderator(actor, comment.post.blog_id)
    if rule.holds(comment):
        return CommentOutcome(comment=comment, changed=False)
    if expected_state is not None and comment_state(comment) != expected_state:
        raise _comment_conflict(
            action,
            comment,
            message=f"This comment is {comment_state(comment)} now, not {expected_state}: "
            "another decision came first.",
        )
    if not rule.allowed(comment):
        raise _comment_conflict(action, comment)

    reasons_before = list(comment.moderation_reasons)
    state = rule.state or comment_state
    from_state = state(comment)
    rule.apply(comment, actor, reason)
    now = timezone.now()
    to_state = state(comment)
    if rule.log_states is not None:
        from_state, to_state = rule.log_states
    if rule.resolves_flags:
        flags_resolve(comment=comment, at=now)
    action_row = ModerationAction.objects.create(
        actor=actor,
        created_at=now,
        target_kind=TargetKind.COMMENT,
        comment=comment,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        details={"reasons": reasons_before},
    )
    event = EVENT_OF_ACTION.get(action)  # decisions on an edit are not events of the comment
    if event is not None:
        events.record(event, comment=comment, actor=actor, data={"reason": reason})
    return CommentOutcome(comment=comment, changed=True, action=action_row)


def _comment_verb(action: str, doc: str) -> Callable[..., CommentOutcome]:
    """``comment_<action>(*, comment_id, actor, reason="", expected_state=None)``:
    ``comment_decide`` with the action named."""

    def verb(
        *, comment_id: int, actor: User, reason: str = "", expected_state: str | None = None
    ) -> CommentOutcome:
        return comment_decide(
            comment_id=comment_id,
            action=action,
            actor=actor,
            reason=reason,
            expected_state=expected_state,
        )

    verb.__name__ = verb.__qualname__ = f"comment_{action}"
    verb.__doc__ = doc
    return verb


comment_approve = _comment_verb(
    ActionKind.APPROVE, "Publish a held, rejected or spam comment; clears its moderation reasons."
)
comment_reject = _comment_verb(
    ActionKind.REJECT, "Refuse a held (or spam) comment: it stays hidden."
)
comment_spam = _comment_verb(
    ActionKind.SPAM, "Mark a comment as spam (hidden), whether held, rejected or published."
)
comment_remove = _comment_verb(
    ActionKind.REMOVE, "Take a published comment down: a tombstone while it has visible replies."
)
comment_restore = _comment_verb(ActionKind.RESTORE, "Undo a moderator's removal.")
comment_hold = _comment_verb(
    ActionKind.HOLD, "Return an approved, rejected or spam comment to the queue (pending)."
)
comment_pin = _comment_verb(
    ActionKind.PIN, "Pin a published top-level comment: first on page 1 (3 per post at most)."
)
comment_unpin = _comment_verb(ActionKind.UNPIN, "Unpin a comment.")


def _post_conflict(verb: str, post: Post) -> Conflict:
    return Conflict(f"Cannot {verb} a post that is {post.status}.", extra={"status": post.status})


def _post_audit(*, post: Post, actor: User, verb: str, from_state: str, reason: str):
    return ModerationAction.objects.create(
        actor=actor,
        target_kind=TargetKind.POST,
        post=post,
        action=verb,
        from_state=from_state,
        to_state=post.status,
        reason=reason,
    )


@transaction.atomic
def post_publish(*, post_id: int, actor: User, reason: str = "") -> PostOutcome:
    """Publish a pending post now. A guest post gets the blog's next guest number:
    the blog row is locked first, so concurrent publications take turns."""
    reason = clean_reason(reason)
    post = post_lock(post_id=post_id)
    require_moderator(actor, post.blog_id)
    if post.status == PostStatus.PUBLISHED:
        return PostOutcome(post=post, changed=False)
    if post.status != PostStatus.PENDING:
        raise _post_conflict("publish", post)

    from_state = post.status
    post_set_status(post=post, status=PostStatus.PUBLISHED)
    action = _post_audit(
        post=post, actor=actor, verb=ActionKind.PUBLISH, from_state=from_state, reason=reason
    )
    events.record("post.published", post=post, actor=actor, data={"reason": reason})
    return PostOutcome(post=post, changed=True, action=action)


@transaction.atomic
def post_reject(*, post_id: int, actor: User, reason: str = "") -> PostOutcome:
    """Refuse a pending post: it is never published."""
    reason = clean_reason(reason)
    post = post_lock(post_id=post_id)
    require_moderator(actor, post.blog_id)
    if post.status == PostStatus.REJECTED:
        return PostOutcome(post=post, changed=False)
    if post.status != PostStatus.PENDING:
        raise _post_conflict("reject", post)

    from_state = post.status
    post_set_status(post=post, status=PostStatus.REJECTED)
    action = _post_audit(
        post=post, actor=actor, verb=ActionKind.REJECT, from_state=from_state, reason=reason
    )
    events.record("post.rejected", post=post, actor=actor, data={"reason": reason})
    return PostOutcome(post=post, changed=True, action=action)


POST_ACTIONS: dict[str, Callable[..., PostOutcome]] = {
    ActionKind.PUBLISH: post_publish,
    ActionKind.REJECT: post_reject,
}


def post_decide(*, post_id: int, action: str, actor: User, reason: str = "") -> PostOutcome:
    """Apply the verb named ``action`` (see ``POST_ACTIONS``)."""
    verb = POST_ACTIONS.get(action)
    if verb is None:
        raise InvalidInput(f"{action!r} is not a valid choice.", field="action")
    return verb(post_id=post_id, actor=actor, reason=reason)
