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

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections, router, transaction
from django.utils.text import slugify

from forum import events
from forum.bulk_records import BulkReport, CommentRecord, PostRecord
from forum.bulk_sql import (
    _POST_COUNTS_SQL,
    BATCH_SIZE,
    LOOKUP_CHUNK,
    _chunks,
    _Existing,
    _existing_by_key,
    _existing_parents_update,
    _Holder,
    _insert_levels,
    _returning,
)
from forum.comment_tree import recount_comments
from forum.errors import InvalidInput, ServiceError
from forum.models import (
    Blog,
    Comment,
    CommentStatus,
    ImportRecord,
    Post,
    PostStatus,
    path_step,
)
from forum.rendering import render_text
from forum.text import clean_name, clean_text
from forum.thread_cache import threads_changed


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
