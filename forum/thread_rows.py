"""Thread rows: the SQL columns of a thread row, the statements that read a page's
rows (one range, or several top-level subtrees), and the one tight loop (``_nest``)
that turns those rows into the nested dicts ``forum.thread_page`` serves.

``_nest`` builds the dicts ``forum.selectors.comment_as_dict`` builds one by one (the
API tests hold the two to each other field by field); ``UtcTextFormatter`` writes the
timestamps as ``iso_datetime`` does, many times faster.
"""

import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.utils import timezone

from forum.display import author_display
from forum.models import COMMENT_TABLE, PATH_STEP_WIDTH, PUBLIC_COMMENT_SQL, CommentStatus
from forum.selectors import author_is_moderator_sql, iso_datetime

_APPROVED = CommentStatus.APPROVED.value


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
        return _hour_parts(self.tz, key)

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


@lru_cache(maxsize=65_536)
def _hour_parts(tz: datetime.tzinfo, key: str) -> tuple[str, str] | None:
    """(local ``YYYY-MM-DDTHH``, offset) of the UTC hour ``key`` in ``tz``, or None
    (the slow way): shared by every page a process renders, since a page in another
    order than the default (``sort=top``) spans many hours of the thread."""
    start = datetime.datetime.fromisoformat(key + ":00:00").replace(tzinfo=datetime.UTC)
    local = start.astimezone(tz)
    offset = local.utcoffset()
    end = (start + datetime.timedelta(seconds=3599, microseconds=999_999)).astimezone(tz)
    if offset is None or offset != end.utcoffset() or offset.total_seconds() % 3600:
        return None
    text = local.isoformat()  # YYYY-MM-DDTHH:00:00+HH:MM
    suffix = text[19:]
    return text[:13], "Z" if suffix == "+00:00" else suffix


def _utc_text(column: str) -> str:
    """SQL for a timestamp column as UTC text (``UtcTextFormatter``'s input), skipping
    the driver's per-row datetime conversion."""
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    # SQLite stores that text already; CAST hides the column's declared type, so the
    # driver hands over the text instead of parsing it.
    return f"CAST({column} AS TEXT)"


def _row_columns(alias: str = COMMENT_TABLE) -> str:
    """The columns of a thread row, in ``_nest``'s order. The last one: whether the
    author moderates (a badge), looked up per row of ``alias`` in the same query, so
    the page stays at three queries."""
    return (
        "id, parent_id, depth, author_name, body, body_html, removed_at IS NOT NULL, "
        f"{_utc_text('created_at')}, {_utc_text('edited_at')}, reply_count, "
        "body_format, score, votes_up, votes_down, pinned_at IS NOT NULL, "
        f"{author_is_moderator_sql(alias)}"
    )


def _thread_rows_sql(*, bounded: bool, replies_limit: int | None) -> str:
    columns = _row_columns("numbered" if replies_limit else COMMENT_TABLE)
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
        body_format,
        score,
        votes_up,
        votes_down,
        pinned,
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
            "format": body_format,
            "score": score,
            "votes_up": votes_up,
            "votes_down": votes_down,
            "pinned": bool(pinned),
            "author_is_moderator": bool(badge),
            "replies": [],
        }
        nodes[comment_id] = node
        siblings.append(node)
    return results


def _path_after(path: str) -> str:
    """The least path after every path in ``path``'s subtree (digits only, so every
    collation agrees): the next sibling number, or past the longest path."""
    number = int(path) + 1
    return str(number).zfill(PATH_STEP_WIDTH) if number < 10**PATH_STEP_WIDTH else "9" * 256


def _subtrees_sql(count: int, replies_limit: int | None) -> str:
    """The public comments of ``count`` top-level subtrees, subtree after subtree in
    the order given, each in path order: a small table of (place, path range), and
    for each range one seek of the ``(post, path)`` index.

    PostgreSQL reads each range in a LATERAL subquery, so that it seeks the index per
    range (it cannot see the ranges' bounds when it plans, and would otherwise scan
    the post's rows or start parallel workers, either costing more than the read);
    the ranges are a VALUES list there. SQLite's planner seeks per range by itself."""
    public = f"post_id = %s AND path >= low AND path < high AND {PUBLIC_COMMENT_SQL}"
    if replies_limit == 0:
        public += " AND depth = 0"
    if connection.vendor == "postgresql":
        columns = _row_columns("subtree")
        values = ", ".join(["(%s, %s, %s)"] * count)
        limit = " LIMIT %s" if replies_limit else ""
        return (
            f"SELECT {columns} FROM (VALUES {values}) AS ranges (place, low, high) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT * FROM {COMMENT_TABLE} WHERE {public} "
            f"ORDER BY path{limit}) AS subtree ORDER BY place, path"
        )
    ranges = " UNION ALL ".join(
        ["SELECT %s AS place, %s AS low, %s AS high"] + ["SELECT %s, %s, %s"] * (count - 1)
    )
    joined = f"({ranges}) AS ranges JOIN {COMMENT_TABLE} ON {public}"
    if not replies_limit:
        columns = _row_columns(COMMENT_TABLE)
        return f"SELECT {columns} FROM {joined} ORDER BY place, path"  # noqa: S608
    columns = _row_columns("numbered")
    return (
        f"SELECT {columns} FROM (SELECT {COMMENT_TABLE}.*, place, ROW_NUMBER() OVER ("  # noqa: S608
        f"PARTITION BY place ORDER BY path) AS rank FROM {joined}) AS numbered "
        "WHERE rank <= %s ORDER BY place, path"
    )


def _subtrees(
    cursor, *, post_id: int, paths: list[str], replies_limit: int | None
) -> list[dict[str, Any]]:
    """The nested comments under the top-level ``paths``, in the order given."""
    params: list[Any] = []
    for place, path in enumerate(paths):
        params += [place, path, _path_after(path)]
    params.append(post_id)
    if replies_limit:
        params.append(replies_limit + 1)  # the LIMIT per range, or the rank
    cursor.execute(_subtrees_sql(len(paths), replies_limit), params)
    return _nest(cursor.fetchall(), post_id, timezone.get_current_timezone())
