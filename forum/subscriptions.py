"""The e-mail address a poster without an account may give with a comment, to hear
of replies (``"email"`` on ``POST /api/posts/{id}/comments/``).

The forum only hands the address on, in the comment's transaction, to the class
named by ``settings.FORUM["REPLY_SUBSCRIPTIONS"]`` (the notifications app's, which
keeps it, asks for confirmation and rate-limits the confirmation mails), so the
forum never imports notifications. The address is never stored in a forum table.
"""

from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from forum import services
from forum.errors import InvalidInput
from forum.models import Comment


class NoReplySubscriptions:
    """No reply mail: an address given with a comment is refused."""

    def check(self, *, email: str, client_ip: str) -> None:
        """Raise a ``forum.errors.ServiceError`` when no address may be taken now
        (before anything is written)."""
        raise InvalidInput("Reply notifications by e-mail are not offered here.", field="email")

    def subscribe(self, *, comment: Comment, email: str, client_ip: str) -> None:
        """Keep ``email`` for replies to ``comment`` (inside the comment's transaction)."""


@cache
def _handler_class(dotted_path: str) -> type:
    return import_string(dotted_path)


def get_handler() -> NoReplySubscriptions:
    path = settings.FORUM.get("REPLY_SUBSCRIPTIONS") or "forum.subscriptions.NoReplySubscriptions"
    return _handler_class(path)()


def comment_create_subscribed(*, email: str, client_ip: str, **comment: object) -> Comment:
    """``forum.services.comment_create``, and when ``email`` is given, a reply
    subscription for it in the same transaction. Posters with an account choose
    reply mail in their account (``notify_replies``) instead."""
    if not email:
        return services.comment_create(**comment)
    author = comment.get("author")
    if author is not None and author.is_authenticated:
        raise InvalidInput(
            "Posters with an account get reply mail at their account's address: "
            'PATCH /api/accounts/me/ {"notify_replies": true}.',
            field="email",
        )
    handler = get_handler()
    handler.check(email=email, client_ip=client_ip)
    with transaction.atomic():
        created = services.comment_create(**comment)
        handler.subscribe(comment=created, email=email, client_ip=client_ip)
    return created
