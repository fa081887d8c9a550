"""The one hook through which moderation shapes what the forum accepts.

The services ask the policy two things about a new comment: may this poster post
here at all (``check_can_post``: bans, closed threads), and is the comment published
at once or held (``decide``), with the reasons. The policy is the class named by
``settings.FORUM["COMMENT_POLICY"]``; the forum's own ``OpenPolicy`` publishes
everything, and the moderation app provides the real one, so the forum never
imports moderation. Whatever the policy says, moderators', staff's and the post
author's own comments are published.
"""

from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from forum.models import CommentStatus, Post
from forum.permissions import AnyUser, bypasses_moderation
from forum.rendering import render_text

# The reason code of a comment taken down by readers' flags.
FLAGGED_REASON = "flagged"


@dataclass(frozen=True)
class Decision:
    status: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class FlagRules:
    """How flags are counted on a post (``forum.flags``): ``threshold`` people take a
    comment down (None: never); an account younger than ``account_min_age_days``
    or without an approved comment counts with its network; an account with at
    least ``trusted_after`` approved comments on the blog (None: none is trusted)
    weighs ``trusted_weight``."""

    threshold: int | None
    account_min_age_days: int
    trusted_after: int | None
    trusted_weight: int


@dataclass(frozen=True)
class Submission:
    """What the policy knows about a comment being written."""

    post: Post
    author: AnyUser
    author_name: str
    body: str
    parent_id: int | None
    ip_hash: str = ""
    # The body as readers will see it (``forum.rendering.render_text``): the services
    # render it once and pass it, so a policy counting links does not render again.
    body_html: str | None = None

    def rendered(self) -> str:
        return self.body_html if self.body_html is not None else render_text(self.body)


class OpenPolicy:
    """No moderation: everyone may post, every comment is published at once."""

    def check_can_post(self, submission: Submission) -> None:
        """Raise a ``forum.errors.ServiceError`` when the poster may not post here."""

    def decide(self, submission: Submission) -> Decision:
        return Decision(status=CommentStatus.APPROVED)

    def flag_threshold(self, post: Post) -> int | None:
        """How many distinct people's open flags (``forum.flags``) take an approved
        comment down (None: flags never do)."""
        return settings.FORUM["FLAG_HIDE_THRESHOLD"]

    def flag_rules(self, post: Post) -> "FlagRules":
        """Who counts as a person when flags are counted on ``post`` (``forum.flags``)."""
        return FlagRules(
            threshold=self.flag_threshold(post),
            account_min_age_days=settings.NEW_ACCOUNT_DAYS,
            trusted_after=None,
            trusted_weight=1,
        )

    def downvotes_allowed(self, post: Post) -> bool:
        """Whether readers may vote comments on ``post`` down (up-votes always)."""
        return True

    def check_can_vote(self, *, post: Post, user: AnyUser, ip_hash: str) -> None:
        """Raise a ``forum.errors.ServiceError`` when this reader may not vote here."""


@cache
def _policy_class(dotted_path: str) -> type:
    return import_string(dotted_path)


def get_policy() -> OpenPolicy:
    return _policy_class(settings.FORUM["COMMENT_POLICY"])()


def _is_exempt(submission: Submission) -> bool:
    author = submission.author
    if bypasses_moderation(author):
        return True
    return author is not None and author.is_authenticated and submission.post.author_id == author.pk


def check_can_post(submission: Submission) -> None:
    if bypasses_moderation(submission.author):
        return
    get_policy().check_can_post(submission)


def decide_comment_status(submission: Submission) -> Decision:
    if _is_exempt(submission):
        return Decision(status=CommentStatus.APPROVED)
    return get_policy().decide(submission)
