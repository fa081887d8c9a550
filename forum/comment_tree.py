"""The comment tree's writes below the services: where a new comment goes and what a
change of visibility does to the counters.

A new comment is handed its path step and counted in one statement
(``place_and_insert``), then inserted without the ORM's query compilation
(``forum.raw_insert.insert_row``). A comment's visibility changes only inside
``tracking_visibility``, which moves the denormalized counters (``Post.comment_count``,
``Post.top_level_count``, ``Comment.reply_count``) up the tree afterwards. Callers
are the comment services in ``forum.services``; nothing else writes these columns.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.db import connections, router
from django.db.models import F

from forum.errors import InvalidInput, NotFound, ServiceError
from forum.models import (
    COMMENT_TABLE,
    POST_TABLE,
    Comment,
    CommentStatus,
    Post,
    path_step,
    public_comment_sql,
)
from forum.raw_insert import insert_row
from forum.thread_cache import thread_changed

# The next path step of a new comment, with its counters, in one statement each. The
# UPDATE takes the row's write lock until the transaction ends, so two concurrent
# comments can never be handed the same step. A new comment is never removed, so it
# is public exactly when approved, and a reply can only go under a parent that is
# approved, not removed and under no hidden comment (checked here, under the lock),
# which a visible reply keeps visible: no tree walk is needed.
# (Named parameters: Django turns them into SQLite's in a fraction of the time it takes
# for "%s" ones, on every statement.)
_TOP_LEVEL_STEP_SQL = (
    f"UPDATE {POST_TABLE} SET top_seq = top_seq + 1, "  # noqa: S608
    "comment_count = comment_count + %(public)s, "
    "top_level_count = top_level_count + %(public)s WHERE id = %(id)s RETURNING top_seq"
)


# Whether any ancestor of the parent is hidden, walking up from the parent's own
# parent (``%(grandparent)s``) by primary key, one probe per level: looking them up
# by ``(post, path)`` let PostgreSQL scan the whole post's comments when its
# statistics did not know the post yet (a new post, or inside an import).
_HIDDEN_ANCESTOR_SQL = (
    "EXISTS (WITH RECURSIVE up (id, parent_id, shown) AS ("  # noqa: S608
    f"SELECT a.id, a.parent_id, {public_comment_sql('a')} "
    f"FROM {COMMENT_TABLE} a WHERE a.id = %(grandparent)s "
    f"UNION ALL SELECT b.id, b.parent_id, {public_comment_sql('b')} "
    f"FROM {COMMENT_TABLE} b JOIN up ON b.id = up.parent_id) "
    "SELECT 1 FROM up WHERE NOT up.shown)"
)
_DELETE_COMMENT_SQL = f"DELETE FROM {COMMENT_TABLE} WHERE id = %(id)s"  # noqa: S608
_UNCOUNT_REPLY_SQL = f"UPDATE {COMMENT_TABLE} SET reply_count = reply_count - 1 WHERE id = %(id)s"  # noqa: S608
_UNCOUNT_COMMENT_SQL = (
    f"UPDATE {POST_TABLE} SET comment_count = comment_count - 1 WHERE id = %(id)s"  # noqa: S608
)


@cache
def _reply_step_sql(*, under_top_level: bool) -> str:
    """The reply's step under a parent (``under_top_level``: a top-level one, which
    has no ancestor to check)."""
    hidden_ancestor = "" if under_top_level else f" AND NOT {_HIDDEN_ANCESTOR_SQL}"
    return (
        f"UPDATE {COMMENT_TABLE} SET child_seq = child_seq + 1, "  # noqa: S608
        "reply_count = reply_count + %(public)s "
        f"WHERE id = %(id)s AND status = '{CommentStatus.APPROVED.value}' "
        f"AND removed_at IS NULL{hidden_ancestor} RETURNING child_seq"
    )


_COUNT_COMMENT_SQL = (
    f"UPDATE {POST_TABLE} SET comment_count = comment_count + 1 "  # noqa: S608
    "WHERE id = %(id)s RETURNING comment_count"
)


def _returning(cursor, sql: str, params: dict) -> int | None:
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return None if row is None else row[0]


# Post.comment_count counted again: the approved comments not removed and with no
# hidden ancestor (what the public can read). A change of one comment's visibility
# shows or hides its whole subtree, so the count is taken, not moved by one. The
# count walks down from the public top-level comments through public replies only
# (one index probe on ``parent_id`` per comment, whatever the planner knows of the
# table): a comment under a hidden one is never reached. Probing each comment's
# ancestors instead (``no_hidden_ancestor_sql``) went quadratic on PostgreSQL when
# the statistics were stale, as they are inside a bulk import's transaction.
_RECOUNT_SQL = (
    f"UPDATE {POST_TABLE} SET comment_count = ("  # noqa: S608
    "WITH RECURSIVE shown (id, removed_at) AS ("
    f"SELECT id, removed_at FROM {COMMENT_TABLE} top "
    f"WHERE top.post_id = %(id)s AND top.parent_id IS NULL AND {public_comment_sql('top')} "
    f"UNION ALL SELECT reply.id, reply.removed_at FROM {COMMENT_TABLE} reply "
    f"JOIN shown ON reply.parent_id = shown.id WHERE {public_comment_sql('reply')}) "
    "SELECT COUNT(*) FROM shown WHERE removed_at IS NULL) WHERE id = %(id)s"
)


def recount_comments(post_id: int) -> None:
    """Count the post's readable comments again. The post row is locked first, in a
    statement of its own, so that the count (a new statement, a new snapshot on
    PostgreSQL) sees every comment whose insert held that lock before."""
    Post.objects.select_for_update().filter(pk=post_id).values_list("pk").first()
    with connections[router.db_for_write(Post)].cursor() as cursor:
        cursor.execute(_RECOUNT_SQL, {"id": post_id})


def _counts_toward_post(*, status: str, removed: bool) -> bool:
    return status == CommentStatus.APPROVED and not removed


def _apply_visibility(*, comment: Comment, was_public: bool, was_counted: bool) -> None:
    """Bring the counters in line after ``comment``'s status or removal changed.

    ``comment`` holds its new state (saved). A change of public visibility moves the
    parent's ``reply_count`` by one, which can in turn show or hide the parent when
    it is a tombstone, and so on up the tree: at most ``depth`` small updates, then
    one of the post when its counts move (a top-level comment shown or hidden moves
    ``top_level_count``). Any of this changes the public thread: ``thread_changed``.
    A change of a comment's visibility also shows or hides its replies (a comment
    under a hidden one is hidden): ``comment_count`` is then counted again.
    """
    now_counted = _counts_toward_post(status=comment.status, removed=comment.is_removed)
    post_counts = {}
    if comment.pinned_at is not None and not now_counted:
        # A pin is for a published comment (forum.votes): hidden or removed, it ends.
        comment.pinned_at = None
        Comment.objects.filter(pk=comment.pk).update(pinned_at=None)
        post_counts["pinned_count"] = F("pinned_count") - 1
    recount = now_counted != was_counted or comment.is_public != was_public
    node, node_was_public = comment, was_public
    while node.is_public != node_was_public:
        delta = 1 if node.is_public else -1
        if node.parent_id is None:
            post_counts["top_level_count"] = F("top_level_count") + delta
            break
        parent = Comment.objects.select_for_update().get(pk=node.parent_id)
        parent_was_public = parent.is_public
        Comment.objects.filter(pk=parent.pk).update(reply_count=F("reply_count") + delta)
        parent.reply_count += delta
        node, node_was_public = parent, parent_was_public
    if post_counts:
        Post.objects.filter(pk=comment.post_id).update(**post_counts)
    if recount:
        recount_comments(comment.post_id)
    if post_counts or recount:
        thread_changed(post_id=comment.post_id)


@contextmanager
def tracking_visibility(comment: Comment) -> Iterator[None]:
    """Around a change of ``comment``'s status or removal: fix the counters after."""
    was_public = comment.is_public
    was_counted = _counts_toward_post(status=comment.status, removed=comment.is_removed)
    yield
    _apply_visibility(comment=comment, was_public=was_public, was_counted=was_counted)


