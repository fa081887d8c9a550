"""The public thread read: one page of a post's comments, nested, from plain rows in
at most three queries whatever the size of the thread (``thread_page``).

``_nest`` builds, in one tight loop, the dicts ``forum.selectors.comment_as_dict``
builds one by one (the API tests hold the two to each other field by field);
``UtcTextFormatter`` writes the timestamps as ``iso_datetime`` does, many times
faster. ``forum.api.thread`` caches and sends the pages.
"""

import datetime
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection
from django.utils import timezone

from forum.display import author_display
from forum.errors import NotFound
from forum.models import (
    COMMENT_TABLE,
    PATH_STEP_WIDTH,
    POST_TABLE,
    PUBLIC_COMMENT_SQL,
    CommentStatus,
    PostStatus,
)
from forum.selectors import author_is_moderator_sql, iso_datetime


class UtcTextFormatter:
    """Timestamps as the database stores them in UTC text, ``YYYY-MM-DD HH:MM:SS`` with
    an optional ``.ffffff``, written the way ``iso_datetime`` writes them: ISO 8601 in
    ``tz``, ``Z`` for UTC.

    The local text of an hour (and its offset) is worked out once per distinct UTC
    hour; each timestamp is then a few slices and a join, many times cheaper than a
    ``datetime`` per row. An hour in which ``tz`` changes its offset, and offsets
    that are not whole hours (which shift the minutes), go the slow way.
    """

    def __init__(self, tz: datetime.tzinfo) -> None:
        self.tz = tz
        # UTC hour ("YYYY-MM-DD HH") -> (local "YYYY-MM-DDTHH", offset), or None: slow way
        self.hours: dict[str, tuple[str, str] | None] = {}

    def _hour(self, key: str) -> tuple[str, str] | None:
        start = datetime.datetime.fromisoformat(key + ":00:00").replace(tzinfo=datetime.UTC)
        local = start.astimezone(self.tz)
        offset = local.utcoffset()
        end = (start + datetime.timedelta(seconds=3599, microseconds=999_999)).astimezone(self.tz)
        if offset is None or offset != end.utcoffset() or offset.total_seconds() % 3600:
            return None
        text = local.isoformat()  # YYYY-MM-DDTHH:00:00+HH:MM
        suffix = text[19:]
        return text[:13], "Z" if suffix == "+00:00" else suffix

    def __call__(self, raw: str | None) -> str | None:
        if raw is None:
            return None
        if len(raw) in (19, 26):
            key = raw[:13]
            try:
                parts = self.hours[key]
            except KeyError:
                parts = self.hours[key] = self._hour(key)
            if parts is not None:
                fraction = raw[19:]
                if fraction == ".000000":
                    fraction = ""
                return parts[0] + raw[13:19] + fraction + parts[1]
        value = datetime.datetime.fromisoformat(raw)
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return iso_datetime(value, self.tz)


@dataclass(frozen=True)
class ThreadPage:
    """One page of a post's thread: top-level comments with nested ``replies``.

    A page is addressed by number (``page``) or by cursor (``page`` is None): then
    ``first_path``/``last_path`` are where the next and previous pages start, and
    ``more_before``/``more_after`` say whether there are any.
    """

    count: int  # public top-level comments of the post
    page: int | None
    page_size: int
    results: list[dict[str, Any]] = field(default_factory=list)
    first_path: str | None = None  # path of the first top-level comment on the page
    last_path: str | None = None
    more_before: bool = False
    more_after: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_next(self) -> bool:
        if self.page is None:
            return self.more_after
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        if self.page is None:
            return self.more_before
        return self.page > 1


_TOP_SQL = f"parent_id IS NULL AND {PUBLIC_COMMENT_SQL}"
_TOP_INDEX = "comment_public_top_idx"
_PUBLISHED = PostStatus.PUBLISHED.value
_APPROVED = CommentStatus.APPROVED.value


def _utc_text(column: str) -> str:
    """SQL for a timestamp column as UTC text (``UtcTextFormatter``'s input), skipping
    the driver's per-row datetime conversion."""
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    # SQLite stores that text already; CAST hides the column's declared type, so the
    # driver hands over the text instead of parsing it.
    return f"CAST({column} AS TEXT)"


