"""Who may do what: plain predicates. DRF permission classes and services call these."""

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from forum.tokens import token_matches

MODERATORS_GROUP = "Moderators"

if TYPE_CHECKING:
    from forum.models import Comment

AnyUser = User | AnonymousUser | None


def is_moderator(user: AnyUser) -> bool:
    """Members of the Moderators group and superusers moderate every blog."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    # Cache on the instance: the same request asks more than once.
    cached = getattr(user, "_forum_is_moderator", None)
    if cached is None:
        cached = user.groups.filter(name=MODERATORS_GROUP).exists()
        user._forum_is_moderator = cached
    return cached


def bypasses_moderation(user: AnyUser) -> bool:
    """Moderators' and staff's own comments are approved under every policy."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or is_moderator(user)


def is_comment_author(user: AnyUser, comment: "Comment", edit_token: str | None) -> bool:
    """The logged-in author, or (for comments without an account) the token holder."""
    if comment.author_id is not None:
        return user is not None and user.is_authenticated and comment.author_id == user.pk
    return token_matches(edit_token, comment.edit_token_hash)


def within_edit_window(comment: "Comment", now: datetime.datetime) -> bool:
    return (now - comment.created_at).total_seconds() <= settings.FORUM["EDIT_WINDOW_SECONDS"]
