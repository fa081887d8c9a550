"""Account writes: registration, profile changes."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from accounts import lockout
from accounts.models import ModeratorMail, User
from forum.authors import DetachMode, author_detach, author_renamed
from forum.errors import InvalidInput
from forum.models import Comment, Post
from forum.names import refuse_reserved_name
from forum.text import clean_name

__all__ = [
    "InvalidInput",
    "user_erase",
    "user_export",
    "user_register",
    "user_set_password_or_create",
    "user_update",
]


def _clean_display_name(display_name: str, user: User | None = None) -> str:
    name = clean_name(display_name, field="display_name")
    refuse_reserved_name(name, field="display_name", user=user)
    return name


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from exc


@transaction.atomic
def user_register(*, username: str, password: str, email: str = "", display_name: str = "") -> User:
    """Create an account. Usernames are stored in Unicode NFKC form (as Django's
    ``create_user`` and admin forms do) and are unique regardless of case, so that
    compatibility look-alikes (fullwidth letters, the ligature U+FB01 for "fi") are
    the name they look like, not a second account."""
    username = User.normalize_username(username)
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="username") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput("A user with that username already exists.", field="username")
    refuse_reserved_name(username, field="username")
    user = User(username=username, email=email, display_name=_clean_display_name(display_name))
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration took the name
        raise InvalidInput("A user with that username already exists.", field="username") from exc
    return user


MODERATOR_MAIL_CHOICES = tuple(ModeratorMail.values)


@transaction.atomic
def user_update(
    *,
    user: User,
    display_name: str | None = None,
    notify_replies: bool | None = None,
    moderator_mail: str | None = None,
    profile_hidden: bool | None = None,
) -> User:
    """Change the caller's settings that are given: the display name (and the name
    shown on what they wrote), reply mail (``notify_replies``), moderation mail
    (``moderator_mail``: immediate, hourly digest or none), and whether the public
    profile is hidden (``profile_hidden``)."""
    fields = []
    if profile_hidden is not None:
        user.profile_hidden = profile_hidden
        fields.append("profile_hidden")
    if notify_replies is not None:
        user.notify_replies = notify_replies
        fields.append("notify_replies")
    if moderator_mail is not None:
        if moderator_mail not in MODERATOR_MAIL_CHOICES:
            raise InvalidInput(
                f"Choose one of {', '.join(MODERATOR_MAIL_CHOICES)}.", field="moderator_mail"
            )
        user.moderator_mail = moderator_mail
        fields.append("moderator_mail")
    if fields:
        user.save(update_fields=fields)
    if display_name is None:
        return user
    user.display_name = _clean_display_name(display_name, user)
    user.save(update_fields=["display_name"])
    author_renamed(user=user)
    return user


@transaction.atomic
def user_set_password_or_create(*, username: str, password: str, display_name: str = "") -> User:
    """Used by the demo setup: the account exists afterwards with this password."""
    user = User.objects.filter(username=username).first()
    if user is None:
        return user_register(username=username, password=password, display_name=display_name)
    _check_password(password, user)
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user


def _hooks(name: str) -> list:
    return [import_string(path) for path in settings.ACCOUNTS.get(name, [])]


def user_export(*, user: User) -> dict:
    """Everything the forum holds about ``user``, for them to take away (plus what
    the ``settings.ACCOUNTS["EXPORT_HOOKS"]`` add: mail subscriptions)."""
    comments = Comment.objects.filter(author=user).select_related("post").order_by("created_at")
    export = {
        "account": {
            "username": user.username,
            "display_name": user.display_name,
            "profile_hidden": user.profile_hidden,
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "comments": [
            {
                "id": c.pk,
                "post": {"id": c.post_id, "title": c.post.title},
                "parent": c.parent_id,
                "body": c.body,
                "status": c.status,
                "removed": c.is_removed,
                "created_at": c.created_at.isoformat(),
                "edited_at": c.edited_at.isoformat() if c.edited_at else None,
            }
            for c in comments
        ],
        "posts": [
            {"id": p.pk, "title": p.title, "status": p.status, "body": p.body}
            for p in Post.objects.filter(author=user).order_by("created_at")
        ],
        "flags": [
            {"comment": f.comment_id, "reason": f.reason, "note": f.note}
            for f in user.flags.order_by("created_at")
        ],
        "votes": [
            {"comment": v.comment_id, "value": v.value, "created_at": v.created_at.isoformat()}
            for v in user.votes.order_by("created_at")
        ],
    }
    for hook in _hooks("EXPORT_HOOKS"):
        export.update(hook(user=user))
    return export


ErasureChoice = DetachMode  # what becomes of the erased account's comments


def user_erase(
    *,
    user: User,
    password: str,
    comments: str = ErasureChoice.ANONYMIZE,
    network: str = "unknown",
) -> None:
    """Erase an account. Its comments stay in their threads, either anonymous
    (``anonymize``) or as removed-by-author tombstones (``remove``), so no reply
    loses its place; then the account itself is deleted.

    The password is checked like a sign-in from ``network`` (``accounts.lockout``):
    a wrong one counts as a failure (outside the erasure's transaction, so it stays
    counted), and a locked account is refused with ``LockedOut`` (429)."""
    if comments not in ErasureChoice.CHOICES:
        raise InvalidInput(f"Choose one of {', '.join(ErasureChoice.CHOICES)}.", field="comments")
    lockout.verify_password(user=user, password=password, network=network)
    _erase(user=user, comments=comments)


@transaction.atomic
def _erase(*, user: User, comments: str) -> None:
    author_detach(user=user, mode=comments)
    for hook in _hooks("ERASE_HOOKS"):
        hook(user=user)
    user.delete()
