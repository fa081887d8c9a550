"""A reply racing a moderator who hides one of its parent's ancestors (PostgreSQL:
real row locks, two connections). The reply's ancestor check reads a snapshot taken
before the moderator's decision commits; the post row is where the two meet, so a
third connection holds it until both wait there, then lets them go in that order:
the decision first, the reply after it."""

import threading
import time

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from forum.models import Comment
from tests.factories import PostFactory, make_comment
from tests.hardening.integrity import expected_thread_ids, public_thread_ids, tree_problems

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite runs one writer at a time, so nothing races",
    ),
    pytest.mark.django_db(transaction=True),
]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def _in_thread(work, outcome: dict, name: str) -> threading.Thread:
    def run():
        try:
            outcome[name] = work()
        except BaseException as exc:  # reported to the test
            outcome[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_for_waiters(count: int) -> None:
    deadline = time.monotonic() + 20
    while _waiting_on_locks() < count:
        assert time.monotonic() < deadline, "the requests never reached the post's lock"
        time.sleep(0.02)


def _public_count_over_http(client, post_id: int) -> int:
    def count(nodes):
        return sum(1 + count(node["replies"]) for node in nodes if not node["removed"])

    total, url = 0, f"/api/posts/{post_id}/comments/"
    while url:
        page = client.get(url).json()
        total += count(page["results"])
        url = page["next"]
    return total


@pytest.mark.parametrize("action", ["hold", "spam"])
def test_a_reply_racing_a_moderator_hiding_an_ancestor_is_never_counted(moderator, action):
    post = PostFactory()
    top = make_comment(post, body="Top.")
    middle = make_comment(post, body="Middle.", parent=top)
    leaf = make_comment(post, body="Leaf.", parent=middle)
    moderator_client = APIClient()
    moderator_client.force_authenticate(moderator)
    outcome: dict = {}

    locker = connections.create_connection("default")
    try:
        locker.set_autocommit(False)
        with locker.cursor() as cursor:
            cursor.execute("SELECT id FROM forum_post WHERE id = %s FOR UPDATE", [post.pk])

        decide = _in_thread(
            lambda: (
                moderator_client.post(
                    f"/api/moderation/comments/{top.pk}/decision/", {"action": action}
                ).status_code
            ),
            outcome,
            "decision",
        )
        _wait_for_waiters(1)
        reply = _in_thread(
            lambda: (
                APIClient()
                .post(
                    f"/api/posts/{post.pk}/comments/",
                    {"body": "A reply under a comment being hidden.", "parent": leaf.pk},
                )
                .status_code
            ),
            outcome,
            "reply",
        )
        _wait_for_waiters(2)
    finally:
        locker.rollback()
        locker.close()
    decide.join(timeout=20)
    reply.join(timeout=20)

    # The decision was first at the post's row: the reply, asked again there, is
    # refused (it read its ancestors before the decision committed).
    assert (outcome["decision"], outcome["reply"]) == (200, 400), outcome
    assert not Comment.objects.filter(parent=leaf).exists()
    leaf.refresh_from_db()
    assert leaf.reply_count == 0
    post.refresh_from_db()
    assert tree_problems([post.pk]) == []
    assert public_thread_ids(post.pk) == expected_thread_ids(post.pk)
    assert post.comment_count == _public_count_over_http(APIClient(), post.pk)
