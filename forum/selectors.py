"""Reads of blogs, posts and comments: what the API (and anything else) lists and shows.

Querysets carry the ``select_related`` and annotations their output needs, so that a
page of results costs a constant number of queries. The comment thread is the
performance-critical read: ``thread_page`` builds it from plain rows in three queries
whatever the size of the thread (see its docstring).

``comment_as_dict`` is the one definition of a comment's public shape; the API's
comment serializer uses it, and the thread builds the same dicts in its own tight
loop (``_nest``), which the API tests compare with it field by field.
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import BooleanField, Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from forum.access import comment_access
from forum.display import author_display
from forum.errors import NotFound
from forum.models import (
    COMMENT_TABLE,
    POST_TABLE,
    Blog,
    Comment,
    CommentRevision,
    CommentStatus,
    Post,
    PostStatus,
    RevisionStatus,
    visible_comment_q,
)
from forum.permissions import MODERATORS_GROUP, AnyUser, is_moderator
from forum.tokens import token_matches

# The model fields a comment's representation reads (``comment_as_dict``), and
# with them the ``author_is_moderator`` annotation (``_with_badge``): COMMENT_COLUMNS.
COMMENT_FIELDS = (
    "id",
    "post_id",
    "parent_id",
    "depth",
    "author_name",
    "body",
    "body_html",
    "status",
    "removed_at",
    "created_at",
    "edited_at",
    "reply_count",
    "body_format",
    "score",
    "votes_up",
    "votes_down",
    "pinned_at",
)
COMMENT_COLUMNS = (*COMMENT_FIELDS, "author_is_moderator")


def author_is_moderator_sql(alias: str = COMMENT_TABLE) -> str:
    """SQL true when the comment row ``alias`` was written by an account that
    moderates (``forum.permissions.is_moderator``: active, and a superuser or in the
    Moderators group): what clients badge. One indexed lookup per row."""
    users = User._meta.db_table
    memberships = User.groups.through._meta.db_table
    groups = Group._meta.db_table
    return (
        f"({alias}.author_id IS NOT NULL AND EXISTS (SELECT 1 FROM {users} badge_user "  # noqa: S608
        f"WHERE badge_user.id = {alias}.author_id AND badge_user.is_active AND "
        f"(badge_user.is_superuser OR EXISTS (SELECT 1 FROM {memberships} badge_member "
        f"JOIN {groups} badge_group ON badge_group.id = badge_member.group_id "
        "WHERE badge_member.user_id = badge_user.id AND "
        f"badge_group.name = '{MODERATORS_GROUP}'))))"
    )


def _with_badge(queryset: QuerySet[Comment]) -> QuerySet[Comment]:
    # Built from constants only (no input reaches the SQL).
    badge = RawSQL(author_is_moderator_sql(), (), output_field=BooleanField())  # noqa: S611
    return queryset.annotate(author_is_moderator=badge)


# --- blogs and posts ---------------------------------------------------------


def blog_list() -> QuerySet[Blog]:
    """Blogs by name, each with ``post_count``: its published posts."""
    return Blog.objects.annotate(
        post_count=Count("posts", filter=Q(posts__status=PostStatus.PUBLISHED))
    ).order_by("name", "slug")


def post_list() -> QuerySet[Post]:
    """Published posts, newest first, with their blog."""
    return Post.objects.published().select_related("blog").order_by("-published_at", "-id")


# --- comments ----------------------------------------------------------------


def comment_list(*, include_hidden: bool = False) -> QuerySet[Comment]:
    """Comments in thread order (by post, then path).

    The public (``include_hidden=False``) sees what ``visible_comment_q`` lets through
    (public, and no ancestor hidden), on published posts only; moderators see every
    comment in every state.
    """
    queryset = _with_badge(Comment.objects.all())
    if not include_hidden:
        queryset = queryset.filter(visible_comment_q(), post__status=PostStatus.PUBLISHED)
    return queryset.order_by("post_id", "path")


def published_post_get(*, post_id: int) -> Post:
    post = Post.objects.published().select_related("blog").filter(pk=post_id).first()
    if post is None:
        raise NotFound("No such post.")
    return post


def post_is_published(*, post_id: int) -> bool:
    """Whether the post exists and is published (one indexed query on the primary)."""
    if not 0 < post_id < 2**63:
        return False
    return Post.objects.using("default").filter(pk=post_id, status=PostStatus.PUBLISHED).exists()


def post_for_new_comment(*, post_id: int) -> Post:
    """The published post a comment is being added to, in one plain query: no related
    rows (the services and the moderation policy read only its own columns) and no
    ORM query compilation, which costs several times the query on this hot path."""
    if not 0 < post_id < 2**63:
        raise NotFound("No such post.")
    found = list(
        Post.objects.raw(
            f"SELECT * FROM {POST_TABLE} WHERE id = %s AND status = %s",  # noqa: S608
            [post_id, PostStatus.PUBLISHED.value],
        )
    )
    if not found:
        raise NotFound("No such post.")
    return found[0]


def comment_for_reply(*, comment_id: int) -> Comment | None:
    """The comment a reply goes under (or None), in one plain query, like
    ``post_for_new_comment``; ``forum.services.comment_create`` checks the rest."""
    if not 0 < comment_id < 2**63:
        return None
    found = list(
        Comment.objects.raw(f"SELECT * FROM {COMMENT_TABLE} WHERE id = %s", [comment_id])  # noqa: S608
    )
    return found[0] if found else None


def comment_pending_edit(comment: Comment) -> CommentRevision | None:
    """The edit of ``comment`` awaiting a moderator's review, if any (what its author
    and moderators see; the public sees the approved text)."""
    cached = getattr(comment, "pending_edit", _UNSET)
    if cached is not _UNSET:
        return cached
    return CommentRevision.objects.filter(
        comment_id=comment.pk, status=RevisionStatus.PENDING
    ).first()


_UNSET = object()


def comment_revisions(*, comment_id: int) -> QuerySet[CommentRevision]:
    """Every version of a comment's text, oldest first, with who wrote and who
    decided it (moderators only: ``moderation.api``)."""
    return (
        CommentRevision.objects.filter(comment_id=comment_id)
        .select_related("edited_by", "decided_by")
        .order_by("number")
    )


def blog_get(*, slug: str) -> Blog | None:
    return Blog.objects.filter(slug=slug).first()


def comment_get_for_viewer(*, comment_id: int, user: AnyUser, edit_token: str | None) -> Comment:
    """A comment as its viewer may see it (``forum.access.comment_access``): the
    public sees public comments of published posts; moderators see every comment;
    the author (account or edit token) sees their own in any state, e.g. while it
    waits for moderation."""
    return comment_access(comment_id=comment_id, user=user, edit_token=edit_token)


def guest_post_get_for_submitter(*, post_id: int, edit_token: str | None) -> Post:
    """A guest post as its submitter follows it (with the token given at submission)."""
    post = Post.objects.select_related("blog").filter(pk=post_id, is_guest=True).first()
    if post is None or not token_matches(edit_token, post.edit_token_hash):
        raise NotFound("No such guest post, or a wrong X-Edit-Token.")
    return post


def iso_datetime(value: datetime.datetime | None, tz: datetime.tzinfo) -> str | None:
    """``value`` as DRF's ``DateTimeField`` writes it by default (ISO 8601 in the
    current time zone, ``Z`` for UTC), without building a serializer field."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def comment_as_dict(row: Mapping[str, Any], tz: datetime.tzinfo | None = None) -> dict[str, Any]:
    """The public representation of one comment (API.md), from a row holding
    ``COMMENT_COLUMNS`` (a ``.values()`` dict, or see ``comment_row``)."""
    if tz is None:
        tz = timezone.get_current_timezone()
    author_name, display_name, is_anonymous = author_display(row["author_name"])
    removed = row["removed_at"] is not None
    return {
        "id": row["id"],
        "post": row["post_id"],
        "parent": row["parent_id"],
        "depth": row["depth"],
        "author_name": author_name,
        "display_name": display_name,
        "is_anonymous": is_anonymous,
        "body": None if removed else row["body"],
        "body_html": None if removed else row["body_html"],
        "status": row["status"],
        "removed": removed,
        "created_at": iso_datetime(row["created_at"], tz),
        "edited_at": iso_datetime(row["edited_at"], tz),
        "reply_count": row["reply_count"],
        "format": row["body_format"],
        "score": row["score"],
        "votes_up": row["votes_up"],
        "votes_down": row["votes_down"],
        "pinned": row["pinned_at"] is not None,
        "author_is_moderator": bool(row.get("author_is_moderator")),
    }


