"""Load the exported bench thread into django-comments-xtd and time its API endpoint.

Run by ``bench/xtd.py`` with ``bench/.venv-xtd/bin/python``; prints one JSON line.
"""

import datetime
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["DJANGO_SETTINGS_MODULE"] = "peer.settings"


def main() -> None:
    import django

    django.setup()
    import django_comments_xtd
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_comments_xtd.models import XtdComment
    from peer.models import Article

    export = json.loads(Path(sys.argv[1]).read_text())
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    article = Article.objects.filter(title=export["key"]).first()
    load_seconds = None
    if article is None:
        started = time.perf_counter()
        with transaction.atomic():
            XtdComment.objects.all().delete()
            Article.objects.all().delete()
            article = Article.objects.create(title=export["key"])
            content_type = ContentType.objects.get_for_model(Article)
            site = Site.objects.get_current()
            made: list[XtdComment] = []
            for row in export["comments"]:
                comment = XtdComment(
                    content_type=content_type,
                    object_pk=str(article.pk),
                    site=site,
                    user_name=row["name"] or "Anonymous",
                    user_email="reader@example.org",
                    comment=row["body"],
                    submit_date=datetime.datetime.fromisoformat(row["created_at"]),
                    is_public=row["public"],
                    is_removed=row["removed"],
                    parent_id=made[row["parent"]].pk if row["parent"] is not None else 0,
                )
                comment.save()
                made.append(comment)
        load_seconds = round(time.perf_counter() - started, 2)

    client = Client()
    url = f"/comments/api/peer-article/{article.pk}/"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    query_count = len(queries)
    assert response.status_code == 200, response.status_code
    data = response.json()
    for _ in range(3):
        client.get(url)
    gc.collect()
    gc.freeze()
    samples = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter_ns()
        client.get(url)
        samples.append(time.perf_counter_ns() - t0)
    print(
        json.dumps(
            {
                "theirs_ms": statistics.median(samples) / 1e6,
                "comments": len(data),
                "top_level": sum(1 for c in data if c["level"] == 0),
                "queries": query_count,
                "bytes": len(response.content),
                "version": django_comments_xtd.get_version(),
                "endpoint": "GET /comments/api/peer-article/<pk>/ (CommentList)",
                "load_seconds": load_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
