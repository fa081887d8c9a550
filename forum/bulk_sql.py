"""The SQL side of the bulk import (``forum.bulk``): reading the existing comments new
ones go under, moving their counters, and the batched ``INSERT`` of the new rows."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.db import connections, models
from django.utils import timezone

from forum.bulk_records import CommentRecord
from forum.errors import InvalidInput
from forum.models import Comment, CommentStatus, Post, RemovalKind
from forum.rendering import render_text

IMPORTED_PENDING_REASON = "imported_pending"
REMOVED_IN_SOURCE = "Removed on the source site before the import."
# Rows per INSERT statement (26 columns: ~13,000 parameters, within both engines' limits).
BATCH_SIZE = 500
# Rows per statement on PostgreSQL, where a batch is one array per column.
PG_BATCH_SIZE = 5000
# Keys per IN (...) lookup.
LOOKUP_CHUNK = 900


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- existing comments ------------------------------------------------------


@dataclass(slots=True)
class _Existing:
    """A comment in the database that new ones go under (the columns the writer needs)."""

    pk: int
    post_id: int
    parent_id: int | None
    depth: int
    path: str
    status: str
    removed: bool
    reply_count: int

    @property
    def visible(self) -> bool:
        return self.status == CommentStatus.APPROVED and (not self.removed or self.reply_count > 0)


@dataclass
class _Holder:
    """An existing comment receiving new replies or a change of its reply count."""

    row: _Existing
    new_children: list[CommentRecord] = field(default_factory=list)
    reply_delta: int = 0
    first_step: int = 0


_EXISTING_COLUMNS = (
    "id",
    "import_key",
    "post_id",
    "parent_id",
    "depth",
    "path",
    "status",
    "removed_at",
    "reply_count",
)


def _existing(row: tuple) -> tuple[str, _Existing]:
    pk, key, post_id, parent_id, depth, path, status, removed_at, replies = row
    return key, _Existing(
        pk, post_id, parent_id, depth, path, status, removed_at is not None, replies
    )


def _existing_by_key(keys: list[str]) -> dict[str, _Existing]:
    found: dict[str, _Existing] = {}
    for chunk in _chunks(keys, LOOKUP_CHUNK):
        rows = Comment.objects.filter(import_key__in=chunk).values_list(*_EXISTING_COLUMNS)
        found.update(_existing(row) for row in rows)
    return found


def _existing_by_id(pk: int) -> _Existing:
    """The row, read under its lock: its counters are what the import adds to."""
    rows = Comment.objects.select_for_update().filter(pk=pk).values_list(*_EXISTING_COLUMNS)
    return _existing(rows.get())[1]


# The post's counters and path steps for its new top-level comments, in one statement
# that also takes the post's row lock (as the live path's does for one comment).
_POST_COUNTS_SQL = (
    f"UPDATE {Post._meta.db_table} SET top_seq = top_seq + %(n)s, "  # noqa: S608
    "comment_count = comment_count + %(count)s, "
    "top_level_count = top_level_count + %(top)s WHERE id = %(id)s RETURNING top_seq"
)
_PARENT_COUNTS_SQL = (
    f"UPDATE {Comment._meta.db_table} SET child_seq = child_seq + %(n)s, "  # noqa: S608
    "reply_count = reply_count + %(delta)s WHERE id = %(id)s RETURNING child_seq"
)


def _returning(cursor, sql: str, params: dict) -> int:
    cursor.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        raise InvalidInput("A row the import writes under has just been deleted.")
    return row[0]


def _existing_parents_update(
    cursor, holders: dict[int, _Holder], posts: dict, rows: dict[int, _Existing]
) -> set[int]:
    """Existing parents receiving replies: reserve their path steps and move their
    ``reply_count``, one statement each (which takes the row's lock). A tombstone
    made public (or hidden) by that moves its own parent's count, and so on up, each
    row once, deepest first. Returns the posts whose public thread changed."""
    changed: set[int] = set()
    if not holders:
        return changed
    deltas = {pk: holder.reply_delta for pk, holder in holders.items()}
    steps = {pk: len(holder.new_children) for pk, holder in holders.items()}
    for pk in holders:  # the rows as they are now, under their lock
        rows[pk] = holders[pk].row = _existing_by_id(pk)
    pending = set(holders)
    while pending:
        pk = max(pending, key=lambda p: rows[p].depth)
        pending.discard(pk)
        row = rows[pk]
        was_visible = row.visible
        row.reply_count += deltas.get(pk, 0)
        params = {"n": steps.get(pk, 0), "delta": deltas.pop(pk, 0), "id": pk}
        last = _returning(cursor, _PARENT_COUNTS_SQL, params)
        if pk in holders:
            holders[pk].first_step = last - steps[pk] + 1
        if row.visible == was_visible:
            continue
        changed.add(row.post_id)
        move = 1 if row.visible else -1
        if row.parent_id is None:
            posts[row.post_id]["top"] += move
        else:
            if row.parent_id not in rows:
                rows[row.parent_id] = _existing_by_id(row.parent_id)
            deltas[row.parent_id] = deltas.get(row.parent_id, 0) + move
            pending.add(row.parent_id)
    return changed


# --- the INSERT ---------------------------------------------------------------


@cache
def _insert_columns(alias: str) -> tuple[list[models.Field], str, str]:
    """The comment table's columns (all but the key), the quoted column list and the
    table name."""
    db = connections[alias]
    fields = [field for field in Comment._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    return fields, columns, db.ops.quote_name(Comment._meta.db_table)


def _row_values(record: CommentRecord, now: datetime.datetime) -> dict[str, object]:
    removed = record.removed
    return {
        "post": record.post_id,
        "parent": record.parent.pk if record.parent is not None else record.parent_id,
        "depth": record.depth,
        "path": record.path,
        "child_seq": record.child_seq,
        "author": None,
        "author_name": record.author_name,
        "body": record.body,
        "body_html": render_text(record.body),
        "status": record.status,
        "removed_at": (record.removed_at or now) if removed else None,
        "removed_by": None,
        "removal_kind": RemovalKind.MODERATOR.value if removed else "",
        "removal_reason": REMOVED_IN_SOURCE if removed else "",
        "created_at": record.created_at,
        "edited_at": None,
        "reply_count": record.reply_count,
        "import_key": record.key,
        "edit_token_hash": "",
        "ip_hash": record.ip_hash,
        "moderation_reasons": [IMPORTED_PENDING_REASON]
        if record.status == CommentStatus.PENDING
        else [],
    }


_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.ForeignKey,
    models.BooleanField,
)


def _insert_levels(cursor, new: list[CommentRecord]) -> None:
    """INSERT the new rows, one depth level after the other (a parent exists before
    its replies reach the tree trigger), in batches, and set each record's ``pk`` from
    ``RETURNING`` (matched by post and path, which are unique, not by the order of the
    returned rows).

    PostgreSQL gets one array per column (``INSERT ... SELECT * FROM unnest(...)``):
    a statement of a few parameters whatever the number of rows, which psycopg and
    the server parse in no time; SQLite gets multi-row ``VALUES``."""
    db = cursor.db
    fields, columns, table = _insert_columns(db.alias)
    plain = [type(f) in _PLAIN for f in fields]
    defaults = {f.name: f.get_default() for f in fields}  # columns added later
    now = timezone.now()
    postgres = db.vendor == "postgresql"
    if postgres:
        casts = ", ".join(f"%s::{f.cast_db_type(db)}[]" for f in fields)
        statement = (
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({casts}) "  # noqa: S608
            "RETURNING id, post_id, path"
        )
    levels: dict[int, list[CommentRecord]] = defaultdict(list)
    for record in new:
        levels[record.depth].append(record)
    for depth in sorted(levels):
        for batch in _chunks(levels[depth], PG_BATCH_SIZE if postgres else BATCH_SIZE):
            rows = []
            for record in batch:
                values = _row_values(record, now)
                rows.append(
                    [
                        value if is_plain else f.get_db_prep_save(value, db)
                        for f, is_plain in zip(fields, plain, strict=True)
                        for value in (values.get(f.name, defaults[f.name]),)
                    ]
                )
            if postgres:
                params = [list(column) for column in zip(*rows, strict=True)]
                cursor.execute(statement, params)
            else:
                row = "(" + ", ".join(["%s"] * len(fields)) + ")"
                sql = (
                    f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                    + ", ".join([row] * len(batch))
                    + " RETURNING id, post_id, path"
                )
                cursor.execute(sql, [value for values in rows for value in values])
            by_place = {(r.post_id, r.path): r for r in batch}
            for pk, post_id, path in cursor.fetchall():
                by_place[(post_id, path)].pk = pk
