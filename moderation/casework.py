"""Moderation writes built on the verbs of ``moderation.services``: undoing a
decision, banning a poster together with their held items, deciding many items at
once, moderators' notes. The desk (``moderation.desk``) and the API call these; every
state change still goes through a verb, so it is locked, checked, idempotent and
logged in its own transaction.

Undo (``action_undo``) applies the inverse verb of a log entry: the verb that leads
back to the entry's ``from_state``, on the condition that the item is still in the
entry's ``to_state`` (otherwise someone decided since: ``Conflict``, nothing
changes). The new entry names the one it undid (``undoes``); an entry is undone
once. Undoable: comment decisions (approve, reject, spam, hold, remove, restore) and
bans (undone by lifting them). Not undoable: decisions on posts (a published guest
post was public and numbered), ban lifts and policy changes (make a new ban, edit
the policy), and decisions on an edit awaiting review (``edit_decide``): no verb
leads back to ``edit_pending`` (putting a decided version back in review) or
takes an approved edit's text back, so ``undo_verb`` finds none for them.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import User
from forum.errors import Conflict, InvalidInput, NotFound, ServiceError
from forum.models import Comment, CommentRevision, CommentStatus, RevisionStatus
from forum.services import comment_lock, comment_set_state
from forum.text import clean_text
from moderation import selectors, services
from moderation.models import ActionKind, Ban, ModerationAction, ModeratorNote, TargetKind
from moderation.permissions import require_moderator

NOTE_MAX_LENGTH = 2000

# The verb whose result is each comment state (what undoing a move to another
# state applies).
_VERB_REACHING = {
    CommentStatus.PENDING: ActionKind.HOLD,
    CommentStatus.APPROVED: ActionKind.APPROVE,
    CommentStatus.REJECTED: ActionKind.REJECT,
    CommentStatus.SPAM: ActionKind.SPAM,
    services.REMOVED: ActionKind.REMOVE,
}


# --- undo ------------------------------------------------------------------------------


def undo_verb(action: ModerationAction) -> str | None:
    """The verb that undoes the log entry ``action``; None when it cannot be undone."""
    if action.target_kind == TargetKind.BAN:
        return ActionKind.LIFT if action.action == ActionKind.BAN else None
    if action.target_kind != TargetKind.COMMENT:
        return None
    if action.to_state == services.REMOVED:
        # A removal leads back to approved only (restore); a flag take-down removed
        # straight from the queue cannot be put back in the queue that way.
        return ActionKind.RESTORE if action.from_state == CommentStatus.APPROVED else None
    if action.from_state == services.REMOVED and action.to_state != CommentStatus.APPROVED:
        return None
    return _VERB_REACHING.get(action.from_state)


@dataclass(frozen=True)
class UndoOutcome:
    undone: ModerationAction
    changed: bool
    action: ModerationAction | None = None  # the new log entry


@transaction.atomic
def action_undo(*, action_id: int, actor: User, reason: str = "") -> UndoOutcome:
    """Undo the log entry ``action_id`` with its inverse verb (see the module doc).
    Undoing an entry undone already changes nothing (``changed=False``)."""
    original = (
        ModerationAction.objects.select_for_update(of=("self",))
        .select_related("comment__post", "ban")
        .filter(pk=action_id)
        .first()
    )
    if original is None:
        raise NotFound("No such log entry.")
    blog_id = original.blog_id
    if original.comment_id is not None:
        blog_id = original.comment.post.blog_id
    require_moderator(actor, blog_id)
    if ModerationAction.objects.filter(undoes=original).exists():
        return UndoOutcome(undone=original, changed=False)
    verb = undo_verb(original)
    if verb is None:
        raise Conflict(f"A “{original.get_action_display()}” decision cannot be undone here.")

    new: ModerationAction | None
    if verb == ActionKind.LIFT:
        _, changed = services.ban_lift(ban_id=original.ban_id, actor=actor, reason=reason)
        if not changed:
            raise Conflict("This ban was lifted already.")
        new = ModerationAction.objects.filter(ban_id=original.ban_id, action=verb).latest("id")
    else:
        outcome = services.comment_decide(
            comment_id=original.comment_id,
            action=verb,
            actor=actor,
            reason=reason,
            expected_state=original.to_state,
        )
        new = outcome.action
        if new is None:
            return UndoOutcome(undone=original, changed=False)
        before = original.details.get("reasons") if isinstance(original.details, dict) else None
        if verb == ActionKind.HOLD and before:
            # Back in the queue for the reasons it was there before.
            comment_set_state(comment=outcome.comment, moderation_reasons=list(before))
    ModerationAction.objects.filter(pk=new.pk).update(undoes=original)
    new.undoes = original
    return UndoOutcome(undone=original, changed=True, action=new)


@dataclass
class UndoTally:
    undone: list[ModerationAction] = field(default_factory=list)
    unchanged: int = 0


@transaction.atomic
def actions_undo(*, action_ids: Iterable[int], actor: User, reason: str = "") -> UndoTally:
    """Undo several entries together (a ban with the rejections made with it): all of
    them, or none when one cannot be undone. Newest first."""
    tally = UndoTally()
    for pk in sorted(set(action_ids), reverse=True):
        outcome = action_undo(action_id=pk, actor=actor, reason=reason)
        if outcome.changed:
            tally.undone.append(outcome.action)
        else:
            tally.unchanged += 1
    return tally


# --- ban a poster and reject what they have waiting ----------------------------------


@dataclass
class PosterSweep:
    ban: Ban
    ban_created: bool
    rejected: list[services.CommentOutcome]

    @property
    def log_entries(self) -> list[ModerationAction]:
        entries = [outcome.action for outcome in self.rejected if outcome.action is not None]
        if self.ban_created:
            entries += list(ModerationAction.objects.filter(ban=self.ban, action=ActionKind.BAN))
        return entries


@transaction.atomic
def poster_ban_and_reject(
    *,
    comment_id: int,
    actor: User,
    reason: str = "",
    expires_at: datetime.datetime | None = None,
) -> PosterSweep:
    """Ban the poster of ``comment_id`` from its blog (their account, or the network
    hash of a poster without one) and reject every comment of theirs held on that
    blog, in one transaction. A ban already in force is kept as it is."""
    comment = Comment.objects.select_related("post__blog", "author").filter(pk=comment_id).first()
    if comment is None:
        raise NotFound("No such comment.")
    blog = comment.post.blog
    require_moderator(actor, blog.pk)
    user = comment.author if comment.author_id is not None else None
    ip_hash = "" if user is not None else comment.ip_hash
    if user is None and not ip_hash:
        raise InvalidInput("Nothing identifies this comment's poster: there is no one to ban.")
    ban = selectors.active_ban_for(blog_id=blog.pk, user=user, ip_hash=ip_hash)
    created = False
    if ban is None:
        ban, created = services.ban_create(
            blog=blog, actor=actor, user=user, ip_hash=ip_hash, reason=reason, expires_at=expires_at
        )
    held = selectors.held_comments().filter(post__blog=blog)
    if user is not None:
        held = held.filter(author=user)
    else:
        held = held.filter(author__isnull=True, ip_hash=ip_hash)
    rejected = [
        services.comment_reject(
            comment_id=pk, actor=actor, reason=reason, expected_state=CommentStatus.PENDING
        )
        for pk in held.values_list("pk", flat=True)
    ]
    return PosterSweep(ban=ban, ban_created=created, rejected=rejected)


# --- many at once ----------------------------------------------------------------------

EDIT = selectors.EDIT_REASON  # the desk's kind of item for an edit awaiting review

# The desk's three buttons, and the verb each means for a comment, a post, an edit.
DESK_VERBS: dict[str, dict[str, str]] = {
    "approve": {
        TargetKind.COMMENT: ActionKind.APPROVE,
        TargetKind.POST: ActionKind.PUBLISH,
        EDIT: ActionKind.APPROVE_EDIT,
    },
    "reject": {
        TargetKind.COMMENT: ActionKind.REJECT,
        TargetKind.POST: ActionKind.REJECT,
        EDIT: ActionKind.REJECT_EDIT,
    },
    "spam": {TargetKind.COMMENT: ActionKind.SPAM},
}
# What became of an edit each verb settles.
_EDIT_OUTCOME = {
    ActionKind.APPROVE_EDIT: RevisionStatus.APPLIED,
    ActionKind.REJECT_EDIT: RevisionStatus.REJECTED,
}
_REVISION_WORDS = {
    RevisionStatus.APPLIED: "approved",
    RevisionStatus.REJECTED: "rejected",
    RevisionStatus.SPAM: "marked as spam",
}


@dataclass
class ItemResult:
    kind: str
    id: int
    changed: bool = False
    error: ServiceError | None = None
    action: ModerationAction | None = None


def item_decide(
    *,
    kind: str,
    item_id: int,
    decision: str,
    actor: User,
    reason: str = "",
    revision: int | None = None,
):
    """One of the desk's decisions (``DESK_VERBS``) on a queued item: a comment is
    expected to be still held (``pending``), an edit (``revision``: the version the
    moderator saw) still awaiting review, so a decision someone else took first
    is reported, never overturned. Its own transaction (the verb's)."""
    verbs = DESK_VERBS.get(decision)
    if verbs is None:
        raise InvalidInput(f"{decision!r} is not a valid choice.", field="decision")
    verb = verbs.get(kind)
    if verb is None:
        raise Conflict(f"A {kind} cannot be marked as {decision}.")
    if kind == EDIT:
        if revision is None:
            raise InvalidInput("Which version of the edit?", field="revision")
        return edit_decide(
            comment_id=item_id, verb=verb, revision=revision, actor=actor, reason=reason
        )
    if kind == TargetKind.COMMENT:
        return services.comment_decide(
            comment_id=item_id,
            action=verb,
            actor=actor,
            reason=reason,
            expected_state=CommentStatus.PENDING,
        )
    return services.post_decide(post_id=item_id, action=verb, actor=actor, reason=reason)


@transaction.atomic
def edit_decide(
    *, comment_id: int, verb: str, revision: int, actor: User, reason: str = ""
) -> services.CommentOutcome:
    """``approve_edit`` or ``reject_edit`` (``verb``) on the comment's edit awaiting
    review, if it is still version ``revision`` (the one the moderator read): a
    newer edit since, or another moderator's decision, is a ``Conflict`` saying
    so, never decided unseen; the same decision taken already changes nothing."""
    if verb not in _EDIT_OUTCOME:
        raise InvalidInput(f"{verb!r} is not a decision on an edit.", field="decision")
    comment = comment_lock(comment_id=comment_id)  # what settles an edit locks first
    require_moderator(actor, comment.post.blog_id)
    seen = (
        CommentRevision.objects.filter(comment_id=comment.pk, number=revision)
        .select_related("decided_by")
        .first()
    )
    if seen is None:
        raise NotFound("No such edit of this comment.")
    if seen.status == _EDIT_OUTCOME[verb]:
        return services.CommentOutcome(comment=comment, changed=False)
    if seen.status == RevisionStatus.SUPERSEDED:
        raise Conflict(
            "Its author edited it again since: the newer edit awaits review in its place.",
            extra={"revision_status": seen.status},
        )
    if seen.status != RevisionStatus.PENDING:
        by = f" by {seen.decided_by.username}" if seen.decided_by is not None else ""
        raise Conflict(
            f"This edit was {_REVISION_WORDS.get(seen.status, seen.status)}{by} already: "
            "another decision came first.",
            extra={"revision_status": seen.status},
        )
    return services.comment_decide(comment_id=comment.pk, action=verb, actor=actor, reason=reason)


def items_decide(
    *, items: Iterable[tuple[str, int]], decision: str, actor: User, reason: str = ""
) -> list[ItemResult]:
    """``item_decide`` on each ``(kind, id)``, each in its own transaction, so one
    conflict does not undo the others. Refusals are collected, not raised."""
    results = []
    for kind, pk in items:
        result = ItemResult(kind=kind, id=pk)
        try:
            outcome = item_decide(
                kind=kind, item_id=pk, decision=decision, actor=actor, reason=reason
            )
        except (Conflict, NotFound) as exc:
            result.error = exc
        else:
            result.changed, result.action = outcome.changed, outcome.action
        results.append(result)
    return results


# --- moderators' notes -------------------------------------------------------------------


@transaction.atomic
def note_add(*, comment_id: int, about: str, body: str, actor: User) -> ModeratorNote:
    """A note on the comment ``comment_id`` (``about="comment"``), or on its poster
    on that blog (``about="poster"``: their account, else their network hash)."""
    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    if comment is None:
        raise NotFound("No such comment.")
    require_moderator(actor, comment.post.blog_id)
    body = clean_text(body, field="note", max_length=NOTE_MAX_LENGTH).strip()
    subject: dict
    if about == "comment":
        subject = {"comment": comment}
    elif about == "poster":
        if comment.author_id is not None:
            subject = {"user_id": comment.author_id}
        elif comment.ip_hash:
            subject = {"ip_hash": comment.ip_hash}
        else:
            raise InvalidInput("Nothing identifies this comment's poster.", field="about")
    else:
        raise InvalidInput(f"{about!r} is not a valid choice.", field="about")
    return ModeratorNote.objects.create(
        blog_id=comment.post.blog_id, body=body, created_by=actor, **subject
    )
