"""The comment actions of moderation: the one table (``COMMENT_ACTIONS``) mapping each
action a moderator takes on a comment to its rule (the state it holds, the states it
applies from, what it does, what the log records), the comment states the log names,
and the events each action records. ``moderation.services.comment_decide`` applies
them (the states table is in its docstring) and re-exports every name here.
"""

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import User
from forum.errors import Conflict
from forum.models import Comment, CommentStatus, RemovalKind
from forum.policy import FLAGGED_REASON
from forum.selectors import comment_pending_edit
from forum.services import comment_edit_settle, comment_pin_set, comment_set_state
from moderation.models import ActionKind

REMOVED = "removed"
MODERATOR_HOLD = "moderator_hold"  # reason code of a comment a moderator returned to the queue

# A comment's state as the log records it and ``expected_state`` names it.
COMMENT_STATES = (*CommentStatus.values, REMOVED)


def comment_state(comment: Comment) -> str:
    """The state the log records: ``removed`` while removed, else the status."""
    return REMOVED if comment.is_removed else comment.status


_PENDING, _APPROVED = CommentStatus.PENDING, CommentStatus.APPROVED
_REJECTED, _SPAM = CommentStatus.REJECTED, CommentStatus.SPAM


@dataclass(frozen=True)
class CommentRule:
    """What one moderation action does to a comment."""

    holds: Callable[[Comment], bool]  # the action's target state is the current one
    allowed: Callable[[Comment], bool]  # the action applies from the current state
    apply: Callable[[Comment, User, str], None]
    # The states the log records (default: the status, or removed), and whether the
    # decision closes the comment's open flags.
    state: Callable[[Comment], str] | None = None
    # The log's states, when the action is about something else than the comment's
    # state (an edit awaiting review): (from_state, to_state).
    log_states: tuple[str, str] | None = None
    resolves_flags: bool = True


def _status_is(*statuses: str) -> Callable[[Comment], bool]:
    return lambda c: not c.is_removed and c.status in statuses


def _set_status(status: str, *, clear_reasons: bool = False) -> Callable:
    def apply(comment: Comment, actor: User, reason: str) -> None:
        comment_set_state(
            comment=comment, status=status, moderation_reasons=[] if clear_reasons else None
        )

    return apply


def _taken_down_by_flags(comment: Comment) -> bool:
    """Published, then held because readers flagged it (``forum.services``)."""
    return _status_is(_PENDING)(comment) and FLAGGED_REASON in comment.moderation_reasons


def _remove(comment: Comment, actor: User, reason: str) -> None:
    # A comment readers' flags took down was published: removing it leaves the
    # tombstone (and the replies) a published comment leaves.
    comment_set_state(
        comment=comment,
        status=_APPROVED,
        removed=True,
        removal_kind=RemovalKind.MODERATOR,
        removed_by=actor,
        removal_reason=reason,
    )


def _restore(comment: Comment, actor: User, reason: str) -> None:
    comment_set_state(comment=comment, removed=False, moderation_reasons=[])


def _hold(comment: Comment, actor: User, reason: str) -> None:
    reasons = list(comment.moderation_reasons) or [MODERATOR_HOLD]
    comment_set_state(comment=comment, status=_PENDING, moderation_reasons=reasons)


def _has_pending_edit(comment: Comment) -> bool:
    return comment_pending_edit(comment) is not None


def _settle_edit(approve: bool) -> Callable:
    def apply(comment: Comment, actor: User, reason: str) -> None:
        comment_edit_settle(comment=comment, approve=approve, actor=actor)

    return apply


def _pin_state(comment: Comment) -> str:
    return "pinned" if comment.pinned_at is not None else "unpinned"


def _pinnable(comment: Comment) -> bool:
    return comment.parent_id is None and _status_is(_APPROVED)(comment)


def _set_pin(pinned: bool) -> Callable:
    def apply(comment: Comment, actor: User, reason: str) -> None:
        comment_pin_set(comment=comment, pinned=pinned)

    return apply


