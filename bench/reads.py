"""Thread reads: the floor against our endpoint, on the database of ``DATABASE_URL``.

``python -m bench.reads`` (started by ``bench.run`` with the environment of one
database and one cache) prints one JSON line: for each bench thread and page size,
the median milliseconds of

- **floor**: one query on the raw driver connection (``sqlite3`` / ``psycopg``,
  not Django's) fetching the page's comments by path range (bounds known in
  advance), nested in one pass, ``orjson.dumps``;
- **ours**: ``GET /api/posts/{id}/comments/`` through Django's test ``Client``: the
  real URL, middleware, DRF view, selector and rendering, in-process; with the
  thread cache off (``CACHE_URL=dummy://``) unless ``--cached``;

and the number of queries our request made.
"""

import argparse
import gc
import os

import orjson

from bench.common import emit, log, measure, setup_django

FLOOR_COLUMNS = (
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


def raw_connection():
    """A connection of the database driver itself, outside Django."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        import sqlite3

        raw = sqlite3.connect(settings["NAME"])
        raw.executescript(settings["OPTIONS"].get("init_command", ""))  # same PRAGMAs as ours
        return raw, "?"
    import psycopg

    return (
        psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname=settings["NAME"],
            autocommit=True,
        ),
        "%s",
    )


def page_bounds(post_id: int, page_size: int) -> tuple[str, str | None]:
    """First top-level path of page 1 and of page 2 (None: no page 2)."""
    from forum.models import Comment, public_comment_q

    paths = list(
        Comment.objects.filter(public_comment_q(), post_id=post_id, parent__isnull=True)
        .order_by("path")
        .values_list("path", flat=True)[: page_size + 1]
    )
    return paths[0], (paths[page_size] if len(paths) > page_size else None)


def make_floor(conn, mark: str, post_id: int, page_size: int):
    low, high = page_bounds(post_id, page_size)
    columns = ", ".join(FLOOR_COLUMNS)
    sql = (
        f"SELECT {columns} FROM forum_comment WHERE post_id = {mark} AND path >= {mark}"
        + (f" AND path < {mark}" if high else "")
        + " AND status = 'approved' ORDER BY path"
    )
    params = [post_id, low] + ([high] if high else [])

    def floor() -> bytes:
        cursor = conn.cursor()
        cursor.execute(sql, params)
        results: list = []
        nodes: dict = {}
        for row in cursor.fetchall():
            node = dict(zip(FLOOR_COLUMNS, row, strict=True))
            node["replies"] = []
            nodes[row[0]] = node
            parent = row[2]
            if parent is None:
                results.append(node)
            else:
                up = nodes.get(parent)
                if up is not None:
                    up["replies"].append(node)
        return orjson.dumps(results)

    return floor


EQUAL_COLUMNS = (
    "id, parent_id, depth, author_name, body, body_html, removed_at, created_at, "
    "edited_at, reply_count, body_format, score, votes_up, votes_down, pinned_at"
)


def make_equal_floor(conn, mark: str, post_id: int, page_size: int, vendor: str):
    """The same ``results`` as ours, built by hand: one query on the raw driver (the
    page's public comments by path range, bounds known in advance), the driver's own
    timestamps formatted as the API writes them, the same dicts nested in one pass,
    ``orjson.dumps``. No count, no page lookup, no HTTP."""
    import datetime

    from django.utils import timezone

    from forum.models import PUBLIC_COMMENT_SQL
    from forum.selectors import author_is_moderator_sql, iso_datetime

    low, high = page_bounds(post_id, page_size)
    # The moderator badge is part of the output: the same per-row lookup as ours.
    sql = (
        f"SELECT {EQUAL_COLUMNS}, {author_is_moderator_sql('forum_comment')} "
        f"FROM forum_comment WHERE post_id = {mark} "
        f"AND path >= {mark}"
        + (f" AND path < {mark}" if high else "")
        + f" AND {PUBLIC_COMMENT_SQL} ORDER BY path"
    )
    params = [post_id, low] + ([high] if high else [])
    tz = timezone.get_current_timezone()
    text_times = vendor == "sqlite"  # sqlite3 hands over the stored text

    def moment(value):
        if value is None:
            return None
        if text_times:
            value = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
        return iso_datetime(value, tz)

    def floor() -> bytes:
        cursor = conn.cursor()
        cursor.execute(sql, params)
        results: list = []
        nodes: dict = {}
        for (
            cid,
            parent,
            depth,
            name,
            body,
            html,
            removed_at,
            created,
            edited,
            replies,
            body_format,
            score,
            votes_up,
            votes_down,
            pinned_at,
            badge,
        ) in cursor.fetchall():
            if parent is None:
                siblings = results
            else:
                up = nodes.get(parent)
                if up is None:
                    continue
                siblings = up["replies"]
            removed = removed_at is not None
            node = {
                "id": cid,
                "post": post_id,
                "parent": parent,
                "depth": depth,
                "author_name": name or None,
                "display_name": name or "Anonymous",
                "is_anonymous": not name,
                "body": None if removed else body,
                "body_html": None if removed else html,
                "status": "approved",
                "removed": removed,
                "created_at": moment(created),
                "edited_at": moment(edited),
                "reply_count": replies,
                "format": body_format,
                "score": score,
                "votes_up": votes_up,
                "votes_down": votes_down,
                "pinned": pinned_at is not None,
                "author_is_moderator": bool(badge),
                "replies": [],
            }
            nodes[cid] = node
            siblings.append(node)
        return orjson.dumps(results)

    return floor


def make_ours(client, post_id: int, page_size: int):
    url = f"/api/posts/{post_id}/comments/?page_size={page_size}"

    def ours():
        response = client.get(url)
        if response.status_code != 200:
            raise AssertionError(f"{url}: {response.status_code}")
        return response

    return ours


def count_nodes(nodes: list) -> int:
    return sum(1 + count_nodes(node["replies"]) for node in nodes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cached", action="store_true", help="measure warm cache reads")
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--targets", action="store_true", help="only the pages of the targets")
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.data import SHAPES, SIZES, post_key, thread_ids

    ids = thread_ids()
    conn, mark = raw_connection()
    client = Client()
    budget = 0.4 if args.quick else 1.2
    # As a gunicorn worker does after loading the app (config/gunicorn.py): what was
    # loaded is never garbage; the collector then only walks what a request makes.
    gc.collect()
    gc.freeze()
    rows = []
    cases = [(shape, size, 200) for shape in SHAPES for size in SIZES]
    cases += [("two", 100_000, 50), ("deep", 100_000, 50), ("flat", 100_000, 50)]
    if args.targets:
        cases = [("two", 1_000, 200), ("two", 100_000, 50), ("two", 100_000, 200)]
    for shape, size, page_size in cases:
        post_id = ids[post_key(shape, size)]
        floor = make_floor(conn, mark, post_id, page_size)
        equal = make_equal_floor(conn, mark, post_id, page_size, connection.vendor)
        ours = make_ours(client, post_id, page_size)
        with CaptureQueriesContext(connection) as queries:
            body = ours().content
        query_count = len(queries)  # now: each request clears the connection's log
        data = orjson.loads(body)
        if orjson.loads(equal()) != data["results"]:
            raise AssertionError(f"{shape}:{size}: the equal-output floor differs from ours")
        functions = {"floor": floor, "ours": ours}
        if not args.cached:
            functions["equal"] = equal
        elif os.environ.get("CACHE_URL", "").startswith("redis://"):
            from forum.thread_cache import local_pages

            def shared(ours=ours):  # a process that does not hold the page: from Redis
                local_pages.clear()
                return ours()

            functions["shared"] = shared
        times = measure(functions, budget_s=budget)
        row = {
            "db": connection.vendor,
            "cache": os.environ.get("CACHE_URL", ""),
            "cached": args.cached,
            "shape": shape,
            "size": size,
            "page_size": page_size,
            "top_level": len(data["results"]),
            "comments": count_nodes(data["results"]),
            "bytes": len(body),
            "queries": query_count,
            "floor_ms": round(times["floor"], 3),
            "ours_ms": round(times["ours"], 3),
            "ratio": round(times["ours"] / times["floor"], 2),
        }
        if "shared" in times:
            row["shared_ms"] = round(times["shared"], 3)
        if "equal" in times:
            row["equal_ms"] = round(times["equal"], 3)
            row["equal_ratio"] = round(times["ours"] / times["equal"], 2)
        log(
            f"  {row['db']} {shape:>4} {size:>6} page_size={page_size:<3} "
            f"comments={row['comments']:<5} floor={row['floor_ms']:.2f} ms "
            f"ours={row['ours_ms']:.2f} ms ratio={row['ratio']} queries={row['queries']}"
        )
        rows.append(row)
    result: dict = {"reads": rows}
    if os.environ.get("CACHE_URL", "").startswith("redis://"):
        from django.core.cache import cache

        result["redis_commands"] = redis_commands_per_cached_read(client, cache, ids)
        cache.delete_pattern("*")  # this run's keys only: they carry its prefix
    emit(result)


def redis_commands_per_cached_read(client, cache, ids: dict) -> dict[str, list[str]]:
    """The Redis commands (names) one cached read of the first page of ``two:1000``
    sends, watched with MONITOR and told apart from other clients by this run's key
    prefix: by a process that does not hold the page yet (``shared``) and by one that
    does (``held``)."""
    import uuid

    from bench.data import post_key
    from forum.thread_cache import local_pages

    url = f"/api/posts/{ids[post_key('two', 1_000)]}/comments/"
    client.get(url)  # cached now
    raw = cache.client.get_client()
    prefix = cache.key_prefix
    found = {}
    for case in ("shared", "held"):
        if case == "shared":
            local_pages.clear()  # a process that does not hold the page yet
        marker = f"{prefix}:monitor-end:{uuid.uuid4().hex}"
        seen = []
        with raw.monitor() as monitor:
            client.get(url)
            raw.get(marker)
            while True:
                command = monitor.next_command()["command"].split()
                if marker in command:
                    break
                if any(prefix in part for part in command):
                    seen.append(command[0])
        found[case] = seen
    return found


if __name__ == "__main__":
    main()
