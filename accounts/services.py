"""Account writes: registration, profile changes."""

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from forum.errors import InvalidInput
from forum.models import Comment, Flag, Post, RemovalKind
from forum.services import clean_text, comment_lock, comment_set_state, threads_changed

__all__ = [
    "InvalidInput",
    "user_erase",
    "user_export",
    "user_register",
    "user_set_password_or_create",
    "user_update",
]


def _clean_display_name(display_name: str) -> str:
    cleaned = clean_text(display_name, field="display_name", max_length=80, min_length=0)
    return " ".join(cleaned.split())


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from exc


@transaction.atomic
def user_register(*, username: str, password: str, email: str = "", display_name: str = "") -> User:
    """Create an account. Usernames are unique regardless of case."""
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="username") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput("A user with that username already exists.", field="username")
    user = User(username=username, email=email, display_name=_clean_display_name(display_name))
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration took the name
        raise InvalidInput("A user with that username already exists.", field="username") from exc
    return user


@transaction.atomic
def user_update(*, user: User, display_name: str) -> User:
    """Change the caller's display name, and the name shown on what they wrote."""
    user.display_name = _clean_display_name(display_name)
    user.save(update_fields=["display_name"])
    Comment.objects.filter(author=user).update(author_name=user.public_name)
    Post.objects.filter(author=user).update(author_name=user.public_name)
    # The new name shows in every thread they wrote in.
    threads_changed(post_ids=Comment.objects.filter(author=user).values_list("post_id", flat=True))
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


def user_export(*, user: User) -> dict:
    """Everything the forum holds about ``user``, for them to take away."""
    comments = Comment.objects.filter(author=user).select_related("post").order_by("created_at")
    return {
        "account": {
            "username": user.username,
            "display_name": user.display_name,
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
    }


class ErasureChoice:
    ANONYMIZE = "anonymize"
    REMOVE = "remove"
    CHOICES = (ANONYMIZE, REMOVE)


@transaction.atomic
def user_erase(*, user: User, password: str, comments: str = ErasureChoice.ANONYMIZE) -> None:
    """Erase an account. Its comments stay in their threads, either anonymous
    (``anonymize``) or as removed-by-author tombstones (``remove``), so no reply
    loses its place; then the account itself is deleted."""
    if not user.check_password(password):
        raise InvalidInput("The password is not correct.", field="password")
    if comments not in ErasureChoice.CHOICES:
        raise InvalidInput(f"Choose one of {', '.join(ErasureChoice.CHOICES)}.", field="comments")
    own = Comment.objects.filter(author=user)
    if comments == ErasureChoice.REMOVE:
        for comment_id in own.filter(removed_at__isnull=True).values_list("pk", flat=True):
            comment_set_state(
                comment=comment_lock(comment_id=comment_id),
                removed=True,
                removal_kind=RemovalKind.AUTHOR,
            )
    threads_changed(post_ids=own.values_list("post_id", flat=True))
    own.update(author=None, author_name="")
    Post.objects.filter(author=user).update(author=None, author_name="")
    Flag.objects.filter(reporter=user).update(reporter=None)
    user.delete()
