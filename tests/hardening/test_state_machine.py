"""A Hypothesis state machine over the life of threads: post, reply, edit, remove
(author), moderators' decisions (approve, reject, spam, remove, restore) and
readers' flags, through the services, under the moderation policy (a watched word
holds a comment; two flags take one down). After every step:

- no reply is ever lost: every comment created still exists, with its ancestors;
- every counter equals a recount, and the tree is whole (tests/hardening/integrity.py);
- the public thread shows exactly what it must, as ``forum.thread_page.thread_page``
  builds it and as the API serves it (through the thread cache): the visible
  comments under visible ancestors, and a removed comment exactly while it has a
  visible reply (a tombstone, without its text);
- each decision that changed something wrote one audit row, and none else did.

Each example starts clean: it runs in a savepoint rolled back at its end, with an
empty cache; each service call inside it "commits" (its on-commit callbacks run).
Runs on SQLite and PostgreSQL.
"""

import itertools
import os

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from forum import services
from forum.errors import Conflict, InvalidInput, NotFound, NotPermitted
from forum.models import Comment, CommentStatus, FlagReason, Post
from moderation import services as moderation
from moderation.models import ActionKind, ModerationAction, ModerationMode
from tests.factories import BlogFactory, PostFactory, UserFactory
from tests.hardening.integrity import (
    expected_thread_ids,
    flatten,
    load_rows,
    public_thread,
    tree_problems,
)
from tests.openapi import SchemaCheckingAPIClient

EXAMPLES = int(os.environ.get("HARDENING_STATE_EXAMPLES", "25"))
STEPS = int(os.environ.get("HARDENING_STATE_STEPS", "20"))
MAX_DEPTH = 3  # shallow, so that a few steps reach the bound
WATCHED = "watched"
# One text in four holds its comment (the watched word).
BODIES = ("Plain words.", "More plain words.", "Still plain.", f"A {WATCHED} word.")
BODY = st.sampled_from(BODIES)
WHOM = st.sampled_from(["itself", "parent", "root"])
VERBS = (
    ActionKind.APPROVE,
    ActionKind.REJECT,
    ActionKind.SPAM,
    ActionKind.REMOVE,
    ActionKind.RESTORE,
)