def _thread_rows_sql(*, bounded: bool, replies_limit: int | None) -> str:
    # The last column: whether the author moderates (a badge), looked up per row in
    # the same query, so the page stays at three queries.
    alias = "numbered" if replies_limit else COMMENT_TABLE
    columns = (
        "id, parent_id, depth, author_name, body, body_html, removed_at IS NOT NULL, "
        f"{_utc_text('created_at')}, {_utc_text('edited_at')}, reply_count, "
        f"{author_is_moderator_sql(alias)}"
    )
    bound = "AND path < %s" if bounded else ""
    where = f"post_id = %s AND path >= %s {bound} AND {PUBLIC_COMMENT_SQL}"
    if replies_limit is None:
        return f"SELECT {columns} FROM {COMMENT_TABLE} WHERE {where} ORDER BY path"  # noqa: S608
    if replies_limit == 0:
        return f"SELECT {columns} FROM {COMMENT_TABLE} WHERE {where} AND depth = 0 ORDER BY path"  # noqa: S608
    # Each top-level comment and the first ``replies_limit`` of its replies (any depth,
    # display order): a path's first step names its top-level comment.
    return (
        f"SELECT {columns} FROM (SELECT *, ROW_NUMBER() OVER ("  # noqa: S608
        f"PARTITION BY substr(path, 1, {PATH_STEP_WIDTH}) ORDER BY path) AS place "
        f"FROM {COMMENT_TABLE} WHERE {where}) AS numbered WHERE place <= %s ORDER BY path"
    )


def _top_paths(
    cursor, *, post_id: int, limit: int, offset: int, after: str | None, before: str | None
) -> list[str]:
    """Paths of public top-level comments from the partial index alone: the
    ``limit`` after ``offset``, or after / before (nearest first) a cursor's path."""
    table = COMMENT_TABLE
    if connection.vendor == "sqlite":
        # Left to itself, SQLite's planner prefers the (post, parent, path) index,
        # whose rows it must then look up one by one to check the rest of the
        # condition; PostgreSQL picks the partial index by itself.
        table += f" INDEXED BY {_TOP_INDEX}"
    sql = f"SELECT path FROM {table} WHERE post_id = %s AND {_TOP_SQL}"  # noqa: S608
    params: list[Any] = [post_id]
    if before is not None:
        sql += " AND path < %s ORDER BY path DESC LIMIT %s"
        params += [before, limit]
    elif after is not None:
        sql += " AND path > %s ORDER BY path LIMIT %s"
        params += [after, limit]
    else:
        sql += " ORDER BY path LIMIT %s OFFSET %s"
        params += [limit, offset]
    cursor.execute(sql, params)
    return [row[0] for row in cursor.fetchall()]


def _nest(rows: list[tuple], post_id: int, tz: datetime.tzinfo) -> list[dict[str, Any]]:
    """Rows in path order → top-level comments with nested ``replies``, in one pass.

    Builds what ``comment_as_dict`` builds (the API tests hold the two to each other)
    without a function call per row. A comment whose parent is not on the page (a
    hidden comment) is dropped with its subtree.
    """
    timestamp = UtcTextFormatter(tz)
    hours = timestamp.hours  # the formatter's fast path, inlined for created_at below
    results: list[dict[str, Any]] = []
    nodes: dict[int, dict[str, Any]] = {}
    shown: dict[str, tuple[str | None, str, bool]] = {}  # author_display, once per name
    approved = _APPROVED
    for (
        comment_id,
        parent_id,
        depth,
        name,
        body,
        body_html,
        removed,
        created_at,
        edited_at,
        reply_count,
        badge,
    ) in rows:
        if parent_id is None:
            siblings = results
        else:
            parent = nodes.get(parent_id)
            if parent is None:
                continue
            siblings = parent["replies"]
        removed = bool(removed)
        parts = hours.get(created_at[:13])
        if parts is not None and len(created_at) in (19, 26):
            fraction = created_at[19:]
            created = parts[0] + created_at[13:19] + ("" if fraction == ".000000" else fraction)
            created += parts[1]
        else:
            created = timestamp(created_at)
        author = shown.get(name)
        if author is None:
            author = shown[name] = author_display(name)
        node = {
            "id": comment_id,
            "post": post_id,
            "parent": parent_id,
            "depth": depth,
            "author_name": author[0],
            "display_name": author[1],
            "is_anonymous": author[2],
            "body": None if removed else body,
            "body_html": None if removed else body_html,
            "status": approved,
            "removed": removed,
            "created_at": created,
            "edited_at": None if edited_at is None else timestamp(edited_at),
            "reply_count": reply_count,
            "author_is_moderator": bool(badge),
            "replies": [],
        }
        nodes[comment_id] = node
        siblings.append(node)
    return results


