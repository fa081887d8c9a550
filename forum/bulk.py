"""The one bulk path for imports: seed pages (``fixtures``) and real exports (``imports``).

``import_threads`` writes a file's posts and comment threads in a constant number of
statements per post, per existing parent and per batch of rows, instead of the live
path's statements per comment (``forum.services.comment_create``), while keeping
every rule the live services keep:

- **Paths**: siblings are numbered in the order of their time (then of the file),
  after whatever the parent (or the post) handed out before (``child_seq``,
  ``top_seq``), so a re-run or a newer export only appends. Rows are inserted one
  depth level after the other, in batches, so the tree triggers
  (``forum.db_triggers``) check every row against its inserted parent.
- **Counters**: ``reply_count``, ``comment_count`` and ``top_level_count`` are
  worked out in Python for the new rows (deepest first: a tombstone is public only
  while it has public replies) and applied once per existing parent and once per
  post (one ``UPDATE ... RETURNING`` each, which also takes the row's lock and
  reserves the path steps, as the live path does for one comment).
- **Cache**: each changed thread's cache version is bumped once, after commit.
- **Moderation state**: pending comments enter the queue with the reason
  ``imported_pending``; removed ones are tombstones while they have public replies.
- **Audit**: one ``ImportRecord`` per file that wrote anything, and one ``blog.imported``
  event (``forum.events``), in the same transaction. The comments themselves record no
  events: an import is history, nobody is told of each old comment again.

What the live path refuses, the bulk path cannot always refuse: an export is history.
A reply whose parent is missing (or on another post, or in a cycle) becomes a
top-level comment, and a reply deeper than ``FORUM["MAX_COMMENT_DEPTH"]`` goes under
its ancestor at the deepest allowed level; both are counted in the report. Text is
checked as the services check it (``clean_text``); a refusal raises the service's
``InvalidInput`` with ``extra["line"]``, the line of the file the row came from.

The caller owns the transaction (``import_threads`` is atomic itself; a caller
importing several things at once wraps them in its own).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.text import slugify

from forum import events
from forum.comment_tree import recount_comments
from forum.errors import InvalidInput, ServiceError
from forum.models import (
    Blog,
    Comment,
    CommentStatus,
    ImportRecord,
    Post,
    PostStatus,
    RemovalKind,
    path_step,
)
from forum.rendering import render_text
from forum.text import clean_name, clean_text
from forum.thread_cache import threads_changed

IMPORTED_PENDING_REASON = "imported_pending"
REMOVED_IN_SOURCE = "Removed on the source site before the import."
# Rows per INSERT statement (26 columns: ~13,000 parameters, within both engines' limits).
BATCH_SIZE = 500
# Rows per statement on PostgreSQL, where a batch is one array per column.
PG_BATCH_SIZE = 5000
# Keys per IN (...) lookup.
LOOKUP_CHUNK = 900


@dataclass(slots=True)
class PostRecord:
    """A post as the file has it. ``key`` becomes its ``import_key``; ``body`` is plain
    text (rendered here, as everywhere); ``line`` is where the file has it."""

    key: str
    title: str
    body: str
    published_at: datetime.datetime
    line: int = 1
    source_url: str = ""
    author_name: str = ""
    guest_number: int | None = None


@dataclass(slots=True)
class CommentRecord:
    """A comment as the file has it. ``parent_key`` names its parent's ``key`` (None:
    top level); ``status`` is one of ours; ``removed``: deleted on the source."""

    key: str
    post_key: str
    parent_key: str | None
    body: str
    created_at: datetime.datetime
    author_name: str = ""
    status: str = CommentStatus.APPROVED
    removed: bool = False
    removed_at: datetime.datetime | None = None
    ip_hash: str = ""
    line: int = 0
    # Worked out by the writer.
    order: int = 0
    parent: CommentRecord | None = None
    parent_id: int | None = None
    post_id: int = 0
    depth: int = 0
    path: str = ""
    child_seq: int = 0
    reply_count: int = 0
    pk: int | None = None

    @property
    def visible(self) -> bool:
        """What ``forum.models.public_comment_q`` says of the row this becomes."""
        return self.status == CommentStatus.APPROVED and (not self.removed or self.reply_count > 0)


@dataclass
class BulkReport:
    """What one import did (or, in a dry run, would do)."""

    posts_created: int = 0
    posts_matched: int = 0
    comments_created: int = 0
    comments_skipped: int = 0
    by_status: Counter = field(default_factory=Counter)
    named: int = 0
    anonymous: int = 0
    reparented: int = 0
    flattened: int = 0
    duplicates: int = 0
    post_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "posts_created": self.posts_created,
            "posts_matched": self.posts_matched,
            "comments_created": self.comments_created,
            "comments_skipped": self.comments_skipped,
            "by_status": dict(sorted(self.by_status.items())),
            "named": self.named,
            "anonymous": self.anonymous,
            "reparented": self.reparented,
            "flattened": self.flattened,
            "duplicates": self.duplicates,
        }


@contextmanager
def at_line(line: int) -> Iterator[None]:
    """Tag a ``ServiceError`` raised inside with the line of the file it concerns."""
    try:
        yield
    except ServiceError as exc:
        exc.extra.setdefault("line", line)
        raise


def url_match_key(url: str) -> str:
    """What two addresses of the same post share within one blog: the path, without
    scheme, host, query, fragment or trailing slash (sites move from http to https
    and to their own domain; the path stays)."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    path = parts.path if parts.netloc or url.startswith("/") else url
    return path.rstrip("/") or "/"