def committed():
    """Around one service call: its transaction commits (the example's savepoint
    stands in for the database), so what waits for the commit happens now, such as
    retiring the thread's cached pages (``forum.services.thread_changed``)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


class World:
    """Accounts shared by every example (made once per test)."""

    def __init__(self) -> None:
        self.authors = [UserFactory(username=f"author{i}") for i in range(2)]
        self.readers = [UserFactory(username=f"reader{i}") for i in range(3)]
        self.moderator = moderation.moderator_grant(user=UserFactory(username="sm-mod"))


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    AUTHOR = st.sampled_from([None, *world.authors])  # None: anonymous

    class ThreadMachine(RuleBasedStateMachine):
        comments = Bundle("comments")

        def __init__(self) -> None:
            super().__init__()
            self._savepoint = transaction.atomic()
            self._savepoint.__enter__()
            caches["default"].clear()
            self.blog = BlogFactory()
            moderation.blog_policy_update(
                blog=self.blog,
                actor=world.moderator,
                mode=ModerationMode.HOLD_NONE,
                watched_words=WATCHED,
                flag_threshold=2,
            )
            self.post_ids: list[int] = []
            self.created: set[int] = set()
            self.decisions = 0
            self.texts = itertools.count()
            self.client = SchemaCheckingAPIClient()

        def teardown(self) -> None:
            event(f"comments created: {len(self.created)}")
            transaction.set_rollback(True)
            self._savepoint.__exit__(None, None, None)

        # --- helpers ---------------------------------------------------------------

        def body(self, base: str) -> str:
            # Distinct texts: the same poster repeating a text is refused (409).
            return f"{base} ({next(self.texts)})"

        @staticmethod
        def fresh(comment_id: int) -> Comment:
            return Comment.objects.select_related("post").get(pk=comment_id)

        @staticmethod
        def under_hidden(comment: Comment) -> bool:
            """Whether an ancestor is hidden (not public by its own state), walked up
            from the rows: then the comment is not public either."""
            parent_id = comment.parent_id
            while parent_id is not None:
                parent = Comment.objects.get(pk=parent_id)
                if not parent.is_public:
                    return True
                parent_id = parent.parent_id
            return False

        def account_of(self, comment: Comment):
            """Who may change the comment: its author, or a moderator for the rest."""
            return comment.author or world.moderator

        # --- rules -----------------------------------------------------------------

        @initialize(target=comments, authors=st.lists(AUTHOR, min_size=3, max_size=3))
        def first_thread(self, authors):
            """A first post with a chain of replies: something to act on from step one."""
            post = self._new_post()
            chain: list[Comment] = []
            for depth, author in enumerate(authors):
                parent = chain[-1] if chain else None
                body = self.body(f"Depth {depth}.")
                with committed():
                    comment = services.comment_create(
                        post=post, parent=parent, body=body, author=author
                    )
                chain.append(comment)
                self.created.add(comment.pk)
            return multiple(*(comment.pk for comment in chain))

        @precondition(lambda self: len(self.post_ids) < 3)
        @rule()
        def another_post(self):
            self._new_post()

        def _new_post(self) -> Post:
            with committed():
                post = PostFactory(blog=self.blog)
            self.post_ids.append(post.pk)
            return post

        @rule(target=comments, post=st.integers(0, 2), author=AUTHOR, base=BODY)
        def comment(self, post, author, base):
            post = Post.objects.get(pk=self.post_ids[post % len(self.post_ids)])
            with committed():
                created = services.comment_create(post=post, body=self.body(base), author=author)
            return self._written(created, base)

        @rule(target=comments, parent_id=comments, author=AUTHOR, base=BODY)
        def reply(self, parent_id, author, base):
            parent = self.fresh(parent_id)
            open_for_replies = (
                parent.status == CommentStatus.APPROVED
                and not parent.is_removed
                and parent.depth < MAX_DEPTH
                and not self.under_hidden(parent)
            )
            try:
                with committed():
                    created = services.comment_create(
                        post=parent.post, parent=parent, body=self.body(base), author=author
                    )
            except InvalidInput:
                assert not open_for_replies, "a reply to an open comment was refused"
                event("reply refused")
                return multiple()
            assert open_for_replies, "a reply to a hidden, removed or too deep comment"
            return self._written(created, base)

        def _written(self, created: Comment, base: str) -> int:
            # The policy holds a text with the watched word, and publishes the rest.
            assert created.status == (
                CommentStatus.PENDING if WATCHED in base else CommentStatus.APPROVED
            )
            self.created.add(created.pk)
            return created.pk

        @rule(comment_id=comments, base=BODY, by_moderator=st.booleans())
        def edit(self, comment_id, base, by_moderator):
            comment = self.fresh(comment_id)
            user = world.moderator if by_moderator else self.account_of(comment)
            try:
                with committed():
                    services.comment_update(
                        comment=comment, body=(text := self.body(base)), user=user
                    )
            except Conflict:
                assert comment.is_removed
                return
            assert not comment.is_removed
            edited = self.fresh(comment_id)
            # An edit never changes the comment's state (nobody's reply disappears);
            # an author's text the policy would hold waits for review while the
            # approved text stays public.
            assert edited.status == comment.status
            held = (
                user != world.moderator
                and comment.status == CommentStatus.APPROVED
                and WATCHED in base
            )
            assert (edited.body == comment.body) if held else (edited.body == text)

        def aim(self, comment_id: int, whom: str) -> int:
            """The comment itself, its parent or its top-level ancestor: acting on
            comments with replies is what makes (and unmakes) tombstones."""
            comment = self.fresh(comment_id)
            if whom == "parent" and comment.parent_id is not None:
                return comment.parent_id
            if whom == "root" and comment.depth > 0:
                return Comment.objects.get(post_id=comment.post_id, path=comment.path[:6]).pk
            return comment_id

        @rule(comment_id=comments, whom=WHOM)
        def remove_by_author(self, comment_id, whom):
            comment = self.fresh(self.aim(comment_id, whom))
            comment_id = comment.pk
            if comment.author is None:
                return  # no account to remove it with (edit tokens: tested elsewhere)
            try:
                with committed():
                    services.comment_remove_by_author(comment=comment, user=comment.author)
            except NotPermitted:
                raise AssertionError("an author could not remove their comment") from None
            assert self.fresh(comment_id).is_removed

        @rule(comment_id=comments, whom=WHOM, verb=st.sampled_from(VERBS))
        def decide(self, comment_id, whom, verb):
            comment_id = self.aim(comment_id, whom)
            before = ModerationAction.objects.count()
            try:
                with committed():
                    outcome = moderation.comment_decide(
                        comment_id=comment_id, action=verb, actor=world.moderator
                    )
            except Conflict:
                assert ModerationAction.objects.count() == before
                event("decision: conflict")
                return
            event(f"decision: {verb} {'changed' if outcome.changed else 'no-op'}")
            if outcome.changed:
                self.decisions += 1
                assert outcome.action.to_state == moderation.comment_state(self.fresh(comment_id))

        @rule(comment_id=comments, reader=st.integers(0, 2))
        def flag(self, comment_id, reader):
            comment = self.fresh(comment_id)
            try:
                with committed():
                    services.flag_create(
                        comment=comment, reason=FlagReason.ABUSE, user=world.readers[reader]
                    )
            except NotFound:
                assert not comment.is_public or comment.is_removed or self.under_hidden(comment)

        # --- invariants ------------------------------------------------------------

        @invariant()
        def nothing_lost_counts_right_thread_exact(self):
            """All the checks of the module docstring, from one read of the rows."""
            rows = load_rows(self.post_ids)
            # No reply is ever lost, nor any of its ancestors.
            assert self.created <= set(rows), "a comment was lost"
            for comment_id in self.created:
                parent_id = rows[comment_id].parent_id
                assert parent_id is None or parent_id in rows
            assert tree_problems(self.post_ids, rows=rows) == []
            # Decisions on comments (the policy set up above is in the log too).
            assert ModerationAction.objects.filter(comment__isnull=False).count() == self.decisions
            removed = {row.id for row in rows.values() if row.removed}
            for post_id in self.post_ids:
                expected = expected_thread_ids(post_id, rows=rows)
                nodes = public_thread(post_id)
                assert {node["id"] for node in nodes} == expected
                self._check_tombstones(nodes, removed)
                served = self.client.get(
                    f"/api/posts/{post_id}/comments/", {"page_size": 200}
                ).json()
                served_nodes = flatten(served["results"])
                assert {node["id"] for node in served_nodes} == expected, "stale thread page"
                self._check_tombstones(served_nodes, removed)

        @staticmethod
        def _check_tombstones(nodes: list[dict], removed: set[int]) -> None:
            for node in nodes:
                # Shown removed exactly when removed, without its text, and only
                # while a visible reply keeps it.
                assert node["removed"] == (node["id"] in removed)
                if node["removed"]:
                    event("tombstone shown")
                    assert node["body"] is None and node["body_html"] is None
                    assert node["replies"], "a tombstone without a visible reply"

    return ThreadMachine


@pytest.mark.moderation_policy
@pytest.mark.django_db
def test_threads_never_lose_a_reply_and_show_tombstones_exactly_when_needed(settings):
    # Thread pages cached as in production (tests/conftest.py turns that off): the API
    # check below also proves that every change retires the cached pages.
    settings.FORUM = {**settings.FORUM, "MAX_COMMENT_DEPTH": MAX_DEPTH, "THREAD_CACHE_SECONDS": 600}
    machine = machine_for(World())
    run_state_machine_as_test(
        machine,
        settings=hypothesis_settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=not os.environ.get("HARDENING_RANDOM"),
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
