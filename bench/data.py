"""The bench data: threads of 100 to 100,000 comments in three shapes, written fast.

``python -m bench.data`` (with ``DATABASE_URL`` set by ``bench.run``) makes sure the
bench database holds every thread of ``SHAPES`` x ``SIZES``: it (re)creates and
migrates the database when the data is missing or from an older generator, loads
the threads, and checks them.

Shapes (top-level comments oldest first, replies under them):

- ``flat``: top-level comments only;
- ``two``: two levels like the seed threads: each top-level comment has 0 to 8
  replies (4 on average, so a page of 200 top-level comments holds ~1,000);
- ``deep``: each top-level comment has a subtree of 0 to 8 replies nested down to
  ``FORUM["MAX_COMMENT_DEPTH"]``, mostly as chains (reply to the latest reply).

About 3% of comments are pending, 1% spam and 1% removed by their authors (shown as
tombstones while they have visible replies); 5% were edited. Votes: most comments have
none, some a few, a handful many (a long tail), down-votes rarer than up-votes, so
``sort=top`` has ties and a spread like a real thread's. Bodies are real seed
comments (with their pre-rendered HTML); a fifth of the comments are anonymous.

The loader bypasses ``forum.services`` (one bulk insert per thread: COPY on
PostgreSQL, ``executemany`` on SQLite) but writes exactly the paths, depths and
counters the services would; ``check_counters`` verifies the stored counters
against the services' invariants, and ``check_loader_matches_services`` builds one
small thread both ways and compares them row by row.
"""

import argparse
import datetime
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import DATA_DIR, ROOT, emit, log

GEN_VERSION = 3  # 3: readers' votes (score, votes_up, votes_down)
SHAPES = ("flat", "two", "deep")
SIZES = (100, 1_000, 10_000, 100_000)
BLOG_SLUG = "bench"
START = datetime.datetime(2025, 3, 20, 9, 0, tzinfo=datetime.UTC)  # spans the DST change
NAMES = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
MAX_REPLIES = 8


@dataclass(eq=False)
class Node:
    parent: "Node | None"
    depth: int
    path: str
    created_at: datetime.datetime
    body: int  # index into the body pool
    author_name: str
    status: str = "approved"
    removed_at: datetime.datetime | None = None
    edited_at: datetime.datetime | None = None
    votes_up: int = 0
    votes_down: int = 0
    children: list["Node"] = field(default_factory=list)
    reply_count: int = 0
    id: int = 0

    @property
    def is_public(self) -> bool:
        return self.status == "approved" and (self.removed_at is None or self.reply_count > 0)


def post_key(shape: str, size: int) -> str:
    return f"bench:v{GEN_VERSION}:{shape}:{size}"


def body_pool() -> list[tuple[str, str]]:
    """(body, body_html) of every seed comment, rendered once."""
    from fixtures.parser import decode_seed, parse_seed
    from forum.rendering import render_text

    pool = []
    for path in sorted((ROOT / "fixtures" / "seeds").glob("*.txt")):
        thread = parse_seed(decode_seed(path.read_bytes(), source=str(path)), source=str(path))
        for _key, comment, _parent in thread.walk():
            pool.append((comment.body, render_text(comment.body)))
    return pool


def _step(number: int) -> str:
    return str(number).zfill(6)


def _new_child(parent: Node, rng: random.Random, n_bodies: int, after: datetime.datetime) -> Node:
    created = after + datetime.timedelta(seconds=rng.uniform(30, 7200))
    child = Node(
        parent=parent,
        depth=parent.depth + 1,
        path=parent.path + _step(len(parent.children) + 1),
        created_at=created,
        body=rng.randrange(n_bodies),
        author_name="" if rng.random() < 0.2 else rng.choice(NAMES),
    )
    parent.children.append(child)
    return child


