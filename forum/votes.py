"""Readers' votes and moderators' pins: the writes behind ``score`` and ``pinned``.

Votes: one ``Vote`` row per voter per comment (``voter_key``: ``user:<id>`` or
``ip:<keyed hash>`` of the network, as flags count readers), +1 or -1; 0 takes the
vote back (the row is deleted). The comment's ``score``/``votes_up``/``votes_down``
move in the same transaction, under the comment's row lock, so concurrent votes
serialize and the counters always equal the rows (a check constraint holds
``score = votes_up - votes_down``). Votes never change a comment's status: they
order the thread (``sort=top``), nothing else.

Pins: ``comment_pin_set`` is the forum verb moderation's ``pin``/``unpin`` decisions
call (moderation audits them). At most ``MAX_PINNED_PER_POST`` per post: the post
row is locked and ``Post.pinned_count`` (a check constraint caps it) moves with the
pin. Only public top-level comments can be pinned; a pinned comment that stops
being public loses its pin (``forum.comment_tree``), so ``pinned_count`` is always
the number of pinned comments the thread shows.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from forum.access import comment_lock, comment_visible
from forum.errors import Conflict, InvalidInput, NotFound, NotPermitted
from forum.models import (
    MAX_PINNED_PER_POST,
    Comment,
    CommentStatus,
    Post,
    Vote,
)
from forum.permissions import AnyUser, bypasses_moderation
from forum.policy import get_policy
from forum.posts import post_lock
from forum.thread_cache import thread_changed

VOTE_VALUES = (1, -1, 0)


def voter_key(*, user: AnyUser, ip_hash: str) -> str:
    """Who a vote belongs to: the account, or the keyed hash of the network."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip_hash}"


@dataclass(frozen=True)
class VoteOutcome:
    comment: Comment  # with its counters after the vote
    my_vote: int  # the caller's vote now: 1, -1 or 0
    changed: bool


def _is_own(comment: Comment, *, user: AnyUser, ip_hash: str) -> bool:
    if user is not None and user.is_authenticated:
        return comment.author_id == user.pk
    # Without an account the network hash is all there is: a reader may not vote
    # on a comment written without an account from their own network.
    return comment.author_id is None and bool(ip_hash) and comment.ip_hash == ip_hash


@transaction.atomic
def vote_cast(*, comment_id: int, value: int, user: AnyUser, ip_hash: str) -> VoteOutcome:
    """Set the caller's vote on a public comment to ``value`` (1, -1; 0 takes it back).

    404 for a comment the public cannot see (or a removed one), 403 for one's own
    comment, for a reader the policy refuses (``check_can_vote``: a ban on the blog)
    and for a down-vote where the blog's policy has them off (``downvotes_allowed``).
    Voting the same again changes nothing.
    """
    if type(value) is not int or value not in VOTE_VALUES:
        raise InvalidInput("A vote is 1, -1 or 0.", field="value")
    user = user if user is not None and user.is_authenticated else None
    if user is None and not ip_hash:
        raise NotPermitted("Votes without an account need the network to be known.")
    comment = comment_lock(comment_id=comment_id)
    if comment.is_removed or not comment_visible(comment):  # a hidden ancestor hides it too
        raise NotFound("No such comment.")
    if _is_own(comment, user=user, ip_hash=ip_hash):
        raise NotPermitted("You cannot vote on your own comment.")
    if not bypasses_moderation(user):
        get_policy().check_can_vote(post=comment.post, user=user, ip_hash=ip_hash)
    if value == -1 and not get_policy().downvotes_allowed(comment.post):
        raise NotPermitted("Down-votes are off on this blog.")

    key = voter_key(user=user, ip_hash=ip_hash)
    existing = Vote.objects.filter(comment_id=comment.pk, voter_key=key).first()
    old = existing.value if existing is not None else 0
    if old == value:
        return VoteOutcome(comment=comment, my_vote=value, changed=False)
    now = timezone.now()
    if value == 0:
        existing.delete()
    elif existing is None:
        Vote.objects.create(comment=comment, voter=user, voter_key=key, value=value, created_at=now)
    else:
        Vote.objects.filter(pk=existing.pk).update(value=value, updated_at=now)

    up = int(value == 1) - int(old == 1)
    down = int(value == -1) - int(old == -1)
    Comment.objects.filter(pk=comment.pk).update(
        votes_up=F("votes_up") + up, votes_down=F("votes_down") + down, score=F("score") + up - down
    )
    comment.votes_up += up
    comment.votes_down += down
    comment.score += up - down
    thread_changed(post_id=comment.post_id)
    return VoteOutcome(comment=comment, my_vote=value, changed=True)


def my_votes(*, post_id: int, user: AnyUser, ip_hash: str) -> dict[int, int]:
    """The caller's votes on a post's comments, ``{comment_id: value}``: one indexed
    query (``vote_voter_idx``), so a client shows its own votes beside a thread
    that is cached and the same for everyone."""
    key = voter_key(user=user, ip_hash=ip_hash)
    if key == "ip:":
        return {}
    rows = Vote.objects.filter(voter_key=key, comment__post_id=post_id).values_list(
        "comment_id", "value"
    )
    return dict(rows)


def comment_pin_set(*, comment: Comment, pinned: bool) -> bool:
    """Pin or unpin a locked comment (``comment_lock``; inside the caller's
    transaction). Returns whether anything changed. Refuses (409) to pin a comment
    that is not public and top-level, or a fourth on one post."""
    if pinned == (comment.pinned_at is not None):
        return False
    post = post_lock(post_id=comment.post_id)
    state = {"status": comment.status, "removed": comment.is_removed}
    if pinned:
        if comment.parent_id is not None:
            raise Conflict("Only top-level comments can be pinned.", extra=state)
        if comment.status != CommentStatus.APPROVED or comment.is_removed:
            raise Conflict("Only published comments can be pinned.", extra=state)
        if post.pinned_count >= MAX_PINNED_PER_POST:
            raise Conflict(
                f"This post has {MAX_PINNED_PER_POST} pinned comments already; unpin one first.",
                extra=state,
            )
    comment.pinned_at = timezone.now() if pinned else None
    Comment.objects.filter(pk=comment.pk).update(pinned_at=comment.pinned_at)
    Post.objects.filter(pk=post.pk).update(pinned_count=F("pinned_count") + (1 if pinned else -1))
    thread_changed(post_id=comment.post_id)
    return True
