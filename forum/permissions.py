"""Who may do what: plain predicates. DRF permission classes and services call these."""

from django.contrib.auth.models import AnonymousUser

from accounts.models import User

MODERATORS_GROUP = "Moderators"

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