@transaction.atomic
def import_threads(
    *,
    blog: Blog,
    posts: Sequence[PostRecord],
    comments: Iterable[CommentRecord],
    source_format: str,
    source_name: str,
    source_sha256: str = "",
    extra_report: dict | None = None,
) -> BulkReport:
    """Write ``posts`` (matched or created) and the ``comments`` missing from the
    database into ``blog``; return what was done. All or nothing.

    Imports into one blog take turns (its row is locked first), so the same file
    imported twice at once is one import and one that finds everything there.
    """
    Blog.objects.select_for_update().filter(pk=blog.pk).values_list("pk").get()
    report = BulkReport()
    post_ids = _posts_resolve(blog=blog, records=posts, report=report)
    changed = _comments_write(comments=comments, post_ids=post_ids, report=report)
    changed.update(pk for pk in post_ids.values() if pk in report.post_ids)
    threads_changed(post_ids=changed)
    if report.posts_created or report.comments_created:
        record = ImportRecord.objects.create(
            blog=blog,
            source_format=source_format,
            source_name=source_name[:500],
            source_sha256=source_sha256,
            posts_created=report.posts_created,
            comments_created=report.comments_created,
            report=report.as_dict() | (extra_report or {}),
        )
        events.record(
            "blog.imported",
            blog=blog,
            data={
                "import_record": record.pk,
                "format": source_format,
                "source": record.source_name,
                "posts_created": report.posts_created,
                "comments_created": report.comments_created,
            },
        )
    return report


def blog_for_import(*, key: str, name: str, source_url: str = "") -> Blog:
    """The blog an export goes into when none is named: the one imported from the same
    site before (by ``key``, else by its address), or a new one named after it."""
    blog = Blog.objects.filter(import_key=key).first()
    if blog is None and source_url:
        wanted = urlsplit(source_url).netloc.lower()
        for candidate in Blog.objects.exclude(source_url="").only("id", "source_url"):
            if wanted and urlsplit(candidate.source_url).netloc.lower() == wanted:
                return candidate
    if blog is not None:
        return blog
    name = " ".join(name.split())[:200] or "Imported blog"
    taken = set(Blog.objects.values_list("slug", flat=True))
    slug = _unique_slug(name, taken)[:100]
    return Blog.objects.create(name=name, slug=slug, import_key=key, source_url=source_url[:500])


# --- posts -------------------------------------------------------------------


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _posts_resolve(*, blog: Blog, records: Sequence[PostRecord], report: BulkReport) -> dict:
    """Import key → post id, for every record: found by its key, else by its source
    URL in this blog, else created (published)."""
    keys = [record.key for record in records]
    found: dict[str, int] = {}
    for chunk in _chunks(keys, LOOKUP_CHUNK):
        found.update(Post.objects.filter(import_key__in=chunk).values_list("import_key", "id"))
    by_url: dict[str, int] = {}
    if any(record.source_url for record in records if record.key not in found):
        for pk, url in (
            Post.objects.filter(blog=blog).exclude(source_url="").values_list("id", "source_url")
        ):
            by_url.setdefault(url_match_key(url), pk)
    ids: dict[str, int] = {}
    new: list[PostRecord] = []
    new_keys: set[str] = set()
    for record in records:
        if record.key in ids or record.key in new_keys:
            continue
        pk = found.get(record.key) or by_url.get(url_match_key(record.source_url) or "\0")
        if pk is not None:
            ids[record.key] = pk
            report.posts_matched += 1
        else:
            new.append(record)
            new_keys.add(record.key)
    for record, pk in zip(new, _posts_create(blog=blog, records=new), strict=True):
        ids[record.key] = pk
        report.post_ids.append(pk)
    report.posts_created = len(new)
    return ids


