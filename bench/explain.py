"""The query plans of a thread page on the bench data (``EXPLAIN``, with ``ANALYZE``
on PostgreSQL), written to ``bench/results/explain-<database>.txt``.

``python -m bench.explain`` (environment of one database, set by ``bench.run``)
captures the queries of ``forum.thread_page.thread_page`` for the first page, a page
by cursor deep in the thread, a deep page number and a page with ``replies_limit``
of the 100,000-comment two-level thread, and explains each. The JSON it prints says
which index each query used.
"""

import re

from bench.common import RESULTS_DIR, emit, setup_django

_INDEX_IN_PLAN = r"(?:INDEX|[Ii]ndex (?:Only )?Scan(?: Backward)? using) (\w+)"


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.data import post_key, thread_ids
    from forum import thread_page

    post_id = thread_ids()[post_key("two", 100_000)]
    cases = {
        "first page (page_size=200)": {"page": 1, "page_size": 200},
        "page 90 by number (page_size=200)": {"page": 90, "page_size": 200},
        "page by cursor, deep (page_size=200)": {"page": None, "after": "015000", "page_size": 200},
        "page backwards by cursor": {"page": None, "before": "015000", "page_size": 200},
        "first page, replies_limit=2": {"page": 1, "page_size": 200, "replies_limit": 2},
    }
    postgres = connection.vendor == "postgresql"
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    lines = [f"# Thread query plans on {connection.vendor}, post {post_id} (two:100000)\n"]
    used: dict[str, list[str]] = {}
    for label, kwargs in cases.items():
        with CaptureQueriesContext(connection) as queries:
            thread_page.thread_page(post_id=post_id, **kwargs)
        used[label] = []
        lines.append(f"\n## {label}\n")
        for query in queries.captured_queries:
            with connection.cursor() as cursor:
                cursor.execute(explain + query["sql"])
                plan = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
            lines.append(f"\n{query['sql']}\n\n{plan}\n")
            indexes = re.findall(_INDEX_IN_PLAN, plan)
            used[label].append(", ".join(dict.fromkeys(indexes)) or "primary key")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"explain-{connection.vendor}.txt").write_text("".join(lines))
    emit({"explain": {"db": connection.vendor, "indexes": used}})


if __name__ == "__main__":
    main()