def thread_page(
    *,
    post_id: int,
    page_size: int,
    page: int | Literal["last"] | None = 1,
    after: str | None = None,
    before: str | None = None,
    replies_limit: int | None = None,
) -> ThreadPage:
    """A page of the public thread of a published post.

    Top-level comments oldest first, ``page_size`` of them, each with its replies
    nested under ``replies`` to any depth, oldest first. The page is page number
    ``page`` (1-based, or ``"last"``), or with a cursor the top-level comments
    right ``after`` (or right ``before``) the top-level comment at that path.
    ``replies_limit`` keeps only each top-level comment's first ``replies_limit``
    replies (any depth, display order; 0: none); ``reply_count`` still counts them
    all. At most three queries whatever the size of the thread:

    1. the post (published) and its denormalized count of public top-level comments;
    2. the paths of this page's top-level comments, from the partial index
       ``comment_public_top_idx`` alone (plus one, where the next page starts);
    3. one range scan over ``(post, path)`` fetching the page's top-level comments
       and their public descendants in path (= display) order, on the raw cursor
       with timestamps as text (no per-row ORM conversion).

    A public comment whose parent is hidden (not public) is dropped with its subtree.
    Raises ``NotFound`` when the post does not exist or is not published, and when a
    page number is out of range (page 1 of an empty thread is not); a cursor past
    either end gives an empty page.
    """
    if page is not None and (after is not None or before is not None):
        raise ValueError("a page is addressed by number or by cursor, not both")
    if not 0 < post_id < 2**63:  # no such row, and the drivers refuse such numbers
        raise NotFound("Post not found.")
    # On the primary ("default") even when a read replica is configured: pages go into
    # the shared cache under the version the services bump after commit, and must not
    # be rendered from a replica that has not caught up (config/replicas.py).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT top_level_count FROM {POST_TABLE} WHERE id = %s AND status = %s",  # noqa: S608
            [post_id, _PUBLISHED],
        )
        found = cursor.fetchone()
        if found is None:
            raise NotFound("Post not found.")
        count = found[0]

        number: int | None = None
        offset = 0
        if page is not None:
            num_pages = max(1, math.ceil(count / page_size))
            number = num_pages if page == "last" else page
            if not 1 <= number <= num_pages:
                raise NotFound("Invalid page.")
            offset = (number - 1) * page_size
            if count == 0:
                return ThreadPage(count=0, page=number, page_size=page_size)

        paths = _top_paths(
            cursor,
            post_id=post_id,
            limit=page_size + 1,
            offset=offset,
            after=after,
            before=before,
        )
        more = len(paths) > page_size
        if before is not None:
            # Nearest first: the extra one (if any) is the furthest back; the page
            # ends where the cursor's comment starts.
            paths = paths[:page_size][::-1]
            end = before
        else:
            end = paths[page_size] if more else None
            paths = paths[:page_size]
        if not paths:  # past either end of the thread, or it shrank meanwhile
            return ThreadPage(
                count=count,
                page=number,
                page_size=page_size,
                more_before=after is not None,
                more_after=before is not None,
            )

        params: list[Any] = [post_id, paths[0]] + ([end] if end is not None else [])
        if replies_limit:
            params.append(replies_limit + 1)
        cursor.execute(
            _thread_rows_sql(bounded=end is not None, replies_limit=replies_limit), params
        )
        rows = cursor.fetchall()

    return ThreadPage(
        count=count,
        page=number,
        page_size=page_size,
        results=_nest(rows, post_id, timezone.get_current_timezone()),
        first_path=paths[0],
        last_path=paths[-1],
        more_before=more if before is not None else after is not None,
        more_after=more if before is None else True,
    )
