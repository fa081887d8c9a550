"""Counting readers' flags by person, not by request.

A take-down (``forum.services.flag_create``) needs flags from several distinct
*people*. What counts as one person (the README's "Abuse and privacy" says the same):

* an **established account** (older than the policy's ``account_min_age_days`` and
  with at least one approved comment) is a person of its own; one the policy trusts
  (``trusted_after`` approved comments on the blog) weighs ``trusted_weight``;
* everyone else (anonymous readers, new accounts, accounts without an approved
  comment) is counted by **network**: all of them from one IPv4 /24 or IPv6 /64
  (``forum.identity.network_hash``) are one person together;
* an established account and the anonymous or new flags from its network are that
  account alone: the network adds nobody beside it.

So registering accounts, clearing cookies or hopping addresses within a network
never adds a person. A flag without a network (recorded before networks were)
counts by its reporter.
"""

import datetime

from django.db.models import Count, Q
from django.utils import timezone

from forum.models import Comment, CommentStatus, Flag
from forum.policy import FlagRules


def flag_people(*, comment: Comment, rules: FlagRules) -> int:
    """The weight of the distinct people behind ``comment``'s open flags. Two
    queries: the flags with their reporters, the reporters' approved comments."""
    flags = list(
        Flag.objects.filter(comment_id=comment.pk, resolved_at__isnull=True).values_list(
            "reporter_id", "reporter__date_joined", "network_hash", "reporter_key"
        )
    )
    reporter_ids = {reporter_id for reporter_id, *_ in flags if reporter_id is not None}
    approved: dict[int, tuple[int, int]] = {}
    if reporter_ids:
        rows = (
            Comment.objects.filter(
                author_id__in=reporter_ids,
                status=CommentStatus.APPROVED,
                removed_at__isnull=True,
            )
            .values("author_id")
            .annotate(total=Count("id"), here=Count("id", filter=Q(post__blog_id=_blog(comment))))
            .values_list("author_id", "total", "here")
        )
        approved = {author_id: (total, here) for author_id, total, here in rows}
    cutoff = timezone.now() - datetime.timedelta(days=rules.account_min_age_days)
    accounts: dict[str, int] = {}  # network -> weight of its established accounts
    crowds: set[str] = set()  # networks with anonymous or new-account flags
    for reporter_id, joined, network, reporter_key in flags:
        network = network or reporter_key
        if reporter_id is not None:
            total, here = approved.get(reporter_id, (0, 0))
            if total > 0 and joined is not None and joined <= cutoff:
                trusted = rules.trusted_after is not None and here >= rules.trusted_after
                weight = rules.trusted_weight if trusted else 1
                accounts[network] = accounts.get(network, 0) + weight
                continue
        crowds.add(network)
    return sum(accounts.values()) + len(crowds - accounts.keys())


def _blog(comment: Comment) -> int:
    return comment.post.blog_id
