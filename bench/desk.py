"""The moderators' desk: ``GET /admin/moderation/desk/`` with 1,000 held items from
300 posters, a page of 50 cards.

``python -m bench.desk`` (environment of one database, set by ``bench.run``): a
blog of its own with 20 posts, each poster with a history (approved, rejected and
spam comments), a tenth of the held comments flagged, and a moderator logged in
through Django's test ``Client`` in-process (every middleware, the admin's login
check, the template). Median milliseconds of the page and its number of queries;
everything made is deleted afterwards. Static files are served unhashed here (the
bench does not run ``collectstatic``).
"""

import argparse
import statistics
import time

from bench.common import emit, log, setup_django

HELD = 1_000
POSTERS = 300
HISTORY = 3  # decided comments per poster


def _make(blog_slug: str) -> dict:
    from django.utils import timezone

    from accounts.models import User
    from forum import services
    from forum.identity import ip_hash
    from forum.models import CommentStatus, FlagReason, PostStatus
    from moderation import services as moderation

    blog = services.blog_create(name="Desk bench", slug=blog_slug)
    posts = [
        services.post_create(
            blog=blog, title=f"Desk bench post {n}", body="x", status=PostStatus.PUBLISHED
        )
        for n in range(20)
    ]
    moderator = moderation.moderator_grant(user=User.objects.create_user("desk-bench-mod"))
    networks = [ip_hash(f"10.77.{n // 250}.{n % 250}") for n in range(POSTERS)]
    for n, network in enumerate(networks):
        for h, status in enumerate(
            (CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.SPAM)[:HISTORY]
        ):
            services.comment_create(
                post=posts[(n + h) % 20],
                body=f"Earlier comment {h} of poster {n}.",
                author_name=f"Poster {n}" if n % 2 else "",
                ip_hash=network,
                status=status,
            )
    now = timezone.now()
    for n in range(HELD):
        flagged = n % 10 == 0  # a tenth: published, then taken down by three readers
        comment = services.comment_create(
            post=posts[n % 20],
            body=f"Held comment {n}: http://example.com/{n} something to say.",
            author_name=f"Poster {n % POSTERS}" if (n % POSTERS) % 2 else "",
            ip_hash=networks[n % POSTERS],
            status=CommentStatus.APPROVED if flagged else CommentStatus.PENDING,
            created_at=now,
        )
        for reader in range(3 if flagged else 0):
            services.flag_create(
                comment=comment,
                reason=FlagReason.SPAM,
                ip_hash=ip_hash(f"10.88.{reader}.{n % 250}"),
                note="Looks like an advert.",
            )
    return {"blog": blog, "moderator": moderator}


def _drop(blog, moderator) -> None:
    from django.db import connection, transaction

    from forum.models import Comment, Flag, Post
    from moderation.models import BlogPolicy

    with transaction.atomic():
        Flag.objects.filter(comment__post__blog=blog).delete()
        with connection.cursor() as cursor:
            ids = list(Post.objects.filter(blog=blog).values_list("pk", flat=True))
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"DELETE FROM {Comment._meta.db_table} WHERE post_id IN ({marks})", ids)
        Post.objects.filter(blog=blog).delete()
        BlogPolicy.objects.filter(blog=blog).delete()
        blog.delete()
        moderator.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    setup_django()
    import gc

    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # no-op once the data phase migrated
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    slug = "desk-bench"
    from forum.models import Blog

    for stale in Blog.objects.filter(slug=slug):  # a run that died half-way
        from accounts.models import User

        _drop(stale, User.objects.filter(username="desk-bench-mod").first() or User())
    started = time.perf_counter()
    made = _make(slug)
    log(f"  {connection.vendor}: {HELD} held items made in {time.perf_counter() - started:.1f} s")
    result: dict = {"db": connection.vendor, "held": HELD, "posters": POSTERS}
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    try:
        with override_settings(STORAGES=storages):
            client = Client()
            client.force_login(made["moderator"])
            url = f"/admin/moderation/desk/?blog={slug}"
            response = client.get(url)  # warm: templates, content types, sessions
            assert response.status_code == 200, response.content[:500]
            assert response.content.count(b'<article class="desk-card') == 50
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
                query_count = len(queries)  # now: each request clears the connection's log
            gc.collect()
            gc.freeze()
            samples, cpu = [], []
            for _ in range(10 if args.quick else 40):
                t0, c0 = time.perf_counter_ns(), time.process_time_ns()
                response = client.get(url)
                samples.append((time.perf_counter_ns() - t0) / 1e6)
                cpu.append((time.process_time_ns() - c0) / 1e6)
                assert response.status_code == 200
        result["page_ms"] = round(statistics.median(samples), 2)
        # This process's own CPU: on SQLite all of the work, whatever else runs here.
        result["page_cpu_ms"] = round(statistics.median(cpu), 2)
        result["queries"] = query_count
        log(
            f"  {connection.vendor}: desk page of 50 cards {result['page_ms']} ms, "
            f"{result['queries']} queries"
        )
    finally:
        gc.unfreeze()
        _drop(made["blog"], made["moderator"])
    emit({"desk": result})


if __name__ == "__main__":
    main()
