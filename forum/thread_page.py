"""The public thread read: one page of a post's comments, nested, from plain rows in
at most three queries whatever the size of the thread (``thread_page``).

The rows' columns, the statements reading them and the loop nesting them
(``_nest``, ``UtcTextFormatter``) live in ``forum.thread_rows``, re-exported here.
``forum.api.thread`` caches and sends the pages.
"""

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection
from django.utils import timezone

from forum.errors import NotFound
from forum.models import (
    COMMENT_TABLE,
    POST_TABLE,
    PUBLIC_COMMENT_SQL,
    PostStatus,
)
from forum.thread_rows import (  # noqa: F401  (re-exported: the names' old home)
    _APPROVED,
    UtcTextFormatter,
    _hour_parts,
    _nest,
    _path_after,
    _row_columns,
    _subtrees,
    _subtrees_sql,
    _thread_rows_sql,
    _utc_text,
)


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
    sort: str = "oldest"
    # sort=top: the scores of the first and last (unpinned) top-level comments, which
    # a cursor names with their paths.
    first_score: int | None = None
    last_score: int | None = None
    pinned: int = 0  # pinned comments of the post: page 1 shows them besides page_size

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil((self.count - self.pinned) / self.page_size))

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
_TOP_SCORE_INDEX = "comment_public_top_score_idx"

SORTS = ("oldest", "newest", "top")
DEFAULT_SORT = "oldest"
_PUBLISHED = PostStatus.PUBLISHED.value


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


def thread_page(
    *,
    post_id: int,
    page_size: int,
    page: int | Literal["last"] | None = 1,
    after: str | None = None,
    before: str | None = None,
    replies_limit: int | None = None,
    sort: str = DEFAULT_SORT,
) -> ThreadPage:
    """A page of the public thread of a published post.

    ``sort`` orders the top-level comments (``SORTS``; replies are always oldest
    first): ``oldest`` (the default, described here), ``newest``, or ``top`` (score
    down, then oldest first); pinned comments come first on page 1 under every sort
    (``_sorted_page``). With ``sort=top`` the cursors ``after``/``before`` are
    ``"<score>.<path>"``.

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
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    if not 0 < post_id < 2**63:  # no such row, and the drivers refuse such numbers
        raise NotFound("Post not found.")
    # On the primary ("default") even when a read replica is configured: pages go into
    # the shared cache under the version the services bump after commit, and must not
    # be rendered from a replica that has not caught up (config/replicas.py).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT top_level_count, pinned_count FROM {POST_TABLE} "  # noqa: S608
            "WHERE id = %s AND status = %s",
            [post_id, _PUBLISHED],
        )
        found = cursor.fetchone()
        if found is None:
            raise NotFound("Post not found.")
        count, pinned = found
        if sort != DEFAULT_SORT or pinned:
            return _sorted_page(
                cursor,
                post_id=post_id,
                count=count,
                pinned=pinned,
                sort=sort,
                page_size=page_size,
                page=page,
                after=after,
                before=before,
                replies_limit=replies_limit,
            )

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


# --- other orders, and pinned comments -----------------------------------------------
# The default page (oldest first, no pins) is read above; these pages take the same
# three queries: the post, the page's top-level keys (from a partial index in the
# sort's order, plus the post's pinned comments when the page shows them), and one
# statement fetching each of those comments' subtrees by its path range.

# Per sort: the order of the top-level comments, forward (the page) and backward
# (a "before" cursor reads nearest first), and the index holding that order.
_ORDERS = {
    "oldest": ("path", "path DESC", _TOP_INDEX),
    "newest": ("path DESC", "path", _TOP_INDEX),
    "top": ("score DESC, path", "score, path DESC", _TOP_SCORE_INDEX),
}


def _key_after(sort: str, key: tuple[int, str]) -> tuple[str, list[Any]]:
    """SQL (and parameters) for "after ``key`` in ``sort``'s order"."""
    score, path = key
    if sort == "oldest":
        return "path > %s", [path]
    if sort == "newest":
        return "path < %s", [path]
    # Score down, then path up; the plain "score <= %s" lets the index seek.
    return "score <= %s AND (score < %s OR path > %s)", [score, score, path]


def _key_before(sort: str, key: tuple[int, str]) -> tuple[str, list[Any]]:
    score, path = key
    if sort == "oldest":
        return "path < %s", [path]
    if sort == "newest":
        return "path > %s", [path]
    return "score >= %s AND (score > %s OR path < %s)", [score, score, path]


def sort_key(sort: str, score: int, path: str) -> tuple:
    """The Python order of the top-level comments under ``sort``."""
    if sort == "oldest":
        return (path,)
    if sort == "newest":
        return tuple(-ord(char) for char in path)
    return (-score, path)


def parse_key(sort: str, value: str) -> tuple[int, str]:
    """A cursor position: a path, or ``"<score>.<path>"`` under ``sort=top``."""
    if sort == "top":
        score, _, path = value.partition(".")
        return int(score), path
    return 0, value


def _top_table(sort: str) -> str:
    if connection.vendor == "sqlite":
        # As in _top_paths: SQLite must be told to read the partial index.
        return f"{COMMENT_TABLE} INDEXED BY {_ORDERS[sort][2]}"
    return COMMENT_TABLE


def _top_keys(
    cursor,
    *,
    post_id: int,
    sort: str,
    limit: int,
    offset: int,
    after: tuple[int, str] | None,
    before: tuple[int, str] | None,
    exclude_pinned: bool,
    with_pins: bool,
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(the page's unpinned top-level comments as (path, score), in ``sort``'s order
    or nearest first before a cursor; the post's pinned ones when ``with_pins``), in
    one statement."""
    forward, backward, _index = _ORDERS[sort]
    where = f"post_id = %s AND {_TOP_SQL}"
    params: list[Any] = [post_id]
    if exclude_pinned:
        where += " AND pinned_at IS NULL"
    if before is not None:
        condition, extra = _key_before(sort, before)
        tail = f"AND {condition} ORDER BY {backward} LIMIT %s"
        params += [*extra, limit]
    elif after is not None:
        condition, extra = _key_after(sort, after)
        tail = f"AND {condition} ORDER BY {forward} LIMIT %s"
        params += [*extra, limit]
    else:
        tail = f"ORDER BY {forward} LIMIT %s OFFSET %s"
        params += [limit, offset]
    sql = f"SELECT path, score, 0 FROM {_top_table(sort)} WHERE {where} {tail}"  # noqa: S608
    if with_pins:
        sql = (
            f"SELECT path, score, 1 FROM {COMMENT_TABLE} "  # noqa: S608
            f"WHERE post_id = %s AND pinned_at IS NOT NULL AND {_TOP_SQL} "
            f"UNION ALL SELECT * FROM ({sql}) AS page"
        )
        params = [post_id, *params]
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    pins = sorted(
        ((path, score) for path, score, is_pin in rows if is_pin),
        key=lambda row: sort_key(sort, row[1], row[0]),
    )
    page = [(path, score) for path, score, is_pin in rows if not is_pin]
    if with_pins:  # a compound statement's order is not promised: sort again
        reverse = before is not None
        page.sort(key=lambda row: sort_key(sort, row[1], row[0]), reverse=reverse)
    return page, pins


