"""forum.bulk: the imports' one write path keeps every rule the live services keep
(paths, counters, tree rules, tombstones), in statements that do not grow with the
number of comments, with one cache bump per changed thread."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum import bulk, services
from forum.models import Comment, CommentStatus, ImportRecord, Post
from tests.factories import BlogFactory
from tests.hardening.integrity import expected_thread_ids, public_thread_ids, tree_problems

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def post_record(key: str = "p") -> bulk.PostRecord:
    return bulk.PostRecord(key=key, title=f"Post {key}", body="Body.", published_at=T0)


def comment(key: str, parent: str | None = None, minute: int = 0, **fields) -> bulk.CommentRecord:
    return bulk.CommentRecord(
        key=key,
        post_key=fields.pop("post_key", "p"),
        parent_key=parent,
        body=fields.pop("body", f"Comment {key}."),
        created_at=T0 + datetime.timedelta(minutes=minute),
        **fields,
    )


def run(blog, comments, posts=None) -> bulk.BulkReport:
    return bulk.import_threads(
        blog=blog,
        posts=posts or [post_record()],
        comments=comments,
        source_format="test",
        source_name="test.xml",
    )


@pytest.fixture
def blog(db):
    return BlogFactory(slug="bulk")


def test_paths_follow_time_order_and_counters_match_a_recount(blog):
    records = [
        comment("c", minute=3),
        comment("a", minute=1),
        comment("a2", "a", minute=5),
        comment("a1", "a", minute=4),
        comment("b", minute=2, status=CommentStatus.PENDING),
        comment("b1", "b", minute=6),
    ]
    report = run(blog, records)
    paths = dict(Comment.objects.values_list("import_key", "path"))
    assert paths == {
        "a": "000001",
        "b": "000002",
        "c": "000003",
        "a1": "000001000001",
        "a2": "000001000002",
        "b1": "000002000001",
    }
    assert Comment.objects.get(import_key="b").moderation_reasons == ["imported_pending"]
    assert report.by_status == {"approved": 5, "pending": 1}
    assert tree_problems() == []
    post = Post.objects.get()
    assert public_thread_ids(post.pk) == expected_thread_ids(post.pk)


def test_statements_do_not_grow_with_the_number_of_comments(blog):
    def statements(count: int, key: str) -> int:
        records = [comment(f"{key}{i}", minute=i, post_key=key) for i in range(count)]
        records += [
            comment(f"{key}{i}r", f"{key}{i}", minute=i, post_key=key) for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            run(blog, records, posts=[post_record(key)])
        return len(queries)

    small, large = statements(10, "s"), statements(400, "l")
    # 800 rows: the same statements plus one more INSERT batch per depth level
    # (BATCH_SIZE = 500) and one more import-key lookup per 900 keys.
    assert large <= small + 2


def test_a_thread_is_bumped_once_per_import_after_commit(blog, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        run(blog, [comment(str(i), minute=i) for i in range(50)])
    assert len(callbacks) == 1


def test_replies_under_existing_rows_append_and_revive_tombstones_up_the_tree(blog):
    run(blog, [comment("a"), comment("b", "a", minute=1)])
    post = Post.objects.get()
    a, b = Comment.objects.get(import_key="a"), Comment.objects.get(import_key="b")
    live = services.comment_create(post=post, body="Live reply.", parent=a)
    for removed in (b, a):  # both removed: b has no public reply, so neither shows
        services.comment_set_state(
            comment=services.comment_lock(comment_id=removed.pk), removed=True
        )
    live = services.comment_set_state(
        comment=services.comment_lock(comment_id=live.pk), status=CommentStatus.SPAM
    )
    post.refresh_from_db()
    assert (post.top_level_count, post.comment_count) == (0, 0)

    report = run(blog, [comment("a"), comment("b", "a"), comment("c", "b", minute=9)])

    assert (report.comments_created, report.comments_skipped) == (1, 2)
    c = Comment.objects.get(import_key="c")
    assert c.path == b.path + "000001"
    post.refresh_from_db()
    assert (post.top_level_count, post.comment_count) == (1, 1)
    assert public_thread_ids(post.pk) == {a.pk, b.pk, c.pk}
    assert tree_problems() == []


def test_a_new_reply_to_an_existing_parent_takes_the_next_step(blog):
    run(blog, [comment("a")])
    a = Comment.objects.get(import_key="a")
    services.comment_create(post=Post.objects.get(), body="Live.", parent=a)
    run(blog, [comment("a"), comment("x", "a", minute=1)])
    assert Comment.objects.get(import_key="x").path == a.path + "000002"
    assert tree_problems() == []


def test_too_deep_replies_go_under_the_deepest_allowed_ancestor(blog, settings):
    settings.FORUM = {**settings.FORUM, "MAX_COMMENT_DEPTH": 3}
    chain = [comment("0")] + [comment(str(i), str(i - 1), minute=i) for i in range(1, 7)]
    report = run(blog, chain)
    depths = dict(Comment.objects.values_list("import_key", "depth"))
    assert depths == {"0": 0, "1": 1, "2": 2, "3": 3, "4": 3, "5": 3, "6": 3}
    assert report.flattened == 3
    assert tree_problems() == []


def test_missing_parents_and_parents_on_other_posts_make_top_level_comments(blog):
    posts = [post_record("p"), post_record("q")]
    report = run(
        blog,
        [comment("a"), comment("b", "gone"), comment("c", "a", post_key="q")],
        posts=posts,
    )
    assert report.reparented == 2
    assert set(
        Comment.objects.filter(parent__isnull=True).values_list("import_key", flat=True)
    ) == {
        "a",
        "b",
        "c",
    }
    assert tree_problems() == []


def test_an_import_that_adds_nothing_records_nothing(blog):
    run(blog, [comment("a")])
    run(blog, [comment("a")])
    assert ImportRecord.objects.count() == 1


def test_removed_comments_are_tombstones_only_while_they_have_public_replies(blog):
    run(
        blog,
        [
            comment("a", removed=True),
            comment("a1", "a", minute=1),
            comment("b", removed=True, minute=2),
            comment("c", minute=3, status=CommentStatus.SPAM),
            comment("c1", "c", minute=4),
        ],
    )
    post = Post.objects.get()
    rows = {c.import_key: c for c in Comment.objects.all()}
    assert rows["a"].is_public and not rows["b"].is_public
    assert rows["a"].removed_at is not None and rows["a"].removal_kind == "moderator"
    # c1 sits under a spam comment: the public cannot read it, so it is not counted.
    assert (post.comment_count, post.top_level_count) == (1, 1)
    assert public_thread_ids(post.pk) == {rows["a"].pk, rows["a1"].pk}
    assert tree_problems() == []
    assert rows["a"].removed_at <= timezone.now()


def test_one_import_event_per_file_that_wrote_something_and_none_per_comment(blog):
    from forum.events import Event

    run(blog, [comment(str(i), minute=i) for i in range(5)])
    run(blog, [comment(str(i), minute=i) for i in range(5)])
    (event,) = Event.objects.all()
    record = ImportRecord.objects.get()
    assert (event.kind, event.blog_id, event.post_id) == ("blog.imported", blog.pk, None)
    assert event.data == {
        "import_record": record.pk,
        "format": "test",
        "source": "test.xml",
        "posts_created": 1,
        "comments_created": 5,
    }
