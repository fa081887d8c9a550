"""The one place where a new comment's first status is decided.

``decide_comment_status`` is what the services call. The policy behind it is named
by ``settings.FORUM["COMMENT_POLICY"]`` (a dotted path to a function with the
signature of ``approve_all``), so the moderation app replaces it without the forum
importing moderation. Whatever the policy says, moderators' and staff's own
comments are approved.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

from forum.models import CommentStatus, Post
from forum.permissions import AnyUser, bypasses_moderation


@dataclass(frozen=True)
class Decision:
    status: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


def approve_all(
    *, post: Post, author: AnyUser, author_name: str, body: str, parent_id: int | None
) -> Decision:
    """The policy until moderation lands: every comment is published at once."""
    return Decision(status=CommentStatus.APPROVED)


def decide_comment_status(
    *, post: Post, author: AnyUser, author_name: str, body: str, parent_id: int | None
) -> Decision:
    if bypasses_moderation(author):
        return Decision(status=CommentStatus.APPROVED)
    policy = import_string(settings.FORUM["COMMENT_POLICY"])
    return policy(post=post, author=author, author_name=author_name, body=body, parent_id=parent_id)