def _sorted_page(
    cursor,
    *,
    post_id: int,
    count: int,
    pinned: int,
    sort: str,
    page_size: int,
    page: int | Literal["last"] | None,
    after: str | None,
    before: str | None,
    replies_limit: int | None,
) -> ThreadPage:
    """``thread_page`` under ``sort``, or with pinned comments.

    Pinned comments (at most three) come first on page 1 (the first cursor page, and
    a "before" page that reaches the start), besides its ``page_size`` others, and
    nowhere else: the pages are the unpinned comments in ``sort``'s order."""
    number: int | None = None
    offset = 0
    if page is not None:
        num_pages = max(1, math.ceil((count - pinned) / page_size))
        number = num_pages if page == "last" else page
        if not 1 <= number <= num_pages:
            raise NotFound("Invalid page.")
        offset = (number - 1) * page_size
        if count == 0:
            return ThreadPage(count=0, page=number, page_size=page_size, sort=sort)
    after_key = parse_key(sort, after) if after is not None else None
    before_key = parse_key(sort, before) if before is not None else None
    start = number == 1 or (page is None and after is None)
    keys, pins = _top_keys(
        cursor,
        post_id=post_id,
        sort=sort,
        limit=page_size + 1,
        offset=offset,
        after=after_key,
        before=before_key,
        exclude_pinned=bool(pinned),
        with_pins=bool(pinned) and start,
    )
    more = len(keys) > page_size
    if before_key is not None:
        keys = keys[:page_size][::-1]
        if more:  # the page does not reach the start: no pins on it
            pins = []
    else:
        keys = keys[:page_size]
    paths = [path for path, _score in pins] + [path for path, _score in keys]
    if not paths:
        return ThreadPage(
            count=count,
            page=number,
            page_size=page_size,
            more_before=after is not None,
            more_after=before is not None,
            sort=sort,
            pinned=pinned,
        )
    if sort == "newest" and not pins:
        # Consecutive in path order: one range, as for the default order, reversed.
        low, high = keys[-1][0], _path_after(keys[0][0])
        params: list[Any] = [post_id, low, high]
        if replies_limit:
            params.append(replies_limit + 1)
        cursor.execute(_thread_rows_sql(bounded=True, replies_limit=replies_limit), params)
        results = _nest(cursor.fetchall(), post_id, timezone.get_current_timezone())[::-1]
    else:
        results = _subtrees(cursor, post_id=post_id, paths=paths, replies_limit=replies_limit)
    first = keys[0] if keys else (None, None)
    last = keys[-1] if keys else (None, None)
    return ThreadPage(
        count=count,
        page=number,
        page_size=page_size,
        results=results,
        first_path=first[0],
        last_path=last[0],
        more_before=more if before is not None else after is not None,
        more_after=more if before is None else True,
        sort=sort,
        first_score=first[1],
        last_score=last[1],
        pinned=pinned,
    )


def top_level_place(
    *, post_id: int, path: str, score: int, sort: str, pinned: bool
) -> tuple[int, tuple[int, str] | None]:
    """Where the top-level comment at ``path`` stands under ``sort``: how many
    unpinned top-level comments come before it (0 for a pinned one, which page 1
    shows), and the key of the one right before it (None: it opens the thread), for
    a cursor that starts a page with it. Two index-only queries."""
    if pinned:
        return 0, None
    if not 0 < post_id < 2**63:
        raise NotFound("Post not found.")
    _forward, backward, _index = _ORDERS[sort]
    condition, params = _key_before(sort, (score, path))
    where = f"post_id = %s AND {_TOP_SQL} AND pinned_at IS NULL AND {condition}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {_top_table(sort)} WHERE {where}",  # noqa: S608
            [post_id, *params],
        )
        before = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT path, score FROM {_top_table(sort)} WHERE {where} "  # noqa: S608
            f"ORDER BY {backward} LIMIT 1",
            [post_id, *params],
        )
        row = cursor.fetchone()
    return before, (None if row is None else (row[1], row[0]))
