"""Bans: an account or an IP hash kept from commenting on a blog, until a time or
until lifted. A ban keeps its own record (``created_by``/``created_at``/``reason``
and ``lifted_by``/``lifted_at``/``lift_reason``), and making or lifting one writes
its row in the audit log too (``moderation.audit``), in the same transaction.
``moderation.services`` re-exports these services."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from forum.errors import Conflict, InvalidInput, NotFound
from forum.models import Blog
from forum.permissions import is_moderator
from forum.text import clean_reason
from moderation import audit
from moderation.models import Ban
from moderation.permissions import require_moderator


def ban_validate(
    *, user: User | None, ip_hash: str, expires_at: datetime.datetime | None, reason: str = ""
) -> None:
    """Refuse a ban that could never be made (``InvalidInput``); writes nothing."""
    clean_reason(reason)
    if (user is None) == (not ip_hash):
        raise InvalidInput("Ban either an account or an IP hash, not both or neither.")
    if user is not None and is_moderator(user):
        raise InvalidInput("Moderators cannot be banned.", field="user")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput("The end of a ban must be in the future.", field="expires_at")


@transaction.atomic
def ban_create(
    *,
    blog: Blog,
    actor: User,
    user: User | None = None,
    ip_hash: str = "",
    reason: str = "",
    expires_at: datetime.datetime | None = None,
) -> tuple[Ban, bool]:
    """Ban an account or an IP hash from commenting on ``blog``, until ``expires_at``
    (None: until lifted). Banning again with the same end changes nothing
    (``created=False``); a different end while a ban is in force is a ``Conflict``
    (lift it first). An expired ban still open is closed on the way."""
    require_moderator(actor, blog.pk)
    ban_validate(user=user, ip_hash=ip_hash, expires_at=expires_at, reason=reason)
    reason = clean_reason(reason)
    now = timezone.now()

    subject = {"user": user} if user is not None else {"ip_hash": ip_hash}
    for open_ban in Ban.objects.select_for_update().filter(
        blog=blog, lifted_at__isnull=True, **subject
    ):
        if not open_ban.is_active(now):
            open_ban.lifted_at = open_ban.expires_at
            open_ban.save(update_fields=["lifted_at"])
        elif open_ban.expires_at == expires_at:
            return open_ban, False
        else:
            raise Conflict(
                "Already banned from this blog"
                + (f" until {open_ban.expires_at.isoformat()}" if open_ban.expires_at else "")
                + "; lift that ban first.",
                extra={"ban": open_ban.pk},
            )
    try:
        with transaction.atomic():
            ban = Ban.objects.create(
                blog=blog,
                created_by=actor,
                created_at=now,
                reason=reason,
                expires_at=expires_at,
                **subject,
            )
    except IntegrityError as exc:  # another moderator banned the same subject just now
        raise Conflict("Already banned from this blog; lift that ban first.") from exc
    audit.ban_made(ban=ban, actor=actor)
    return ban, True


@transaction.atomic
def ban_lift(*, ban_id: int, actor: User, reason: str = "") -> tuple[Ban, bool]:
    """End a ban now. Lifting a lifted ban changes nothing (``changed=False``)."""
    ban = Ban.objects.select_for_update().filter(pk=ban_id).first()
    if ban is None:
        raise NotFound("No such ban.")
    require_moderator(actor, ban.blog_id)
    if ban.lifted_at is not None:
        return ban, False
    ban.lifted_at = timezone.now()
    ban.lifted_by = actor
    ban.lift_reason = clean_reason(reason)
    ban.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    audit.ban_lifted(ban=ban, actor=actor)
    return ban, True