def _insert_unless_hidden_since(cursor, comment: Comment) -> ServiceError | None:
    """Insert a published reply two levels down or more (PostgreSQL), unless an
    ancestor of its parent is hidden now.

    A decision hiding an ancestor may have committed while this reply waited for the
    post's row, after the step's statement had read the ancestors in its own snapshot
    (the parent's row lock does not cover them). The decision counts the post again
    under that row's lock, held until it commits: asked again by the insert, a new
    statement (a new snapshot) under the same lock, the answer is final (a decision
    that comes later counts this reply out itself). If one is hidden, the row goes
    again, its counts are taken back (the step stays spent) and the reply is refused
    like any other. (SQLite needs none of this: the step's statement took the
    database's write lock, so nothing committed in between.)"""
    parent = comment.parent
    grandparent = {"grandparent": parent.parent_id}
    if insert_row(cursor, comment, also=_HIDDEN_ANCESTOR_SQL, params=grandparent):
        cursor.execute(_DELETE_COMMENT_SQL, {"id": comment.pk})
        cursor.execute(_UNCOUNT_REPLY_SQL, {"id": parent.pk})
        cursor.execute(_UNCOUNT_COMMENT_SQL, {"id": comment.post_id})
        comment.pk = None
        return InvalidInput("The parent comment cannot be replied to.", field="parent")
    thread_changed(post_id=comment.post_id)
    return None


def place_and_insert(comment: Comment) -> ServiceError | None:
    """Hand the new comment its path step, count it, insert it; or say why not (the
    error is raised by the caller, outside the transaction, which it leaves clean)."""
    public = comment.status == CommentStatus.APPROVED  # a new comment is never removed
    parent = comment.parent
    db = connections[router.db_for_write(Comment)]
    with db.cursor() as cursor:
        if db.vendor == "postgresql" and settings.FORUM["ASYNC_COMMENT_COMMIT"]:
            # This transaction's commit does not wait for the WAL to reach the disk
            # (FORUM_ASYNC_COMMENT_COMMIT): atomic all the same, and the flush follows
            # within wal_writer_delay; a crash in between loses the comment whole.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if parent is None:
            params = {"public": int(public), "id": comment.post_id}
            step = _returning(cursor, _TOP_LEVEL_STEP_SQL, params)
            if step is None:
                return NotFound("This post does not exist.")
            comment.path = path_step(step)
        else:
            params = {"public": int(public), "id": parent.pk, "grandparent": parent.parent_id}
            sql = _reply_step_sql(under_top_level=parent.parent_id is None)
            step = _returning(cursor, sql, params)
            if step is None:  # removed or hidden since it was read
                return InvalidInput("The parent comment cannot be replied to.", field="parent")
            comment.path = parent.path + path_step(step)
            if public:
                _returning(cursor, _COUNT_COMMENT_SQL, {"id": comment.post_id})
                if db.vendor != "sqlite" and parent.parent_id is not None:
                    return _insert_unless_hidden_since(cursor, comment)
        insert_row(cursor, comment)
    if public:
        thread_changed(post_id=comment.post_id)
    return None
