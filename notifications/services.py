"""Writes of the notifications app: reply subscriptions and their confirmation,
unsubscribing, moderators' mail links, and what accounts export and erase.

Mails are written to the outbox (``notifications.outbox``) in the same transaction
as the change that causes them; the worker sends them.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from forum.errors import Conflict, InvalidInput, NotFound
from forum.models import Comment, Post
from moderation import services as moderation
from notifications import content, links
from notifications.models import (
    Delivery,
    DigestItem,
    LinkTarget,
    MailAddress,
    ModerationLink,
    ReplySubscription,
    ThreadMute,
)
from notifications.outbox import enqueue_mail
from notifications.subscriptions import confirmation_due


@transaction.atomic
def reply_subscription_add(*, comment: Comment, email: str) -> ReplySubscription:
    """Keep ``email`` (normalized) for replies to ``comment``; an unconfirmed address
    is sent a confirmation mail (at most one per ``RESEND_AFTER``)."""
    address, _ = MailAddress.objects.get_or_create(email=email)
    address = MailAddress.objects.select_for_update().get(pk=address.pk)
    subscription, _ = ReplySubscription.objects.get_or_create(
        address=address, comment=comment, defaults={"post_id": comment.post_id}
    )
    if confirmation_due(address):
        address.confirmation_sent_at = timezone.now()
        address.save(update_fields=["confirmation_sent_at"])
        enqueue_mail(content.confirmation(address=address, comment=comment), kind="confirm")
    return subscription


def _signed(reader, token: str) -> dict:
    try:
        return reader(token)
    except signing.SignatureExpired as exc:
        raise InvalidInput("This link has expired.") from exc
    except signing.BadSignature as exc:
        raise NotFound("This link is not valid.") from exc


def address_for_confirmation(*, token: str) -> MailAddress:
    data = _signed(links.read_confirm, token)
    address = MailAddress.objects.filter(pk=data.get("a"), email=data.get("e")).first()
    if address is None:
        raise NotFound("This address is no longer subscribed.")
    return address


@transaction.atomic
def address_confirm(*, token: str) -> MailAddress:
    """Confirm the address of a confirmation link (idempotent)."""
    address = address_for_confirmation(token=token)
    if address.confirmed_at is None:
        address.confirmed_at = timezone.now()
        address.save(update_fields=["confirmed_at"])
    return address


@dataclass(frozen=True)
class Unsubscription:
    scope: dict
    description: str


def unsubscription_for(*, token: str) -> Unsubscription:
    scope = _signed(links.read_unsubscribe, token)
    if "m" in scope:
        text = "Stop moderation mail to this account."
    elif "p" in scope:
        post = Post.objects.filter(pk=scope["p"]).first()
        title = post.title if post else "a deleted post"
        text = f"Stop reply mail from the thread “{title}”."
    elif "a" in scope:
        text = "Stop all mail to this address, and forget it."
    else:
        text = "Stop all reply mail to this account."
    return Unsubscription(scope=scope, description=text)


@transaction.atomic
def unsubscribe(*, token: str) -> Unsubscription:
    """Apply an unsubscribe link (idempotent: a second use changes nothing)."""
    found = unsubscription_for(token=token)
    scope = found.scope
    if "a" in scope:
        address = MailAddress.objects.filter(pk=scope["a"]).first()
        if address is not None and "p" in scope:
            ReplySubscription.objects.filter(address=address, post_id=scope["p"]).delete()
        elif address is not None:
            # Everything: the address is erased, with what was queued or logged for it.
            Delivery.objects.filter(recipient=address.email).delete()
            address.delete()
    elif "u" in scope:
        user = User.objects.filter(pk=scope["u"]).first()
        if user is not None and "m" in scope:
            User.objects.filter(pk=user.pk).update(moderator_mail="none")
            DigestItem.objects.filter(user=user).delete()
        elif user is not None and "p" in scope:
            if Post.objects.filter(pk=scope["p"]).exists():
                ThreadMute.objects.get_or_create(user=user, post_id=scope["p"])
        elif user is not None:
            User.objects.filter(pk=user.pk).update(notify_replies=False)
    return found


# --- moderators' links --------------------------------------------------------------


def moderation_link_create(*, user: User, target: str, target_id: int, action: str) -> str:
    """A new single-use link for ``user``; returns its URL."""
    seconds = settings.NOTIFICATIONS["MODERATION_LINK_SECONDS"]
    link = ModerationLink.objects.create(
        user=user,
        target=target,
        target_id=target_id,
        action=action,
        expires_at=timezone.now() + datetime.timedelta(seconds=seconds),
    )
    return links.moderate_url(link_id=link.pk)


def moderation_link_get(*, token: str, lock: bool = False) -> ModerationLink:
    data = _signed(links.read_moderate, token)
    links_ = ModerationLink.objects.select_related("user")
    if lock:
        links_ = links_.select_for_update(of=("self",))
    link = links_.filter(pk=data.get("l")).first()
    if link is None:
        raise NotFound("This link is not valid.")
    if link.used_at is not None:
        raise Conflict("This link was used already: each link works once.")
    if link.expires_at <= timezone.now():
        raise InvalidInput("This link has expired.")
    return link


def moderation_link_target(link: ModerationLink) -> Comment | Post | None:
    if link.target == LinkTarget.COMMENT:
        return Comment.objects.select_related("post").filter(pk=link.target_id).first()
    return Post.objects.filter(pk=link.target_id).first()


@transaction.atomic
def moderation_link_use(*, token: str):
    """Take the decision a moderator's mail link stands for, through the moderation
    services (permission check, audit log), as that moderator. The link and its
    siblings for the same item are used up."""
    link = moderation_link_get(token=token, lock=True)
    ModerationLink.objects.filter(
        user=link.user, target=link.target, target_id=link.target_id, used_at__isnull=True
    ).update(used_at=timezone.now())
    if link.target == LinkTarget.COMMENT:
        return moderation.comment_decide(
            comment_id=link.target_id,
            action=link.action,
            actor=link.user,
            reason="Decided from a moderation mail.",
            expected_state="pending",
        )
    return moderation.post_decide(
        post_id=link.target_id,
        action=link.action,
        actor=link.user,
        reason="",
    )


# --- accounts (settings.ACCOUNTS hooks) ------------------------------------------------


def account_export(*, user: User) -> dict:
    """What the account's export shows of its mail settings and subscriptions."""
    return {
        "notifications": {
            "notify_replies": user.notify_replies,
            "moderator_mail": user.moderator_mail,
            "muted_threads": list(
                ThreadMute.objects.filter(user=user)
                .order_by("post_id")
                .values_list("post_id", flat=True)
            ),
        }
    }


def account_erase(*, user: User) -> None:
    """Erasure: the account's subscriptions, queued mail and mail log go with it."""
    ThreadMute.objects.filter(user=user).delete()
    DigestItem.objects.filter(user=user).delete()
    ModerationLink.objects.filter(user=user).delete()
    if user.email:
        Delivery.objects.filter(recipient__iexact=user.email).delete()