def _posts_create(*, blog: Blog, records: list[PostRecord]) -> list[int]:
    """Create the posts as ``forum.services.post_create`` would (same checks, same
    slugs, same rendering), in batches."""
    if not records:
        return []
    taken_slugs = set(Post.objects.filter(blog=blog).values_list("slug", flat=True))
    taken_numbers = set(
        Post.objects.filter(blog=blog, guest_number__isnull=False).values_list(
            "guest_number", flat=True
        )
    )
    rows = []
    for record in records:
        with at_line(record.line):
            title = clean_text(record.title, field="title", max_length=300).strip()
            body = clean_text(
                record.body, field="body", max_length=settings.FORUM["POST_MAX_LENGTH"]
            )
            author_name = clean_name(record.author_name)
            number = record.guest_number
            if number is not None:
                if number in taken_numbers:
                    raise InvalidInput(
                        f"Guest Blog {number} exists already on this blog.", field="guest_number"
                    )
                taken_numbers.add(number)
        slug = _unique_slug(title, taken_slugs)
        taken_slugs.add(slug)
        rows.append(
            Post(
                blog=blog,
                title=title,
                slug=slug,
                body=body,
                body_html=render_text(body),
                author_name=author_name,
                status=PostStatus.PUBLISHED,
                published_at=record.published_at,
                is_guest=number is not None,
                guest_number=number,
                import_key=record.key,
                source_url=record.source_url[:500],
            )
        )
    created = Post.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return [post.pk for post in created]


def _unique_slug(title: str, taken: set[str]) -> str:
    """``forum.services._unique_post_slug``, against slugs read once."""
    base = (slugify(title) or "post")[:180].strip("-") or "post"
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


# --- comments ----------------------------------------------------------------


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


def _comments_write(
    *, comments: Iterable[CommentRecord], post_ids: dict[str, int], report: BulkReport
) -> set[int]:
    """Insert the comments whose keys are new; return the posts whose public thread
    changed."""
    records: list[CommentRecord] = []
    seen: set[str] = set()
    for order, record in enumerate(comments):
        if record.key in seen:
            report.duplicates += 1
            continue
        seen.add(record.key)
        record.order = order
        record.post_id = post_ids[record.post_key]
        records.append(record)
    del seen
    existing = _existing_by_key([record.key for record in records])
    new = [record for record in records if record.key not in existing]
    report.comments_skipped = len(records) - len(new)
    del records
    if not new:
        return set()
    # Parents named by new comments but not in the file are looked up too.
    new_keys = {record.key: record for record in new}
    wanted = {
        r.parent_key
        for r in new
        if r.parent_key and r.parent_key not in new_keys and r.parent_key not in existing
    }
    existing.update(_existing_by_key(sorted(wanted)))
    existing_rows = {row.pk: row for row in existing.values()}

    comment_max = settings.FORUM["COMMENT_MAX_LENGTH"]
    for record in new:
        with at_line(record.line):
            record.body = clean_text(record.body, field="body", max_length=comment_max)
            record.author_name = clean_name(record.author_name)
            if record.status not in CommentStatus.values:
                raise InvalidInput(f"Unknown comment status {record.status!r}.", field="status")
        _place(record, new_keys=new_keys, existing=existing, report=report)

    max_depth = settings.FORUM["MAX_COMMENT_DEPTH"]
    top_level: dict[int, list[CommentRecord]] = defaultdict(list)  # post id → new ones
    holders: dict[int, _Holder] = {}  # existing parent id → its new replies
    children: dict[int, list[CommentRecord]] = defaultdict(list)  # id(record) → replies
    for record in _parents_first(new, report=report):
        _set_depth(record, existing_rows, max_depth=max_depth, report=report)
        if record.parent is not None:
            children[id(record.parent)].append(record)
        elif record.parent_id is not None:
            holder = holders.get(record.parent_id)
            if holder is None:
                holder = holders[record.parent_id] = _Holder(existing_rows[record.parent_id])
            holder.new_children.append(record)
        else:
            top_level[record.post_id].append(record)

    # Counters, deepest first: a reply decides whether a tombstone above it is public.
    for record in sorted(new, key=lambda r: -r.depth):
        if record.visible:
            if record.parent is not None:
                record.parent.reply_count += 1
            elif record.parent_id is not None:
                holders[record.parent_id].reply_delta += 1
    posts: dict[int, dict[str, int]] = defaultdict(lambda: {"n": 0, "count": 0, "top": 0})
    for record in new:
        counts = posts[record.post_id]
        counts["count"] += record.status == CommentStatus.APPROVED and not record.removed
        if record.parent is None and record.parent_id is None:
            counts["n"] += 1
            counts["top"] += record.visible
    changed = {record.post_id for record in new if record.visible}

    with connections[router.db_for_write(Comment)].cursor() as cursor:
        changed |= _existing_parents_update(cursor, holders, posts, existing_rows)
        for post_id, counts in posts.items():
            last = _returning(cursor, _POST_COUNTS_SQL, counts | {"id": post_id})
            _number(top_level[post_id], first=last - counts["n"] + 1, prefix="")
            if counts["top"] or counts["count"]:
                changed.add(post_id)
        for holder in holders.values():
            _number(holder.new_children, first=holder.first_step, prefix=holder.row.path)
        for record in sorted(new, key=lambda r: r.depth):  # parents' paths first
            replies = children.get(id(record), [])
            record.child_seq = len(replies)
            _number(replies, first=1, prefix=record.path)
        _insert_levels(cursor, new)
    # ``comment_count`` counts what the public can read: a reply under a hidden
    # comment is not (forum.models.visible_comment_q), so it is counted from the rows.
    for post_id in posts:
        recount_comments(post_id)

    for record in new:
        report.by_status["removed" if record.removed else record.status] += 1
        if record.author_name:
            report.named += 1
        else:
            report.anonymous += 1
    report.comments_created = len(new)
    return changed


