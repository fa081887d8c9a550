"""Sort orders side by side: ``python -m bench.sorts`` (started by ``bench.run`` with
the environment of one database) prints one JSON line: for the 10,000-comment
threads, the median milliseconds of ``GET /api/posts/{id}/comments/`` under
``sort=oldest`` (the default order) and ``sort=top`` (by score), on the first and the
last page and by cursor, with the queries each request made (thread cache off), and
the ratio top / oldest.
"""

import argparse
import gc
import os

from bench.common import emit, log, measure, setup_django

SIZE = 10_000
SHAPES = ("two", "flat")
PAGES = (("page 1", {}), ("last page", {"page": "last"}), ("cursor, page 1", {"cursor": ""}))


def _request(client, url: str):
    def read():
        response = client.get(url)
        if response.status_code != 200:
            raise AssertionError(f"{url}: {response.status_code}")
        return response

    return read


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args()
    setup_django()
    from urllib.parse import urlencode

    import orjson
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.data import post_key, thread_ids

    ids = thread_ids()
    client = Client()
    budget = 0.4 if args.quick else 1.2
    gc.collect()
    gc.freeze()
    rows = []
    for shape in SHAPES:
        post_id = ids[post_key(shape, SIZE)]
        for page_size in (50, 200):
            for label, params in PAGES:
                reads, queries, tops = {}, {}, {}
                for sort in ("oldest", "top"):
                    query = urlencode({"page_size": page_size, "sort": sort, **params})
                    reads[sort] = _request(client, f"/api/posts/{post_id}/comments/?{query}")
                    with CaptureQueriesContext(connection) as captured:
                        body = reads[sort]().content
                    queries[sort] = len(captured)
                    tops[sort] = len(orjson.loads(body)["results"])
                times = measure(reads, budget_s=budget)
                row = {
                    "db": connection.vendor,
                    "shape": shape,
                    "size": SIZE,
                    "page_size": page_size,
                    "page": label,
                    "top_level": tops["top"],
                    "oldest_ms": round(times["oldest"], 3),
                    "top_ms": round(times["top"], 3),
                    "oldest_queries": queries["oldest"],
                    "top_queries": queries["top"],
                    "ratio": round(times["top"] / times["oldest"], 2),
                }
                log(
                    f"  {row['db']} {shape}:{SIZE} page_size={page_size:<3} {label:<14} "
                    f"oldest={row['oldest_ms']:.2f} ms ({row['oldest_queries']} q) "
                    f"top={row['top_ms']:.2f} ms ({row['top_queries']} q) ratio={row['ratio']}"
                )
                rows.append(row)
    if os.environ.get("CACHE_URL", "").startswith("redis://"):
        from django.core.cache import cache

        cache.delete_pattern("*")
    emit({"sorts": rows})


if __name__ == "__main__":
    main()