def build_thread(
    shape: str, size: int, *, seed: int = 0, n_bodies: int = 100, max_depth: int = 6
) -> list[Node]:
    """The thread's comments in path (display) order: parents before their replies."""
    rng = random.Random(f"{shape}:{size}:{seed}")
    tops: list[Node] = []
    made = 0
    when = START
    while made < size:
        when += datetime.timedelta(seconds=rng.uniform(20, 900))
        top = Node(
            parent=None,
            depth=0,
            path=_step(len(tops) + 1),
            created_at=when,
            body=rng.randrange(n_bodies),
            author_name="" if rng.random() < 0.2 else rng.choice(NAMES),
        )
        tops.append(top)
        made += 1
        replies = 0 if shape == "flat" else min(rng.randint(0, MAX_REPLIES), size - made)
        subtree = [top]
        last = top
        for _ in range(replies):
            if shape == "two":
                parent = top
            elif last.depth < max_depth and rng.random() < 0.6:
                parent = last  # chains: a reply to the latest reply
            else:
                parent = rng.choice([n for n in subtree if n.depth < max_depth])
            after = max(
                parent.created_at,
                parent.children[-1].created_at if parent.children else last.created_at,
            )
            last = _new_child(parent, rng, n_bodies, after)
            subtree.append(last)
        made += replies

    ordered: list[Node] = []

    def walk(nodes: list[Node]) -> None:
        for node in nodes:
            ordered.append(node)
            walk(node.children)

    walk(tops)
    for node in ordered:
        r = rng.random()
        if r < 0.03:
            node.status = "pending"
        elif r < 0.04:
            node.status = "spam"
        elif r < 0.05:
            node.removed_at = node.created_at + datetime.timedelta(hours=1)
        if rng.random() < 0.05:
            node.edited_at = node.created_at + datetime.timedelta(minutes=rng.randint(1, 14))
        # Whole seconds for some, as imported comments have; microseconds for the rest.
        if rng.random() < 0.9:
            node.created_at = node.created_at.replace(microsecond=rng.randrange(1, 1_000_000))
        else:
            node.created_at = node.created_at.replace(microsecond=0)
    votes = random.Random(f"votes:{shape}:{size}:{seed}")  # apart: the tree stays as it was
    for node in ordered:
        if votes.random() < 0.4:
            node.votes_up = min(int(votes.paretovariate(1.2)), 5_000)
        if votes.random() < 0.15:
            node.votes_down = min(int(votes.paretovariate(1.5)), 1_000)
    for node in reversed(ordered):  # children before parents: reply_count bottom-up
        node.reply_count = sum(1 for child in node.children if child.is_public)
    return ordered


def _sequence_max_id(connection) -> int:
    from django.db.models import Max

    from forum.models import Comment

    return Comment.objects.aggregate(m=Max("id"))["m"] or 0


def load_thread(post, nodes: list[Node], pool: list[tuple[str, str]]) -> None:
    """Insert ``nodes`` (``build_thread``) into ``post`` and set the post's counters."""
    from django.db import connection, transaction

    from forum.models import Comment, Post

    fields = [f for f in Comment._meta.concrete_fields]
    columns = [f.column for f in fields]
    base = _sequence_max_id(connection) + 1
    for offset, node in enumerate(nodes):
        node.id = base + offset
    postgres = connection.vendor == "postgresql"

    def dt(value):
        if value is None or postgres:
            return value
        return connection.ops.adapt_datetimefield_value(value)

    defaults = {f.column: f.get_db_prep_save(f.get_default(), connection) for f in fields}
    if postgres:
        defaults["moderation_reasons"] = "[]"
    post_id = post.pk

    def row(node: Node) -> list:
        body, body_html = pool[node.body]
        values = dict(defaults)
        values.update(
            id=node.id,
            post_id=post_id,
            parent_id=node.parent.id if node.parent else None,
            depth=node.depth,
            path=node.path,
            child_seq=len(node.children),
            author_name=node.author_name,
            body=body,
            body_html=body_html,
            status=node.status,
            removed_at=dt(node.removed_at),
            removal_kind="author" if node.removed_at else "",
            created_at=dt(node.created_at),
            edited_at=dt(node.edited_at),
            reply_count=node.reply_count,
            votes_up=node.votes_up,
            votes_down=node.votes_down,
            score=node.votes_up - node.votes_down,
        )
        return [values[c] for c in columns]

    with transaction.atomic():
        table = connection.ops.quote_name(Comment._meta.db_table)
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            if postgres:
                # Fresh statistics, so that the tree trigger's cached plan looks parents
                # up by primary key instead of scanning a table it believed empty.
                cursor.execute(f"ANALYZE {table}")
                raw = cursor.cursor  # psycopg's own cursor: COPY
                with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for node in nodes:
                        copy.write_row(row(node))
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [Comment._meta.db_table, base + len(nodes)],
                )
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
                    [row(node) for node in nodes],
                )
        Post.objects.filter(pk=post_id).update(
            top_seq=sum(1 for n in nodes if n.parent is None),
            top_level_count=sum(1 for n in nodes if n.parent is None and n.is_public),
            comment_count=_readable_count(nodes),
        )


