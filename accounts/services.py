"""Account writes: registration, profile changes."""

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from forum.errors import InvalidInput
from forum.models import Comment, Post
from forum.services import clean_text

__all__ = ["InvalidInput", "user_register", "user_set_password_or_create", "user_update"]


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
