"""Where one comment stands in its thread (``GET /api/comments/{id}/context/``): the
page, by number and by cursor, that holds its top-level ancestor under a sort, so a
client can open a long thread at that comment."""

from dataclasses import dataclass

from forum.errors import NotFound
from forum.models import Comment, PostStatus
from forum.thread_page import top_level_place


@dataclass(frozen=True)
class CommentContext:
    comment: Comment
    top_level: Comment
    sort: str
    page_size: int
    page: int
    # The top-level comment right before the ancestor (score, path), for an "after"
    # cursor whose page starts with it; None: the first page (the empty cursor).
    after: tuple[int, str] | None


def comment_context(*, comment_id: int, sort: str, page_size: int) -> CommentContext:
    """The thread page holding the public comment ``comment_id`` under ``sort``.

    404 for a comment the public cannot see, and for one the thread does not show
    (an ancestor is hidden). A pinned ancestor is on page 1 under every sort. Four
    queries: the comment, its ancestors, and its ancestor's place (a count and the
    one before it, both from the sort's partial index)."""
    if not 0 < comment_id < 2**63:
        raise NotFound("No such comment.")
    # The public's view of one comment (``forum.access.comment_visible``), with its
    # hidden-ancestor rule checked below on the ancestors read anyway.
    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    if comment is None or not comment.is_public or comment.post.status != PostStatus.PUBLISHED:
        raise NotFound("No such comment.")
    step = len(comment.path) // (comment.depth + 1)
    prefixes = [comment.path[: step * (level + 1)] for level in range(comment.depth)]
    ancestors = {
        row.path: row for row in Comment.objects.filter(post_id=comment.post_id, path__in=prefixes)
    }
    if len(ancestors) != len(prefixes) or not all(a.is_public for a in ancestors.values()):
        raise NotFound("No such comment.")
    top = ancestors.get(comment.path[:step], comment)
    before, after = top_level_place(
        post_id=comment.post_id,
        path=top.path,
        score=top.score,
        sort=sort,
        pinned=top.is_pinned,
    )
    return CommentContext(
        comment=comment,
        top_level=top,
        sort=sort,
        page_size=page_size,
        page=before // page_size + 1,
        after=after,
    )