def _readable_count(nodes: list[Node]) -> int:
    """``Post.comment_count`` of ``nodes`` (parents first): the approved comments not
    removed under no hidden comment (``forum.models.visible_comment_q``)."""
    shown: dict[int, bool] = {}
    count = 0
    for node in nodes:
        shown[id(node)] = node.is_public and (node.parent is None or shown[id(node.parent)])
        count += shown[id(node)] and node.status == "approved" and not node.removed_at
    return count


def check_counters(post_ids: list[int]) -> None:
    """Raise when a stored counter disagrees with what the services keep:
    ``reply_count`` = visible direct replies, ``child_seq`` = replies ever made,
    ``comment_count`` = approved, not removed, under no hidden comment,
    ``top_seq`` = top-level comments,
    ``top_level_count`` = visible top-level comments."""
    from django.db.models import Count, F, OuterRef, Q, Subquery
    from django.db.models.functions import Coalesce

    from forum.models import Comment, CommentStatus, Post, public_comment_q, visible_comment_q

    def counted(filter_q: Q):
        return Coalesce(
            Subquery(
                Comment.objects.filter(filter_q)
                .order_by()
                .values("parent_id")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            0,
        )

    visible_replies = counted(Q(parent_id=OuterRef("pk")) & public_comment_q())
    all_replies = counted(Q(parent_id=OuterRef("pk")))
    wrong = (
        Comment.objects.filter(post_id__in=post_ids)
        .annotate(visible=visible_replies, made=all_replies)
        .exclude(reply_count=F("visible"), child_seq=F("made"))
        .values_list("pk", "reply_count", "visible", "child_seq", "made")[:5]
    )
    if wrong:
        raise AssertionError(f"comment counters disagree (pk, stored, actual ...): {list(wrong)}")
    posts = Post.objects.filter(pk__in=post_ids).annotate(
        tops=Count("comments", filter=Q(comments__parent__isnull=True)),
        public_tops=Count(
            "comments",
            filter=Q(comments__parent__isnull=True, comments__status=CommentStatus.APPROVED)
            & (Q(comments__removed_at__isnull=True) | Q(comments__reply_count__gt=0)),
        ),
    )
    for post in posts:
        stored = (post.comment_count, post.top_seq, post.top_level_count)
        readable = Comment.objects.filter(visible_comment_q(), post=post, removed_at=None)
        actual = (readable.count(), post.tops, post.public_tops)
        if stored != actual:
            raise AssertionError(f"post {post.pk} counters: stored {stored}, actual {actual}")


def _snapshot(post) -> tuple:
    from forum.models import Comment, Post

    post = Post.objects.get(pk=post.pk)
    rows = list(
        Comment.objects.filter(post=post)
        .order_by("path")
        .values_list("path", "depth", "status", "removal_kind", "reply_count", "child_seq")
    )
    return post.comment_count, post.top_seq, post.top_level_count, rows


def check_loader_matches_services(blog, pool) -> None:
    """Build the same small thread through ``forum.services`` and through the loader
    (in a transaction rolled back afterwards) and compare them row by row."""
    from django.db import transaction

    from forum import services
    from forum.models import PostStatus, RemovalKind

    class Rollback(Exception):
        pass

    nodes = build_thread("deep", 120, seed=7, n_bodies=len(pool))
    try:
        with transaction.atomic():
            by_service = services.post_create(
                blog=blog, title="twin a", body="x", status=PostStatus.PUBLISHED
            )
            made: dict[int, object] = {}
            for i, node in enumerate(nodes):
                node.id = i + 1
                made[node.id] = services.comment_create(
                    post=by_service,
                    body=pool[node.body][0],
                    parent=made[node.parent.id] if node.parent else None,
                    author_name=node.author_name,
                    created_at=node.created_at,
                    status="approved",
                )
            for node in nodes:
                if node.status != "approved" or node.removed_at:
                    comment = services.comment_lock(comment_id=made[node.id].pk)
                    services.comment_set_state(
                        comment=comment,
                        status=node.status,
                        removed=bool(node.removed_at) or None,
                        removal_kind=RemovalKind.AUTHOR,
                    )
            by_loader = services.post_create(
                blog=blog, title="twin b", body="x", status=PostStatus.PUBLISHED
            )
            load_thread(by_loader, nodes, pool)
            expected, actual = _snapshot(by_service), _snapshot(by_loader)
            if expected != actual:
                diff = [(a, b) for a, b in zip(expected[3], actual[3], strict=True) if a != b]
                raise AssertionError(
                    f"loader and services disagree: posts {expected[:3]} vs {actual[:3]}, "
                    f"rows {diff[:5]}"
                )
            check_counters([by_service.pk, by_loader.pk])
            raise Rollback
    except Rollback:
        pass


def _recreate_database() -> None:
    """Drop and create the bench database (its name is in DATABASE_URL)."""
    import os

    import dj_database_url

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if config["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(config["NAME"]) + suffix).unlink(missing_ok=True)
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return
    import psycopg
    from psycopg import sql

    name = config["NAME"]
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _ensure_database_exists() -> None:
    import os

    import dj_database_url

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if config["ENGINE"].endswith("sqlite3"):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    try:
        psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=3).close()
    except psycopg.OperationalError:
        _recreate_database()


def _have_current_data() -> bool:
    """The current generator's threads are all there, untouched (their sizes)."""
    from django.db import DatabaseError
    from django.db.models import Count

    from forum.models import Comment

    try:
        ids = thread_ids()
        if set(ids) != {post_key(shape, size) for shape in SHAPES for size in SIZES}:
            return False
        sizes = dict(
            Comment.objects.filter(post_id__in=ids.values())
            .values_list("post_id")
            .annotate(n=Count("id"))
            .values_list("post_id", "n")
        )
    except DatabaseError:
        return False
    return all(sizes.get(pk) == int(key.rsplit(":", 1)[1]) for key, pk in ids.items())


def thread_ids() -> dict[str, int]:
    from forum.models import Post

    return dict(
        Post.objects.filter(import_key__startswith=f"bench:v{GEN_VERSION}:").values_list(
            "import_key", "pk"
        )
    )


def ensure(*, force: bool = False) -> dict:
    """Make sure the bench database holds the current data; return what was done."""
    import django
    from django.core.management import call_command
    from django.db import connection

    _ensure_database_exists()
    django.setup()
    try:
        call_command("migrate", verbosity=0, interactive=False)
    except Exception as exc:  # e.g. migrations rewritten since: start afresh
        log(f"  migrate failed ({exc}); recreating the bench database")
        force = True
    if not force and _have_current_data():
        return {"generated": False, "threads": thread_ids()}

    connection.close()
    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)

    from django.conf import settings

    from forum import services
    from forum.models import Blog, PostStatus

    pool = body_pool()
    blog = Blog.objects.create(
        slug=BLOG_SLUG, name="Bench", description=f"bench data v{GEN_VERSION}"
    )
    check_loader_matches_services(blog, pool)
    timings = {}
    for shape in SHAPES:
        for size in SIZES:
            nodes = build_thread(
                shape, size, n_bodies=len(pool), max_depth=settings.FORUM["MAX_COMMENT_DEPTH"]
            )
            post = services.post_create(
                blog=blog,
                title=f"{shape} thread of {size} comments",
                body="A bench thread.",
                status=PostStatus.PUBLISHED,
                published_at=START,
                import_key=post_key(shape, size),
            )
            started = time.perf_counter()
            load_thread(post, nodes, pool)
            timings[f"{shape}:{size}"] = round(time.perf_counter() - started, 3)
            log(f"  loaded {shape} {size}: {timings[f'{shape}:{size}']} s")
    ids = thread_ids()
    check_counters(list(ids.values()))
    # Statistics, as after any bulk load (autovacuum would take care of it on
    # PostgreSQL; SQLite has no statistics until ANALYZE runs, and its planner then
    # takes poor guesses, e.g. for the repeat check of forum.services).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"generated": True, "load_seconds": timings, "threads": ids}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="regenerate even when current")
    args = parser.parse_args()
    emit(ensure(force=args.force))


if __name__ == "__main__":
    main()
