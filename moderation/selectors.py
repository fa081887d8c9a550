"""Moderation reads: the queue, the audit log, bans, a poster's track record.

Every list costs a constant number of queries whatever its length (related rows are
joined or fetched once per page).
"""

import datetime
import functools
import operator
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from forum.display import author_display, excerpt
from forum.models import (
    Comment,
    CommentRevision,
    CommentStatus,
    Flag,
    Post,
    PostStatus,
    RevisionStatus,
)
from forum.permissions import AnyUser
from moderation.models import Ban, ModerationAction, TargetKind

GUEST_POST_REASON = "guest_post"


# --- policy inputs -------------------------------------------------------------


def active_ban_for(*, blog_id: int, user: AnyUser, ip_hash: str) -> Ban | None:
    """The ban in force on ``blog_id`` for this account or this IP hash (the one
    lasting longest when there are both); one query on the open-ban indexes."""
    subjects = []
    if user is not None and user.is_authenticated:
        subjects.append(Q(user_id=user.pk))
    if ip_hash:
        subjects.append(Q(ip_hash=ip_hash))
    if not subjects:
        return None
    return (
        Ban.objects.active()
        .filter(functools.reduce(operator.or_, subjects), blog_id=blog_id)
        .order_by(F("expires_at").desc(nulls_first=True))
        .first()
    )


def published_comment_count(
    *,
    blog_id: int,
    limit: int,
    author: AnyUser = None,
    ip_hash: str = "",
    author_name: str = "",
) -> int:
    """How many published (approved, not removed) comments on ``blog_id`` the poster
    has: by account when ``author`` is given, else by the identity of a poster
    without an account, the name *and* the IP hash together (trust belongs to that
    identity, not to an address anyone may post from under any name). Counts at
    most ``limit``: one indexed, bounded query."""
    comments = Comment.objects.filter(
        post__blog_id=blog_id, status=CommentStatus.APPROVED, removed_at__isnull=True
    )
    if author is not None and author.is_authenticated:
        comments = comments.filter(author_id=author.pk)
    elif ip_hash and author_name:
        comments = comments.filter(author__isnull=True, ip_hash=ip_hash, author_name=author_name)
    else:
        return 0
    return comments.order_by()[:limit].count()


# --- the queue ------------------------------------------------------------------


def _open_flags() -> QuerySet[Flag]:
    return Flag.objects.filter(comment=OuterRef("pk"), resolved_at__isnull=True)


def held_comments() -> QuerySet[Comment]:
    """Comments awaiting a decision: pending and not withdrawn, oldest first."""
    return Comment.objects.filter(status=CommentStatus.PENDING, removed_at__isnull=True).order_by(
        "created_at", "id"
    )


def pending_edit_of_row() -> QuerySet[CommentRevision]:
    """The pending edit of the comment row of the outer query (``OuterRef("pk")``),
    for subqueries."""
    return CommentRevision.objects.filter(
        comment=OuterRef("pk"), status=RevisionStatus.PENDING
    ).order_by()


def edited_comments() -> QuerySet[Comment]:
    """Published comments whose author's edit awaits review (the public sees the
    approved text meanwhile), queued from the time of the edit. Found from the
    pending edits (the partial unique index of one pending edit per comment), never
    by a scan of the comments."""
    pending = CommentRevision.objects.filter(status=RevisionStatus.PENDING).order_by()
    return Comment.objects.filter(
        pk__in=pending.values("comment_id"),
        status=CommentStatus.APPROVED,
        removed_at__isnull=True,
    )


def pending_guest_posts() -> QuerySet[Post]:
    """Guest posts awaiting review, oldest first."""
    return Post.objects.filter(status=PostStatus.PENDING, is_guest=True).order_by(
        "created_at", "id"
    )


def queue_entries(
    *,
    kind: str | None = None,
    reason: str | None = None,
    blog: str | None = None,
    post: int | None = None,
) -> QuerySet:
    """What awaits a decision, oldest first, as ``(kind, id, queued_at)`` rows
    (``queued_at``: when it was written; for an edit, when the edit was).

    ``kind``: ``comment`` or ``post``; ``reason``: ``flagged`` (comments readers'
    flags took down, or that have open flags) or ``pending`` (everything else:
    comments the policy held, guest posts); ``blog``: a blog's slug; ``post``: the
    comments of that post (and the post itself if it awaits review). Both kinds in
    one ordered, countable query (a UNION), so the page can be cut in the database;
    ``queue_items`` then loads the page's rows.
    """
    comments = held_comments()
    edits = edited_comments()
    posts = pending_guest_posts()
    if blog:
        comments = comments.filter(post__blog__slug=blog)
        edits = edits.filter(post__blog__slug=blog)
        posts = posts.filter(blog__slug=blog)
    if post is not None:
        comments = comments.filter(post_id=post)
        edits = edits.filter(post_id=post)
        posts = posts.filter(pk=post)
    if reason == "flagged":
        comments = comments.filter(Exists(_open_flags()))
        edits = edits.none()
        posts = posts.none()
    elif reason == "pending":
        comments = comments.filter(~Exists(_open_flags()))

    def rows(queryset: QuerySet, name: str, queued_at: Any = None) -> QuerySet:
        return (
            queryset.order_by()
            .annotate(
                kind=Value(name, output_field=CharField()),
                queued_at=F("created_at") if queued_at is None else queued_at,
            )
            .values_list("kind", "id", "queued_at")
        )

    edited_at = Subquery(pending_edit_of_row().values("created_at")[:1])
    parts = []
    if kind in (None, TargetKind.COMMENT):
        parts += [rows(comments, TargetKind.COMMENT), rows(edits, TargetKind.COMMENT, edited_at)]
    if kind in (None, TargetKind.POST):
        parts.append(rows(posts, TargetKind.POST))
    if not parts:  # a kind nothing in the queue is (bans, policies)
        parts.append(rows(posts.none(), TargetKind.POST))
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return combined.order_by("queued_at", "kind", "id")


