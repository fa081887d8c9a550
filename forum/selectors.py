"""Reads of blogs, posts and comments: what the API (and anything else) lists and shows.

Querysets carry the ``select_related`` and annotations their output needs, so that a
page of results costs a constant number of queries. The comment thread is the
performance-critical read: ``thread_page`` builds it from plain rows in three queries
whatever the size of the thread (see its docstring).

``comment_as_dict`` is the one definition of a comment's public shape; the thread
and the API's comment serializer both use it, so the two can never drift apart.
"""

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from forum.errors import NotFound
from forum.models import (
    PATH_STEP_WIDTH,
    Blog,
    Comment,
    Post,
    PostStatus,
    path_step,
    public_comment_q,
)
from forum.permissions import AnyUser, is_comment_author, is_moderator
from forum.tokens import token_matches

ANONYMOUS_NAME = "Anonymous"

# Exactly the columns a comment's representation reads (``comment_as_dict``).
COMMENT_COLUMNS = (
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
)


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

    The public (``include_hidden=False``) sees what ``public_comment_q`` lets through,
    on published posts only; moderators see every comment in every state.
    """
    queryset = Comment.objects.all()
    if not include_hidden:
        queryset = queryset.filter(public_comment_q(), post__status=PostStatus.PUBLISHED)
    return queryset.order_by("post_id", "path")


def published_post_get(*, post_id: int) -> Post:
    post = Post.objects.published().select_related("blog").filter(pk=post_id).first()
    if post is None:
        raise NotFound("No such post.")
    return post


def blog_get(*, slug: str) -> Blog | None:
    return Blog.objects.filter(slug=slug).first()


def comment_get(*, comment_id: int) -> Comment | None:
    return Comment.objects.select_related("post").filter(pk=comment_id).first()


def comment_get_for_viewer(*, comment_id: int, user: AnyUser, edit_token: str | None) -> Comment:
    """A comment as its viewer may see it: the public sees public comments of
    published posts; moderators see every comment; the author (account or edit
    token) sees their own in any state, e.g. while it waits for moderation."""
    comment = comment_get(comment_id=comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    if is_moderator(user) or is_comment_author(user, comment, edit_token):
        return comment
    if comment.is_public and comment.post.status == PostStatus.PUBLISHED:
        return comment
    raise NotFound("No such comment.")


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
    name = row["author_name"]
    removed = row["removed_at"] is not None
    return {
        "id": row["id"],
        "post": row["post_id"],
        "parent": row["parent_id"],
        "depth": row["depth"],
        "author_name": name or None,
        "display_name": name or ANONYMOUS_NAME,
        "is_anonymous": not name,
        "body": None if removed else row["body"],
        "body_html": None if removed else row["body_html"],
        "status": row["status"],
        "removed": removed,
        "created_at": iso_datetime(row["created_at"], tz),
        "edited_at": iso_datetime(row["edited_at"], tz),
        "reply_count": row["reply_count"],
    }


def comment_row(comment: Comment) -> dict[str, Any]:
    """A model instance as the row ``comment_as_dict`` reads."""
    return {column: getattr(comment, column) for column in COMMENT_COLUMNS}


@dataclass(frozen=True)
class ThreadPage:
    """One page of a post's thread: top-level comments with nested ``replies``."""

    count: int  # public top-level comments of the post
    page: int
    page_size: int
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _path_upper_bound(last_top_path: str) -> str | None:
    """The smallest top-level path after ``last_top_path`` (None: there is none)."""
    following = int(last_top_path) + 1
    if following >= 10**PATH_STEP_WIDTH:
        return None
    return path_step(following)


def thread_page(*, post_id: int, page: int | Literal["last"], page_size: int) -> ThreadPage:
    """Page ``page`` (1-based, or ``"last"``) of the public thread of a published post.

    Top-level comments oldest first, ``page_size`` of them, each with its replies
    nested under ``replies`` to any depth, oldest first. Three queries whatever the
    size of the thread:

    1. the post (published) with the count of its public top-level comments;
    2. the paths of this page's top-level comments;
    3. one range scan over ``(post, path)`` fetching this page's top-level comments
       and all their public descendants, in path (= display) order, as plain rows.

    A public comment whose parent is hidden (not public) is dropped with its subtree.
    Raises ``NotFound`` when the post does not exist or is not published, and when
    the page is out of range (page 1 of an empty thread is not).
    """
    top_level = Comment.objects.filter(post_id=OuterRef("pk"), parent__isnull=True).filter(
        public_comment_q()
    )
    counted = top_level.order_by().values("post_id").annotate(n=Count("pk")).values("n")[:1]
    counts = list(
        Post.objects.published()
        .filter(pk=post_id)
        .order_by()
        .annotate(
            top_level_count=Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
        )
        .values_list("top_level_count", flat=True)
    )
    if not counts:
        raise NotFound("Post not found.")
    count = counts[0]

    num_pages = max(1, math.ceil(count / page_size))
    number = num_pages if page == "last" else page
    if not 1 <= number <= num_pages:
        raise NotFound("Invalid page.")
    if count == 0:
        return ThreadPage(count=0, page=number, page_size=page_size)

    offset = (number - 1) * page_size
    top_paths = list(
        Comment.objects.filter(post_id=post_id, parent__isnull=True)
        .filter(public_comment_q())
        .order_by("path")
        .values_list("path", flat=True)[offset : offset + page_size]
    )
    if not top_paths:  # the thread shrank between the two queries
        return ThreadPage(count=count, page=number, page_size=page_size)

    in_range = Q(post_id=post_id, path__gte=top_paths[0])
    upper = _path_upper_bound(top_paths[-1])
    if upper is not None:
        in_range &= Q(path__lt=upper)
    rows = Comment.objects.filter(in_range, public_comment_q()).order_by("path")

    tz = timezone.get_current_timezone()
    results: list[dict[str, Any]] = []
    nodes: dict[int, dict[str, Any]] = {}
    for row in rows.values(*COMMENT_COLUMNS):
        parent_id = row["parent_id"]
        if parent_id is None:
            siblings = results
        else:
            parent = nodes.get(parent_id)
            if parent is None:  # hidden parent: drop this comment and its subtree
                continue
            siblings = parent["replies"]
        node = comment_as_dict(row, tz)
        node["replies"] = []
        nodes[row["id"]] = node
        siblings.append(node)
    return ThreadPage(count=count, page=number, page_size=page_size, results=results)
