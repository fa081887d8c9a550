"""What must hold of the comment tables whatever happened to them, recounted from the
rows alone (never from the counters under test).

``tree_problems`` returns a list of human-readable violations (empty: all holds):

- every counter equals a recount: ``Comment.reply_count`` (visible direct replies),
  ``Post.comment_count`` (approved, not removed, no hidden ancestor: what the public
  can read), ``Post.top_level_count`` (visible
  top-level comments, tombstones included);
- visibility is worked out from first principles: a comment is visible when it is
  approved and either not removed or has a visible reply (a tombstone);
- the tree is whole: every parent exists on the same post, depth and path follow
  the parent, paths are unique per post, depth stays within the bound, and the path
  counters (``top_seq``, ``child_seq``) never fall behind the steps handed out.

``public_thread_ids`` reads the public thread as the selectors serve it, and
``expected_thread_ids`` says what it must hold: the visible comments whose
ancestors are all visible (a hidden comment hides its subtree).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from forum.models import PATH_STEP_WIDTH, Comment, CommentStatus, Post
from forum.thread_page import thread_page


@dataclass
class Row:
    id: int
    post_id: int
    parent_id: int | None
    depth: int
    path: str
    child_seq: int
    status: str
    removed: bool
    reply_count: int


def load_rows(post_ids=None) -> dict[int, Row]:
    """The comments of ``post_ids`` (all when None), as the checks below read them."""
    queryset = Comment.objects.all()
    if post_ids is not None:
        queryset = queryset.filter(post_id__in=post_ids)
    fields = ("id", "post_id", "parent_id", "depth", "path", "child_seq", "status")
    return {
        values[0]: Row(*values[:7], removed=removed_at is not None, reply_count=reply_count)
        for *values, removed_at, reply_count in queryset.values_list(
            *fields, "removed_at", "reply_count"
        )
    }


def visibility(rows: dict[int, Row]) -> dict[int, bool]:
    """Which comments the public sees, from status, removal and the tree alone."""
    children: dict[int, list[int]] = defaultdict(list)
    for row in rows.values():
        if row.parent_id is not None:
            children[row.parent_id].append(row.id)
    visible: dict[int, bool] = {}
    # Deepest first: a comment's replies are decided before it.
    for row in sorted(rows.values(), key=lambda r: -r.depth):
        approved = row.status == CommentStatus.APPROVED
        visible[row.id] = approved and (
            not row.removed or any(visible[child] for child in children[row.id])
        )
    return visible


def tree_problems(post_ids=None, rows: dict[int, Row] | None = None) -> list[str]:
    """Every violation in the comments of ``post_ids`` (all when None); ``rows``:
    those comments read already (``load_rows``)."""
    rows = load_rows(post_ids) if rows is None else rows
    visible = visibility(rows)
    max_depth = settings.FORUM["MAX_COMMENT_DEPTH"]
    problems: list[str] = []
    children: dict[int, list[Row]] = defaultdict(list)
    by_post: dict[int, list[Row]] = defaultdict(list)
    for row in rows.values():
        by_post[row.post_id].append(row)
        if row.parent_id is not None:
            children[row.parent_id].append(row)

    for row in rows.values():
        label = f"comment {row.id}"
        if row.depth > max_depth:
            problems.append(f"{label}: depth {row.depth} > {max_depth}")
        if len(row.path) != (row.depth + 1) * PATH_STEP_WIDTH:
            problems.append(f"{label}: path {row.path!r} does not fit depth {row.depth}")
        if row.parent_id is None:
            if row.depth != 0:
                problems.append(f"{label}: top-level at depth {row.depth}")
        else:
            parent = rows.get(row.parent_id)
            if parent is None:
                problems.append(f"{label}: orphan (parent {row.parent_id} is gone)")
            elif parent.post_id != row.post_id:
                problems.append(f"{label}: parent {parent.id} is on another post")
            elif row.depth != parent.depth + 1 or row.path[:-PATH_STEP_WIDTH] != parent.path:
                problems.append(f"{label}: depth/path do not follow parent {parent.id}")
        replies = children[row.id]
        visible_replies = sum(visible[child.id] for child in replies)
        if row.reply_count != visible_replies:
            problems.append(f"{label}: reply_count {row.reply_count}, recount {visible_replies}")
        steps = [int(child.path[-PATH_STEP_WIDTH:]) for child in replies]
        if steps and max(steps) > row.child_seq:
            problems.append(f"{label}: child_seq {row.child_seq} behind step {max(steps)}")

    def _ancestors_visible(row: Row) -> bool:
        parent_id = row.parent_id
        while parent_id is not None:
            parent = rows.get(parent_id)
            if parent is None or not visible[parent.id]:
                return False
            parent_id = parent.parent_id
        return True

    posts = (
        Post.objects.filter(pk__in=by_post)
        if post_ids is None
        else Post.objects.filter(pk__in=post_ids)
    )
    for post in posts:
        comments = by_post[post.pk]
        paths = [c.path for c in comments]
        if len(paths) != len(set(paths)):
            problems.append(f"post {post.pk}: duplicate paths")
        counted = sum(
            c.status == CommentStatus.APPROVED and not c.removed and _ancestors_visible(c)
            for c in comments
        )
        if post.comment_count != counted:
            problems.append(
                f"post {post.pk}: comment_count {post.comment_count}, recount {counted}"
            )
        top = [c for c in comments if c.parent_id is None]
        top_visible = sum(visible[c.id] for c in top)
        if post.top_level_count != top_visible:
            problems.append(
                f"post {post.pk}: top_level_count {post.top_level_count}, recount {top_visible}"
            )
        if top and max(int(c.path) for c in top) > post.top_seq:
            problems.append(f"post {post.pk}: top_seq {post.top_seq} behind its comments")
    return problems


def expected_thread_ids(post_id: int, rows: dict[int, Row] | None = None) -> set[int]:
    """The comments the public thread must show: visible, under visible ancestors."""
    rows = load_rows([post_id]) if rows is None else rows
    visible = visibility(rows)
    shown: set[int] = set()
    for row in sorted(rows.values(), key=lambda r: r.depth):
        if row.post_id != post_id:
            continue
        if visible[row.id] and (row.parent_id is None or row.parent_id in shown):
            shown.add(row.id)
    return shown


def flatten(nodes: list[dict]) -> list[dict]:
    out: list[dict] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.get("replies", [])))
    return out


def public_thread(post_id: int) -> list[dict]:
    """Every comment of the public thread (one page holding all of it), flattened."""
    page = thread_page(post_id=post_id, page_size=10_000, page=1)
    return flatten(page.results)


def public_thread_ids(post_id: int) -> set[int]:
    return {node["id"] for node in public_thread(post_id)}