@dataclass
class QueueItem:
    """One entry of the queue, as the API shows it."""

    kind: str
    id: int
    reasons: list[str]
    blog: str
    post: dict[str, Any]
    parent: int | None
    parent_excerpt: str | None
    author_name: str | None
    display_name: str
    is_anonymous: bool
    has_account: bool
    body: str
    body_excerpt: str
    created_at: datetime.datetime
    age_seconds: int
    flag_count: int = 0
    flag_reasons: list[str] = field(default_factory=list)
    pending_edit: dict[str, Any] | None = None


def queue_items(entries: list[tuple[str, int, datetime.datetime]]) -> list[QueueItem]:
    """The queue page whose ``(kind, id, created_at)`` rows are ``entries``, in that
    order. Three queries at most whatever the page size: the comments (with post,
    blog and parent joined), their open flags and edits awaiting review, the posts
    (with blog). A published comment in the queue is there for its edit: its item
    shows the edit's text (``body``), the reason ``edit`` and the edit's own
    reasons, and under ``pending_edit`` the approved text the public sees."""
    comment_ids = [pk for kind, pk, _ in entries if kind == TargetKind.COMMENT]
    post_ids = [pk for kind, pk, _ in entries if kind == TargetKind.POST]
    comments: dict[int, Comment] = {}
    edits: dict[int, CommentRevision] = {}
    flags: dict[int, Counter] = defaultdict(Counter)
    if comment_ids:
        comments = Comment.objects.select_related("post__blog", "parent").in_bulk(comment_ids)
        open_flags = Flag.objects.filter(comment_id__in=comment_ids, resolved_at__isnull=True)
        for comment_id, flag_reason in open_flags.values_list("comment_id", "reason"):
            flags[comment_id][flag_reason] += 1
        edits = {
            revision.comment_id: revision
            for revision in CommentRevision.objects.filter(
                comment_id__in=comment_ids, status=RevisionStatus.PENDING
            )
        }
    posts = Post.objects.select_related("blog").in_bulk(post_ids) if post_ids else {}

    now = timezone.now()
    items = []
    for kind, pk, _ in entries:
        if kind == TargetKind.COMMENT and pk in comments:
            comment = comments[pk]
            edit = edits.get(pk) if comment.status == CommentStatus.APPROVED else None
            items.append(_comment_item(comment, flags[pk], now, edit))
        elif kind == TargetKind.POST and pk in posts:
            items.append(_post_item(posts[pk], now))
    return items


def _age(created_at: datetime.datetime, now: datetime.datetime) -> int:
    return max(0, int((now - created_at).total_seconds()))


EDIT_REASON = "edit"


def _comment_item(
    comment: Comment,
    flags: Counter,
    now: datetime.datetime,
    edit: CommentRevision | None = None,
) -> QueueItem:
    author_name, display_name, is_anonymous = author_display(comment.author_name)
    parent = comment.parent
    body = comment.body if edit is None else edit.body
    queued_at = comment.created_at if edit is None else edit.created_at
    return QueueItem(
        kind=TargetKind.COMMENT,
        id=comment.pk,
        reasons=list(comment.moderation_reasons) if edit is None else [EDIT_REASON, *edit.reasons],
        blog=comment.post.blog.slug,
        post={"id": comment.post_id, "title": comment.post.title},
        parent=comment.parent_id,
        parent_excerpt=None if parent is None else excerpt(parent.body),
        author_name=author_name,
        display_name=display_name,
        is_anonymous=is_anonymous,
        has_account=comment.author_id is not None,
        body=body,
        body_excerpt=excerpt(body),
        created_at=queued_at,
        age_seconds=_age(queued_at, now),
        flag_count=sum(flags.values()),
        flag_reasons=sorted(flags),
        pending_edit=None
        if edit is None
        else {"revision": edit.number, "approved_body": comment.body},
    )


def _post_item(post: Post, now: datetime.datetime) -> QueueItem:
    author_name, display_name, is_anonymous = author_display(post.author_name)
    return QueueItem(
        kind=TargetKind.POST,
        id=post.pk,
        reasons=[GUEST_POST_REASON] if post.is_guest else [],
        blog=post.blog.slug,
        post={"id": post.pk, "title": post.title},
        parent=None,
        parent_excerpt=None,
        author_name=author_name,
        display_name=display_name,
        is_anonymous=is_anonymous,
        has_account=post.author_id is not None,
        body=post.body,
        body_excerpt=excerpt(post.body),
        created_at=post.created_at,
        age_seconds=_age(post.created_at, now),
    )


def held_comments_for_desk() -> QuerySet[Comment]:
    """The admin queue page: held comments with post, parent and open-flag count."""
    return (
        held_comments()
        .select_related("post", "parent")
        .annotate(open_flag_count=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
    )


# --- the log and bans ----------------------------------------------------------------


def action_list() -> QuerySet[ModerationAction]:
    """The audit log, newest first, with the actor (one query per page)."""
    return ModerationAction.objects.select_related("actor").order_by("-created_at", "-id")


def ban_list() -> QuerySet[Ban]:
    return Ban.objects.select_related("blog", "user", "created_by", "lifted_by").order_by(
        "-created_at", "-id"
    )
