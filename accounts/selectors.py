"""Reads about accounts: the public profile (``GET /api/users/{username}/``)."""

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Length, Substr

from accounts.models import User
from forum.errors import NotFound
from forum.models import Comment, CommentStatus, Post, PostStatus, public_comment_q
from forum.permissions import MODERATORS_GROUP


def _count(queryset) -> Subquery:
    return Coalesce(
        Subquery(queryset.order_by().values("author_id").annotate(n=Count("pk")).values("n")), 0
    )


def _hidden_ancestor() -> Exists:
    """An ancestor of the (outer) comment is hidden: then it is not public either
    (``forum.models.visible_comment_q``, written for a subquery: an ancestor's path is
    a prefix of the comment's)."""
    return Exists(
        Comment.objects.filter(
            post_id=OuterRef("post_id"),
            depth__lt=OuterRef("depth"),
            path=Substr(OuterRef("path"), 1, Length("path")),
        ).exclude(public_comment_q())
    )


def profile_get(*, username: str) -> User:
    """The account ``username`` with its public profile in one query:
    ``public_comment_count`` (public comments on published posts, none under a
    hidden comment),
    ``guest_post_count`` (published guest posts) and ``moderates``. 404 for no such
    account, an inactive one, and one that hides its profile."""
    user = (
        User.objects.filter(username=username, is_active=True, profile_hidden=False)
        .annotate(
            public_comment_count=_count(
                Comment.objects.filter(
                    author_id=OuterRef("pk"),
                    status=CommentStatus.APPROVED,
                    removed_at__isnull=True,
                    post__status=PostStatus.PUBLISHED,
                ).exclude(_hidden_ancestor())
            ),
            guest_post_count=_count(
                Post.objects.filter(
                    author_id=OuterRef("pk"), is_guest=True, status=PostStatus.PUBLISHED
                )
            ),
            moderates=Q(is_superuser=True)
            | Exists(
                User.groups.through.objects.filter(
                    user_id=OuterRef("pk"), group__name=MODERATORS_GROUP
                )
            ),
        )
        .first()
    )
    if user is None:
        raise NotFound("No such profile.")
    return user


def profile_user(*, username: str) -> User:
    """The account behind a visible profile, without its counts (one small query)."""
    user = (
        User.objects.filter(username=username, is_active=True, profile_hidden=False)
        .only("pk")
        .first()
    )
    if user is None:
        raise NotFound("No such profile.")
    return user
