"""Integrity under concurrency, on PostgreSQL (real row locks, real parallel
transactions; SQLite serializes every writer, so there is nothing to race).

Each worker is a thread with its own database connection, closed when it ends; a
barrier starts them together. Afterwards the rows are recounted (tests/hardening/
integrity.py): no lost reply, no orphan, every counter right.
"""

import random
import threading
import time
from collections.abc import Callable
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from fixtures.parser import SeedParseError
from fixtures.services import seed_file_import
from forum import posts as forum_posts
from forum import services
from forum.errors import Conflict, InvalidInput, ServiceError
from forum.models import Blog, Comment, CommentStatus, Post, PostStatus
from moderation import comment_actions
from moderation import services as moderation
from moderation.models import ActionKind, ModerationAction
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment
from tests.fixtures.seeds import seed_file
from tests.hardening.integrity import expected_thread_ids, public_thread_ids, tree_problems

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite runs one writer at a time, so nothing races",
    ),
    pytest.mark.django_db(transaction=True),
]

WRITERS = 50
REPLIES_PER_WRITER = 4


def run_parallel(workers: list[Callable[[], object]], *, timeout: float = 60) -> list:
    """Run each callable in its own thread, all released at once; return what each
    returned or raised, in order."""
    barrier = threading.Barrier(len(workers))
    outcomes: list = [None] * len(workers)

    def run(index: int, work: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = work()
        except BaseException as exc:  # reported to the test, which decides
            outcomes[index] = exc
        finally:
            connections.close_all()  # this thread's own connection

    threads = [
        threading.Thread(target=run, args=(index, work), daemon=True)
        for index, work in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a worker hung (deadlock?)"
    return outcomes


def moderator_user(name: str):
    return moderation.moderator_grant(user=UserFactory(username=name))


# --- (a) many writers replying into one thread ----------------------------------------


def _writer(post_id: int, number: int, created: list, refused: list) -> Callable[[], None]:
    max_depth = settings.FORUM["MAX_COMMENT_DEPTH"]

    def write() -> None:
        rng = random.Random(number)
        post = Post.objects.get(pk=post_id)
        for reply in range(REPLIES_PER_WRITER):
            # Any comment visible right now (and sometimes none: a new top-level one).
            candidates = list(
                Comment.objects.public().filter(post_id=post_id, removed_at__isnull=True)
            )
            parent = rng.choice([*candidates, None])
            try:
                comment = services.comment_create(
                    post=post,
                    parent=parent,
                    body=f"Writer {number}, reply {reply}.",
                    author_name=f"Writer {number}",
                )
            except InvalidInput as exc:
                # Only the depth bound may refuse a reply here (nothing is hidden).
                assert parent is not None and parent.depth + 1 > max_depth, exc
                refused.append(parent.pk)
                continue
            created.append(comment.pk)

    return write


def test_fifty_parallel_writers_lose_no_reply_and_keep_every_count():
    post = PostFactory()
    seeds = [make_comment(post, body=f"Seed {i}.") for i in range(3)]
    seeds.append(make_comment(post, body="A reply to seed 0.", parent=seeds[0]))
    created: list[int] = []
    refused: list[int] = []

    outcomes = run_parallel(
        [_writer(post.pk, number, created, refused) for number in range(WRITERS)]
    )

    assert [o for o in outcomes if o is not None] == []
    assert len(created) + len(refused) == WRITERS * REPLIES_PER_WRITER
    assert len(set(created)) == len(created)
    stored = set(Comment.objects.filter(post=post).values_list("pk", flat=True))
    assert stored == set(created) | {seed.pk for seed in seeds}, "a reply was lost"
    assert tree_problems([post.pk]) == []
    # Nothing was hidden: every comment is in the public thread.
    assert public_thread_ids(post.pk) == stored == expected_thread_ids(post.pk)


def test_writers_racing_moderators_keep_every_count_and_every_visible_reply():
    """Replies while moderators remove and restore comments of the same thread
    (tombstones appear and go): a reply accepted under a parent being removed stays,
    under a tombstone; a reply refused because its parent went is refused cleanly."""
    post = PostFactory()
    for i in range(4):
        top = make_comment(post, body=f"Seed {i}.")
        make_comment(post, body=f"Reply to seed {i}.", parent=top)
    moderators = [moderator_user(f"racer{i}") for i in range(5)]
    created: list[int] = []
    decisions: list[str] = []

    def write(number: int) -> Callable[[], None]:
        def work() -> None:
            rng = random.Random(number)
            for reply in range(3):
                candidates = list(Comment.objects.public().filter(post_id=post.pk, depth__lt=4))
                parent = rng.choice([*candidates, None])
                try:
                    comment = services.comment_create(
                        post=post, parent=parent, body=f"Racer {number}/{reply}."
                    )
                except InvalidInput:  # the parent was removed since it was read
                    continue
                created.append(comment.pk)

        return work

    def moderate(actor) -> Callable[[], None]:
        def work() -> None:
            rng = random.Random(actor.pk)
            for _ in range(6):
                ids = list(Comment.objects.filter(post_id=post.pk).values_list("pk", flat=True))
                verb = rng.choice([moderation.comment_remove, moderation.comment_restore])
                try:
                    outcome = verb(comment_id=rng.choice(ids), actor=actor)
                except Conflict:
                    continue
                if outcome.changed:
                    decisions.append(outcome.action.action)

        return work

    outcomes = run_parallel([write(n) for n in range(30)] + [moderate(m) for m in moderators])

    assert [o for o in outcomes if o is not None] == []
    stored = set(Comment.objects.filter(post=post).values_list("pk", flat=True))
    assert set(created) <= stored, "a reply was lost"
    assert tree_problems([post.pk]) == []
    assert ModerationAction.objects.count() == len(decisions)
    # Removal never hides a reply: every comment not removed is in the public thread,
    # under its ancestors (tombstones where they were removed).
    shown = public_thread_ids(post.pk)
    not_removed = set(
        Comment.objects.filter(post=post, removed_at__isnull=True).values_list("pk", flat=True)
    )
    assert not_removed <= shown
    assert shown == expected_thread_ids(post.pk)


# --- (b) several moderators deciding on the same item -------------------------------------


@pytest.fixture
def slow_decisions(monkeypatch):
    """Hold every decision a moment inside its transaction: without the row lock,
    the moderators would all read the same state and all win."""
    apply = comment_actions.comment_set_state

    def slow_apply(**kwargs):
        time.sleep(0.05)
        return apply(**kwargs)

    monkeypatch.setattr(comment_actions, "comment_set_state", slow_apply)


def test_different_decisions_on_one_held_comment_exactly_one_wins(slow_decisions):
    post = PostFactory()
    parent = make_comment(post, body="Parent.")
    held = make_comment(post, body="Held.", parent=parent, status=CommentStatus.PENDING)
    verbs = [moderation.comment_approve, moderation.comment_reject, moderation.comment_spam] * 3
    actors = [moderator_user(f"mod{i}") for i in range(len(verbs))]

    outcomes = run_parallel(
        [
            (
                lambda verb=verb, actor=actor: verb(
                    comment_id=held.pk, actor=actor, expected_state="pending"
                )
            )
            for verb, actor in zip(verbs, actors, strict=True)
        ]
    )

    # One decision changes the comment. Each other one either repeats the winning
    # verb (a no-op: its target state holds) or learns that another came first (409).
    [winner] = [o for o in outcomes if isinstance(o, moderation.CommentOutcome) and o.changed]
    winning_verb = verbs[outcomes.index(winner)]
    for verb, outcome in zip(verbs, outcomes, strict=True):
        if outcome is not winner:
            expected = moderation.CommentOutcome if verb is winning_verb else Conflict
            assert isinstance(outcome, expected), (verb.__name__, outcome)
            assert not getattr(outcome, "changed", False)
    [entry] = ModerationAction.objects.all()
    held.refresh_from_db()
    assert (entry.action, entry.from_state, entry.to_state) == (
        winner.action.action,
        "pending",
        held.status,
    )
    assert tree_problems([post.pk]) == []


def test_the_same_removal_by_many_moderators_happens_once(slow_decisions):
    post = PostFactory()
    target = make_comment(post, body="To be removed.")
    make_comment(post, body="A reply keeps it as a tombstone.", parent=target)
    actors = [moderator_user(f"remover{i}") for i in range(8)]

    outcomes = run_parallel(
        [
            lambda actor=actor: moderation.comment_remove(comment_id=target.pk, actor=actor)
            for actor in actors
        ]
    )

    assert all(isinstance(o, moderation.CommentOutcome) for o in outcomes), outcomes
    assert sum(o.changed for o in outcomes) == 1
    [entry] = ModerationAction.objects.all()
    assert (entry.action, entry.from_state, entry.to_state) == (
        ActionKind.REMOVE,
        "approved",
        "removed",
    )
    assert tree_problems([post.pk]) == []
    assert target.pk in public_thread_ids(post.pk)  # a tombstone, once


def test_publishing_guest_posts_at_once_hands_out_each_number_once(monkeypatch):
    blog = BlogFactory()
    actors = [moderator_user(f"publisher{i}") for i in range(6)]
    same = services.guest_post_submit(blog=blog, title="Same", body="B.", author_name="G")
    others = [
        services.guest_post_submit(blog=blog, title=f"Other {i}", body="B.", author_name="G")
        for i in range(6)
    ]
    number = forum_posts.next_guest_number

    def slow_number(**kwargs):
        time.sleep(0.02)
        return number(**kwargs)

    monkeypatch.setattr(forum_posts, "next_guest_number", slow_number)

    # Six moderators publish the same post; six more publish one other post each.
    work = [lambda a=a: moderation.post_publish(post_id=same.pk, actor=a) for a in actors]
    work += [
        lambda a=a, p=p: moderation.post_publish(post_id=p.pk, actor=a)
        for a, p in zip(actors, others, strict=True)
    ]
    outcomes = run_parallel(work)

    assert all(isinstance(o, moderation.PostOutcome) for o in outcomes), outcomes
    assert sum(o.changed for o in outcomes[:6]) == 1
    assert all(o.changed for o in outcomes[6:])
    numbers = sorted(Post.objects.filter(blog=blog).values_list("guest_number", flat=True))
    assert numbers == list(range(1, 8))
    assert ModerationAction.objects.filter(post=same).count() == 1
    assert ModerationAction.objects.count() == 7
    assert Post.objects.filter(blog=blog, status=PostStatus.PUBLISHED).count() == 7


# --- (c) the same seed import twice at once -------------------------------------------------


def _table_snapshot() -> dict:
    comments = Comment.objects.order_by("import_key").values_list(
        "import_key", "path", "depth", "status", "reply_count", "author_name", "body"
    )
    posts = Post.objects.order_by("import_key").values_list(
        "import_key", "comment_count", "top_level_count", "top_seq", "title"
    )
    return {"posts": list(posts), "comments": list(comments)}


def test_the_same_seed_import_twice_at_once_equals_one_import():
    path = seed_file("000")
    blog = BlogFactory(slug="on-probation")

    # What one import alone writes (then rolled back).
    with transaction.atomic():
        seed_file_import(path=path, blog=blog)
        single = _table_snapshot()
        transaction.set_rollback(True)
    assert Post.objects.count() == 0

    outcomes = run_parallel([lambda: seed_file_import(path=path, blog=blog) for _ in range(2)])

    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failures) <= 1
    for failure in failures:  # a clean refusal: the forum's own error, nothing written
        assert isinstance(failure, ServiceError | SeedParseError), repr(failure)
    assert _table_snapshot() == single
    assert tree_problems() == []
    keys = list(Comment.objects.values_list("import_key", flat=True))
    assert len(keys) == len(set(keys)) == len(single["comments"])


def test_the_import_command_twice_at_once_on_an_empty_database():
    """The whole command: both runs also race to create the seed blog."""
    path = seed_file("001")

    def run() -> str:
        out = StringIO()
        call_command("import_seeds", str(path), stdout=out)
        return out.getvalue()

    outcomes = run_parallel([run, run])

    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failures) <= 1
    for failure in failures:
        assert isinstance(failure, CommandError) and str(path) in str(failure), repr(failure)
    assert Blog.objects.count() == 1
    assert Post.objects.count() == 1
    assert tree_problems() == []
    keys = list(Comment.objects.values_list("import_key", flat=True))
    assert len(keys) == len(set(keys)) > 0