def comment_row(comment: Comment) -> dict[str, Any]:
    """A model instance as the row ``comment_as_dict`` reads (``author_is_moderator``
    from its annotation, ``comment_list``'s, or looked up)."""
    row = {column: getattr(comment, column, None) for column in COMMENT_COLUMNS}
    if not hasattr(comment, "author_is_moderator"):
        row["author_is_moderator"] = comment.author_id is not None and is_moderator(comment.author)
    return row


def author_public_comments(*, author_id: int) -> QuerySet[Comment]:
    """An account's public comments on published posts, newest first (tombstones
    left out: they show nothing of the author; so are comments under a hidden
    one, ``visible_comment_q``). Only the columns the comment shape
    reads."""
    return (
        _with_badge(Comment.objects.all())
        .filter(
            visible_comment_q(),
            author_id=author_id,
            status=CommentStatus.APPROVED,
            removed_at__isnull=True,
            post__status=PostStatus.PUBLISHED,
        )
        .only(*COMMENT_FIELDS)
        .order_by("-created_at", "-id")
    )


def replies_to(*, user_id: int, since: datetime.datetime | None = None) -> QuerySet[Comment]:
    """Public replies to the account's comments on published posts (its own replies
    to itself left out, and replies under a hidden comment: ``visible_comment_q``),
    newest first; with ``since``, only those written after it."""
    queryset = (
        _with_badge(Comment.objects.all())
        .filter(
            visible_comment_q(),
            removed_at__isnull=True,
            parent__author_id=user_id,
            post__status=PostStatus.PUBLISHED,
        )
        .exclude(author_id=user_id)
    )
    if since is not None:
        queryset = queryset.filter(created_at__gt=since)
    return queryset.only(*COMMENT_FIELDS).order_by("-created_at", "-id")
