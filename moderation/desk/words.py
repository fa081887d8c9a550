"""What the desk says in words: reasons, states, decisions (names, never ids)."""

from collections import Counter

from django.utils.text import Truncator

from forum.models import FlagReason
from moderation import audit
from moderation.models import ActionKind, ModerationAction, ModerationMode, TargetKind

REASONS = {
    "anonymous": "posted anonymously",
    "first_post": "first comments from this poster",
    "hold_all": "this blog holds every comment",
    "spam_check": "the spam checker says spam",
    "spam_check_unavailable": "the spam checker did not answer",
    "moderator_hold": "returned to the queue by a moderator",
    "guest_post": "guest post awaiting review",
    "edit": "an edit of a published comment awaits review",
}
PAST = {
    ActionKind.APPROVE: "Approved",
    ActionKind.REJECT: "Rejected",
    ActionKind.SPAM: "Marked as spam",
    ActionKind.REMOVE: "Removed",
    ActionKind.RESTORE: "Restored",
    ActionKind.HOLD: "Returned to the queue",
    ActionKind.PUBLISH: "Published",
    ActionKind.APPROVE_EDIT: "Approved the edit of",
    ActionKind.REJECT_EDIT: "Rejected the edit of",
}
STATES = {
    "pending": "held",
    "approved": "approved",
    "rejected": "rejected",
    "spam": "spam",
    "removed": "removed",
    "tombstone": "removed (tombstone)",
    "edit_pending": "edit awaiting review",
    "edit_approved": "edit approved",
    "edit_rejected": "edit rejected",
}
FLAG_REASONS = dict(FlagReason.choices)
MODES = dict(ModerationMode.choices)


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def reasons(codes: list[str], *, link_count: int = 0, flags: list | None = None) -> list[str]:
    """``["anonymous", "links", "watched_word:guaranteed", "flagged"]`` → "posted
    anonymously", "2 links", "watched word: guaranteed", "flagged 3 times: abuse, spam"."""
    flags = flags or []
    words = []
    for code in codes:
        name, _, word = code.partition(":")
        if code in REASONS:
            words.append(REASONS[code])
        elif name == "links":
            words.append(plural(link_count, "link") if link_count else "links")
        elif name == "watched_word":
            words.append(f"watched word: {word}")
        elif name == "blocked_word":
            words.append(f"blocked word: {word}")
        elif name == "flagged":
            continue  # said below, with the flags
        else:
            words.append(code.replace("_", " "))
    if flags or "flagged" in codes:
        kinds = Counter(FLAG_REASONS.get(f.reason, f.reason).lower() for f in flags)
        said = f"flagged {plural(len(flags), 'time')}" if flags else "taken down by readers' flags"
        if kinds:
            said += ": " + ", ".join(sorted(kinds))
        words.append(said)
    return words


def excerpt(text: str, length: int = 60) -> str:
    return Truncator(" ".join(text.split())).chars(length)


def target(action: ModerationAction) -> str:
    """What a log entry is about, in words."""
    if action.target_kind == TargetKind.COMMENT and action.comment is not None:
        comment = action.comment
        who = f"{comment.author_name}'s comment" if comment.author_name else "an anonymous comment"
        return f"{who} on “{excerpt(comment.post.title)}”"
    if action.target_kind == TargetKind.POST and action.post is not None:
        return f"the post “{excerpt(action.post.title)}”"
    if action.target_kind == TargetKind.BAN and action.ban is not None:
        subject = audit.ban_subject(action.ban)
        who = (
            f"account {subject['account']}"
            if "account" in subject
            else f"network {subject['network']}…"
        )
        return f"{who} on {action.ban.blog.name}"
    if action.blog is not None:
        return f"the policy of {action.blog.name}"
    return "an item"


def decision(action: ModerationAction) -> str:
    """A log entry as a sentence: "Approved Nat's comment on “A post”"."""
    if action.action == ActionKind.BAN:
        return f"Banned {target(action)}"
    if action.action == ActionKind.LIFT:
        return f"Lifted the ban of {target(action)}"
    if action.action == ActionKind.POLICY:
        changed = ", ".join(sorted((action.details or {}).get("after", {})))
        return f"Changed {target(action)}" + (f": {changed}" if changed else "")
    if action.action == ActionKind.HOLD:
        return f"Returned {target(action)} to the queue"
    return f"{PAST.get(action.action, action.action)} {target(action)}"


def transition(action: ModerationAction) -> str:
    if action.target_kind == TargetKind.POLICY:
        details = action.details or {}
        before, after = details.get("before", {}), details.get("after", {})
        return "; ".join(
            f"{name}: {before.get(name, '—')!s} → {after[name]!s}".replace("\n", ", ")
            for name in sorted(after)
        )
    return f"{STATES.get(action.from_state, action.from_state)} → " + STATES.get(
        action.to_state, action.to_state
    )
