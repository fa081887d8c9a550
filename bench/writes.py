"""Writes: a reply posted into a big thread, and an import through the services.

``python -m bench.writes`` (environment of one database, set by ``bench.run``):

- **reply**: ``POST /api/posts/{id}/comments/`` with a ``parent`` in a thread of
  10,000 comments (and of 1,000, to show that the statements do not grow), through
  Django's test ``Client`` in-process: median milliseconds and the statements of
  one such request, with the default synchronous commit and, interleaved, with
  ``FORUM_ASYNC_COMMENT_COMMIT`` (PostgreSQL: no wait for the WAL flush); plus
  ``forum.services.comment_create`` alone;
- **import**: 10,000 comments (two levels, like the seeds) created one by one through
  ``forum.services.comment_create`` in one transaction, as ``import_seeds`` does.

The threads are made by the bench loader in fresh posts and deleted afterwards.
"""

import argparse
import statistics
import time

from bench.common import emit, log, setup_django


def _fresh_post(blog, title: str):
    from forum import services
    from forum.models import PostStatus

    return services.post_create(blog=blog, title=title, body="x", status=PostStatus.PUBLISHED)


def _drop_posts(post_ids: list[int]) -> None:
    from django.db import connection, transaction

    from forum.models import Comment, Post

    with transaction.atomic(), connection.cursor() as cursor:
        table = Comment._meta.db_table
        marks = ", ".join(["%s"] * len(post_ids))
        cursor.execute(f"DELETE FROM {table} WHERE post_id IN ({marks})", post_ids)
        Post.objects.filter(pk__in=post_ids).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    setup_django()
    import gc

    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.data import BLOG_SLUG, body_pool, build_thread, check_counters, load_thread
    from forum import services
    from forum.models import Blog, Comment, CommentStatus, visible_comment_q

    pool = body_pool()
    blog = Blog.objects.get(slug=BLOG_SLUG)
    made: list[int] = []
    result: dict = {"db": connection.vendor}
    try:
        # --- a reply into a big thread -------------------------------------------
        statements = {}
        client = Client()
        for size in (1_000, 10_000):
            post = _fresh_post(blog, f"writes {size}")
            made.append(post.pk)
            load_thread(post, build_thread("two", size, seed=11, n_bodies=len(pool)), pool)
            parents = list(
                # (visible: a reply under a hidden comment is refused)
                Comment.objects.filter(visible_comment_q(), post=post, depth=1)
                .filter(removed_at__isnull=True)
                .values_list("pk", flat=True)[:200]
            )
            url = f"/api/posts/{post.pk}/comments/"
            with CaptureQueriesContext(connection) as queries:
                response = client.post(
                    url,
                    {"body": f"First reply into {size}.", "parent": parents[0]},
                    content_type="application/json",
                )
            assert response.status_code == 201, response.content
            statements[size] = len(queries)
            if size == 10_000:
                gc.collect()
                gc.freeze()
                runs = 15 if args.quick else 60
                api_ms: list[float] = []
                async_ms: list[float] = []
                for i in range(runs):
                    # interleaved: the default (synchronous commit), then with
                    # FORUM_ASYNC_COMMENT_COMMIT (PostgreSQL only; same on SQLite)
                    for async_commit, times in ((False, api_ms), (True, async_ms)):
                        settings.FORUM["ASYNC_COMMENT_COMMIT"] = async_commit
                        payload = {
                            "body": f"Reply number {i} ({async_commit}), posted by the bench.",
                            "parent": parents[i % len(parents)],
                        }
                        t0 = time.perf_counter_ns()
                        response = client.post(url, payload, content_type="application/json")
                        times.append((time.perf_counter_ns() - t0) / 1e6)
                        assert response.status_code == 201, response.content
                settings.FORUM["ASYNC_COMMENT_COMMIT"] = False
                service_ms = []
                parent_rows = list(Comment.objects.filter(pk__in=parents[:runs]))
                for i in range(runs):
                    t0 = time.perf_counter_ns()
                    services.comment_create(
                        post=post,
                        body=f"Service reply {i}.",
                        parent=parent_rows[i % len(parent_rows)],
                        status=CommentStatus.APPROVED,
                    )
                    service_ms.append((time.perf_counter_ns() - t0) / 1e6)
                result["reply_api_ms"] = round(statistics.median(api_ms), 3)
                result["reply_api_async_ms"] = round(statistics.median(async_ms), 3)
                result["reply_service_ms"] = round(statistics.median(service_ms), 3)
                check_counters([post.pk])
        result["reply_statements"] = statements
        log(
            f"  {connection.vendor}: reply {result['reply_api_ms']} ms over the API "
            f"({result['reply_api_async_ms']} ms with FORUM_ASYNC_COMMENT_COMMIT), "
            f"{result['reply_service_ms']} ms in the service; statements {statements}"
        )

        # --- an import through the services ---------------------------------------
        post = _fresh_post(blog, "import")
        made.append(post.pk)
        nodes = build_thread("two", 10_000, seed=12, n_bodies=len(pool))
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        with transaction.atomic():
            created: dict[int, Comment] = {}  # by id() of the generator's node
            for node in nodes:
                created[id(node)] = services.comment_create(
                    post=post,
                    body=pool[node.body][0],
                    parent=created[id(node.parent)] if node.parent is not None else None,
                    author_name=node.author_name,
                    created_at=node.created_at,
                    status=CommentStatus.APPROVED,
                )
        result["import_10k_s"] = round(time.perf_counter() - started, 3)
        # This process's own CPU: on SQLite all of the work, whatever else runs here.
        result["import_10k_cpu_s"] = round(time.process_time() - cpu, 3)
        check_counters([post.pk])
        log(f"  {connection.vendor}: imported 10,000 comments in {result['import_10k_s']} s")
    finally:
        gc.unfreeze()
        _drop_posts(made)
    emit({"writes": result})


if __name__ == "__main__":
    main()
