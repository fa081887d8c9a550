"""Who may moderate: a plain predicate (services and the admin call it) and its DRF adapter."""

from rest_framework.permissions import BasePermission

from forum.errors import NotPermitted
from forum.models import Blog
from forum.permissions import AnyUser, is_moderator


def can_moderate(user: AnyUser, blog: Blog | int | None = None) -> bool:
    """May ``user`` take moderation decisions on ``blog`` (a blog or its id; None: any)?

    Today the Moderators group (and superusers) moderate every blog; ``blog`` is the
    place where per-blog moderators would be checked.
    """
    return is_moderator(user)


def require_moderator(user: AnyUser, blog: Blog | int | None = None) -> None:
    """``can_moderate``, or ``NotPermitted`` (403): the check every moderation service makes."""
    if not can_moderate(user, blog):
        raise NotPermitted("Only moderators can do this.")


class IsModerator(BasePermission):
    def has_permission(self, request, view) -> bool:
        return can_moderate(request.user)