# The log's states of a decision on an edit awaiting review.
EDIT_PENDING, EDIT_APPROVED, EDIT_REJECTED = "edit_pending", "edit_approved", "edit_rejected"


# The one table of comment decisions: an action and its rule (the states table above).
COMMENT_ACTIONS: dict[str, CommentRule] = {
    ActionKind.APPROVE: CommentRule(
        holds=_status_is(_APPROVED),
        allowed=_status_is(_PENDING, _REJECTED, _SPAM),
        apply=_set_status(_APPROVED, clear_reasons=True),
    ),
    ActionKind.REJECT: CommentRule(
        holds=_status_is(_REJECTED),
        allowed=_status_is(_PENDING, _SPAM),
        apply=_set_status(_REJECTED),
    ),
    ActionKind.SPAM: CommentRule(
        holds=_status_is(_SPAM),
        allowed=_status_is(_PENDING, _REJECTED, _APPROVED),
        apply=_set_status(_SPAM),
    ),
    ActionKind.REMOVE: CommentRule(
        holds=lambda c: c.is_removed,
        allowed=lambda c: _status_is(_APPROVED)(c) or _taken_down_by_flags(c),
        apply=_remove,
    ),
    ActionKind.RESTORE: CommentRule(
        holds=lambda c: not c.is_removed,
        allowed=lambda c: c.is_removed and c.removal_kind == RemovalKind.MODERATOR,
        apply=_restore,
    ),
    ActionKind.HOLD: CommentRule(
        holds=_status_is(_PENDING),
        allowed=_status_is(_APPROVED, _REJECTED, _SPAM),
        apply=_hold,
    ),
    # An author's edit of a published comment that the policy held: the comment
    # stays published with its approved text meanwhile (forum.services.comment_update).
    ActionKind.APPROVE_EDIT: CommentRule(
        holds=lambda c: not _has_pending_edit(c),
        allowed=_has_pending_edit,
        apply=_settle_edit(approve=True),
        log_states=(EDIT_PENDING, EDIT_APPROVED),
        resolves_flags=False,
    ),
    ActionKind.REJECT_EDIT: CommentRule(
        holds=lambda c: not _has_pending_edit(c),
        allowed=_has_pending_edit,
        apply=_settle_edit(approve=False),
        log_states=(EDIT_PENDING, EDIT_REJECTED),
        resolves_flags=False,
    ),
    ActionKind.PIN: CommentRule(
        holds=lambda c: c.pinned_at is not None,
        allowed=_pinnable,
        apply=_set_pin(True),
        state=_pin_state,
        resolves_flags=False,
    ),
    ActionKind.UNPIN: CommentRule(
        holds=lambda c: c.pinned_at is None,
        allowed=lambda c: True,
        apply=_set_pin(False),
        state=_pin_state,
        resolves_flags=False,
    ),
}


def _comment_conflict(verb: str, comment: Comment, *, message: str = "") -> Conflict:
    if not message:
        if verb == ActionKind.PIN and comment.parent_id is not None:
            message = "Only top-level comments can be pinned."
        elif comment.is_removed and comment.removal_kind == RemovalKind.AUTHOR:
            message = f"Cannot {verb} this comment: its author removed it."
        elif comment.is_removed:
            message = f"Cannot {verb} this comment: it is removed (restore it first)."
        else:
            message = f"Cannot {verb} a comment that is {comment.status}."
    return Conflict(message, extra={"status": comment.status, "removed": comment.is_removed})


# The event (forum.events) each comment action records.
EVENT_OF_ACTION = {
    ActionKind.APPROVE: "comment.published",
    ActionKind.REJECT: "comment.rejected",
    ActionKind.SPAM: "comment.spam",
    ActionKind.REMOVE: "comment.removed",
    ActionKind.RESTORE: "comment.restored",
    ActionKind.HOLD: "comment.held",  # back in the queue: moderators hear of it again
    ActionKind.PIN: "comment.pinned",
    ActionKind.UNPIN: "comment.unpinned",
}