def _place(
    record: CommentRecord,
    *,
    new_keys: dict[str, CommentRecord],
    existing: dict[str, _Existing],
    report: BulkReport,
) -> None:
    """Link ``record`` to its parent: a new record, an existing row, or none (a
    missing parent, or one on another post: the reply becomes top-level, counted)."""
    key = record.parent_key
    if key is None:
        return
    parent = new_keys.get(key)
    if parent is not None and parent.post_id == record.post_id and parent is not record:
        record.parent = parent
        return
    row = existing.get(key)
    if row is not None and row.post_id == record.post_id:
        record.parent_id = row.pk
        return
    record.parent_key = None
    report.reparented += 1


def _parents_first(new: list[CommentRecord], *, report: BulkReport) -> list[CommentRecord]:
    """The new records, every parent before its replies. A cycle of parents (a
    hostile file) is cut: the record where it closes becomes top-level, counted as
    re-parented."""
    done: set[int] = set()
    ordered: list[CommentRecord] = []
    for start in new:
        chain: list[CommentRecord] = []
        on_chain: set[int] = set()
        node: CommentRecord | None = start
        while node is not None and id(node) not in done:
            if id(node) in on_chain:
                chain[-1].parent, chain[-1].parent_key = None, None
                report.reparented += 1
                break
            chain.append(node)
            on_chain.add(id(node))
            node = node.parent
        for record in reversed(chain):
            done.add(id(record))
            ordered.append(record)
    return ordered


def _set_depth(
    record: CommentRecord, rows: dict[int, _Existing], *, max_depth: int, report: BulkReport
) -> None:
    """The record's depth from its parent's (already set); a reply deeper than the
    limit goes under its ancestor one level above the limit (counted)."""
    if record.parent is not None:
        record.depth = record.parent.depth + 1
    elif record.parent_id is not None:
        record.depth = rows[record.parent_id].depth + 1
    else:
        record.depth = 0
    if record.depth <= max_depth:
        return
    report.flattened += 1
    ancestor: CommentRecord | None = record.parent
    while ancestor is not None and ancestor.depth > max_depth - 1:
        ancestor = ancestor.parent
    if ancestor is not None:
        record.parent, record.depth = ancestor, ancestor.depth + 1
        return
    # Above the new records: existing rows (never deeper than the limit themselves).
    chain_top = record
    while chain_top.parent is not None:
        chain_top = chain_top.parent
    row = rows.get(chain_top.parent_id) if chain_top.parent_id else None
    while row is not None and row.depth > max_depth - 1:
        row = rows.get(row.parent_id) if row.parent_id else None
        if row is None and chain_top.parent_id:
            break
    record.parent = None
    if row is None:
        record.parent_id, record.depth = None, 0
    else:
        record.parent_id, record.depth = row.pk, row.depth + 1


def _number(records: list[CommentRecord], *, first: int, prefix: str) -> None:
    """Hand out path steps from ``first`` in the order of time, then of the file."""
    records.sort(key=lambda r: (r.created_at, r.order))
    for offset, record in enumerate(records):
        record.path = prefix + path_step(first + offset)


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
