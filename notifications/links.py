"""Signed links in mails. Each token is made with ``django.core.signing`` under a
salt of its own, so a token for one purpose never works for another; moderation
and confirmation tokens carry their time and expire."""

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

CONFIRM_SALT = "notifications.confirm"
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
MODERATE_SALT = "notifications.moderate"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def confirm_url(*, address_id: int, email: str) -> str:
    token = signing.dumps({"a": address_id, "e": email}, salt=CONFIRM_SALT, compress=True)
    return absolute(reverse("notifications-confirm", args=[token]))


def read_confirm(token: str) -> dict:
    """The token's content; ``signing.BadSignature`` (or ``SignatureExpired``) if not valid."""
    max_age = settings.NOTIFICATIONS["CONFIRM_LINK_SECONDS"]
    return signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)


def unsubscribe_url(**scope) -> str:
    """``scope``: ``a`` (address id) or ``u`` (user id), with ``p`` (post id) for one
    thread, or ``m=1`` for a moderator's queue mail. Never expires."""
    token = signing.dumps(scope, salt=UNSUBSCRIBE_SALT, compress=True)
    return absolute(reverse("notifications-unsubscribe", args=[token]))


def read_unsubscribe(token: str) -> dict:
    return signing.loads(token, salt=UNSUBSCRIBE_SALT)


def moderate_url(*, link_id: int) -> str:
    token = signing.dumps({"l": link_id}, salt=MODERATE_SALT)
    return absolute(reverse("notifications-moderate", args=[token]))


def read_moderate(token: str) -> dict:
    max_age = settings.NOTIFICATIONS["MODERATION_LINK_SECONDS"]
    return signing.loads(token, salt=MODERATE_SALT, max_age=max_age)


def post_url(post) -> str:
    return absolute(f"/api/posts/{post.pk}/")


def comment_url(comment) -> str:
    return absolute(f"/api/posts/{comment.post_id}/comments/#comment-{comment.pk}")


def desk_url(**filters) -> str:
    """The moderators' desk, filtered (``moderation.desk.forms.DeskFilters``' fields)."""
    query = f"?{urlencode(filters)}" if filters else ""
    return absolute(reverse("moderation_desk:desk") + query)
