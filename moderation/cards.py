"""Reads for the moderators' desk: the queue as cards with their context (post,
parent, flags, notes) and each poster's record, a post's whole thread as moderators
see it, and a moderator's recent decisions (for undo).

Every read costs a constant number of queries whatever the queue's or the page's
size: the page's rows are cut in the database (one ordered UNION, as
``selectors.queue_entries``), then each kind of context is fetched once for the
whole page.
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Concat, RowNumber

from forum.display import ANONYMOUS_NAME, excerpt
from forum.errors import NotFound
from forum.models import Blog, Comment, CommentStatus, Flag, Post, PostStatus
from forum.policy import FLAGGED_REASON
from moderation import edit_cards, selectors
from moderation.models import Ban, ModerationAction, ModeratorNote, TargetKind

PAGE_SIZE = 50
RECENT_COMMENTS = 3  # a poster's last comments shown on a card
FLAG = "flag"  # a card's kind for a comment readers' flags took down (or flagged)
GUEST_POST_REASON = selectors.GUEST_POST_REASON
DESK_KINDS = {
    TargetKind.COMMENT: "Held comments",
    FLAG: "Flagged by readers",
    TargetKind.POST: "Guest posts",
    edit_cards.EDIT: edit_cards.EDIT_LABEL,
}
# Reason filters: a reason code (or the start of one, for words) and its label.
REASON_FILTERS = {
    "anonymous": "Posted anonymously",
    "first_post": "New posters",
    "links": "Links",
    "watched_word": "Watched words",
    "hold_all": "Blog holds everything",
    FLAGGED_REASON: "Flagged by readers",
    "spam_check_unavailable": "Spam checker unavailable",
    "moderator_hold": "Returned by a moderator",
    GUEST_POST_REASON: "Guest posts",
    edit_cards.EDIT: edit_cards.EDIT_LABEL,
}
ORDERS = {"oldest": "Oldest first", "priority": "Flagged first, then oldest"}
_PREFIX_REASONS = {"watched_word", "blocked_word"}


def _open_flags() -> QuerySet[Flag]:
    return Flag.objects.filter(comment=OuterRef("pk"), resolved_at__isnull=True)


def desk_entries(
    *,
    kind: str | None = None,
    reason: str | None = None,
    blog: str | None = None,
    post: int | None = None,
    order: str = "oldest",
) -> QuerySet:
    """The queue as ordered ``(kind, id, queued_at, priority)`` rows (one UNION
    query, countable and sliceable in the database; an edit awaiting review is
    queued from the time of the edit, ``edit_cards``). ``kind``: one of
    ``DESK_KINDS``; ``reason``: one of ``REASON_FILTERS``; ``blog``: a slug;
    ``post``: a post's id; ``order``: ``oldest`` or ``priority`` (flagged first)."""
    comments = selectors.held_comments().annotate(flagged=Exists(_open_flags()))
    posts = selectors.pending_guest_posts()
    if blog:
        comments = comments.filter(post__blog__slug=blog)
        posts = posts.filter(blog__slug=blog)
    if post is not None:
        comments = comments.filter(post_id=post)
        posts = posts.filter(pk=post)
    if kind == FLAG:
        comments, posts = comments.filter(flagged=True), posts.none()
    elif kind == TargetKind.COMMENT:
        comments, posts = comments.filter(flagged=False), posts.none()
    elif kind in (TargetKind.POST, edit_cards.EDIT):
        comments = comments.none()
    if kind == edit_cards.EDIT:
        posts = posts.none()
    pattern = None
    if reason == FLAGGED_REASON:
        comments, posts = comments.filter(flagged=True), posts.none()
    elif reason == GUEST_POST_REASON:
        comments = comments.none()
    elif reason == edit_cards.EDIT:
        comments, posts = comments.none(), posts.none()
    elif reason:
        # The reasons are a JSON list of strings: look for the quoted code in its text.
        pattern = f'"{reason}:' if reason in _PREFIX_REASONS else f'"{reason}"'
        comments = comments.annotate(reasons_text=Cast("moderation_reasons", TextField())).filter(
            reasons_text__contains=pattern
        )
        posts = posts.none()

    comment_rows = (
        comments.order_by()
        .annotate(
            kind=Case(
                When(flagged=True, then=Value(FLAG)),
                default=Value(TargetKind.COMMENT),
                output_field=CharField(),
            ),
            queued_at=F("created_at"),
            priority=Case(
                When(flagged=True, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .values_list("kind", "id", "queued_at", "priority")
    )
    post_rows = (
        posts.order_by()
        .annotate(
            kind=Value(TargetKind.POST, output_field=CharField()),
            queued_at=F("created_at"),
            priority=Value(1, output_field=IntegerField()),
        )
        .values_list("kind", "id", "queued_at", "priority")
    )
    edit_rows = edit_cards.edit_rows(
        kind=kind, reason=reason, reason_pattern=pattern, blog=blog, post=post
    )
    ordering = ("queued_at", "kind", "id")
    if order == "priority":
        ordering = ("priority", *ordering)
    if kind == TargetKind.POST or reason == GUEST_POST_REASON:
        return post_rows.order_by(*ordering)
    if kind == edit_cards.EDIT or reason == edit_cards.EDIT:
        return edit_rows.order_by(*ordering)
    if kind in (FLAG, TargetKind.COMMENT) or reason == FLAGGED_REASON:
        return comment_rows.order_by(*ordering)
    if reason:  # a policy's reason: held comments and edits held for it
        return comment_rows.union(edit_rows, all=True).order_by(*ordering)
    return comment_rows.union(post_rows, edit_rows, all=True).order_by(*ordering)


# --- cards --------------------------------------------------------------------------------


@dataclass
class FlagNote:
    reason: str
    note: str
    created_at: datetime.datetime


@dataclass
class RecentComment:
    id: int
    post_id: int
    post_title: str
    state: str
    excerpt: str


@dataclass
class PosterRecord:
    """A poster, as moderators know them: by account, else by network hash."""

    kind: str  # "account", "network" or "unknown"
    label: str  # the username, or the start of the hash
    counts: Counter = field(default_factory=Counter)  # comments by state
    bans: list[Ban] = field(default_factory=list)  # in force, on any blog
    recent: list[RecentComment] = field(default_factory=list)
    notes: list[ModeratorNote] = field(default_factory=list)  # on this blog


@dataclass
class Card:
    kind: str  # "comment", "flag", "post" or "edit" (an edit awaiting review)
    id: int
    created_at: datetime.datetime
    blog: Blog
    post_id: int
    post_title: str
    title: str  # a guest post's title; empty for comments
    body_html: str
    display_name: str
    has_account: bool
    reasons: list[str]  # codes
    link_count: int = 0
    parent_id: int | None = None
    parent_excerpt: str = ""
    flags: list[FlagNote] = field(default_factory=list)
    notes: list[ModeratorNote] = field(default_factory=list)
    poster: PosterRecord | None = None
    revision: int | None = None  # an edit's: the number of the version proposed
    diff_html: str = ""  # an edit's: from the approved text to the proposed one

    @property
    def target_kind(self) -> str:
        return TargetKind.POST if self.kind == TargetKind.POST else TargetKind.COMMENT

    @property
    def key(self) -> str:
        return f"{self.target_kind}:{self.id}"


def _state(status: str, removed_at) -> str:
    return "removed" if removed_at is not None else status


def _poster_key(comment: Comment) -> str:
    if comment.author_id is not None:
        return f"u{comment.author_id}"
    return f"h{comment.ip_hash}" if comment.ip_hash else ""


def desk_cards(rows: list[tuple]) -> list[Card]:
    """The cards of the queue rows ``rows`` (from ``desk_entries``), in that order.
    At most nine queries whatever the number of rows: the comments (with post,
    blog, parent and author), their open flags, the edits awaiting review, the
    guest posts, the posters' counts by state, bans in force and last comments,
    the notes."""
    comment_ids = [row[1] for row in rows if row[0] != TargetKind.POST]
    post_ids = [row[1] for row in rows if row[0] == TargetKind.POST]
    comments: dict[int, Comment] = {}
    if comment_ids:
        comments = Comment.objects.select_related("post__blog", "parent", "author").in_bulk(
            comment_ids
        )
    edits = edit_cards.pending_edits([row[1] for row in rows if row[0] == edit_cards.EDIT])
    posts = Post.objects.select_related("blog").in_bulk(post_ids) if post_ids else {}
    flags: dict[int, list[FlagNote]] = defaultdict(list)
    if comment_ids:
        open_flags = Flag.objects.filter(
            comment_id__in=comment_ids, resolved_at__isnull=True
        ).order_by("created_at", "id")
        for comment_id, reason, note, created_at in open_flags.values_list(
            "comment_id", "reason", "note", "created_at"
        ):
            flags[comment_id].append(FlagNote(reason, note, created_at))
    posters = _poster_records(list(comments.values()))
    comment_notes: dict[int, list[ModeratorNote]] = defaultdict(list)
    for note in _notes(list(comments.values())):
        if note.comment_id is not None:
            comment_notes[note.comment_id].append(note)
        else:
            key = f"u{note.user_id}" if note.user_id else f"h{note.ip_hash}"
            record = posters.get((note.blog_id, key))
            if record is not None:
                record.notes.append(note)

    cards = []
    for kind, pk, *_ in rows:
        if kind == edit_cards.EDIT and pk not in edits:
            continue  # decided since the queue was read
        if kind != TargetKind.POST and pk in comments:
            comment = comments[pk]
            card = Card(
                kind=kind,
                id=pk,
                created_at=comment.created_at,
                blog=comment.post.blog,
                post_id=comment.post_id,
                post_title=comment.post.title,
                title="",
                body_html=comment.body_html,
                display_name=comment.author_name or ANONYMOUS_NAME,
                has_account=comment.author_id is not None,
                reasons=list(comment.moderation_reasons),
                link_count=comment.body_html.count("<a "),
                parent_id=comment.parent_id,
                parent_excerpt="" if comment.parent is None else excerpt(comment.parent.body),
                flags=flags[pk],
                notes=comment_notes[pk],
                poster=posters.get((comment.post.blog_id, _poster_key(comment))),
            )
            if pk in edits:  # an edit's card: the edit's time, reasons and diff
                card = replace(card, **edit_cards.edit_fields(comment, edits[pk]))
            cards.append(card)
        elif kind == TargetKind.POST and pk in posts:
            post = posts[pk]
            cards.append(
                Card(
                    kind=kind,
                    id=pk,
                    created_at=post.created_at,
                    blog=post.blog,
                    post_id=pk,
                    post_title=post.title,
                    title=post.title,
                    body_html=post.body_html,
                    display_name=post.author_name or ANONYMOUS_NAME,
                    has_account=post.author_id is not None,
                    reasons=[GUEST_POST_REASON] if post.is_guest else [],
                )
            )
    return cards


def _poster_records(comments: list[Comment]) -> dict[tuple[int, str], PosterRecord]:
    """Records keyed by ``(blog id, poster key)``: counts, bans and recent comments
    are the poster's everywhere; notes are per blog (filled in by the caller)."""
    user_ids = {c.author_id for c in comments if c.author_id is not None}
    hashes = {c.ip_hash for c in comments if c.author_id is None and c.ip_hash}
    records: dict[tuple[int, str], PosterRecord] = {}
    if not user_ids and not hashes:
        return records
    by_poster: dict[str, list[PosterRecord]] = defaultdict(list)
    for comment in comments:
        key = _poster_key(comment)
        if not key or (comment.post.blog_id, key) in records:
            continue
        if comment.author_id is not None:
            record = PosterRecord(kind="account", label=comment.author.username)
        else:
            record = PosterRecord(kind="network", label=comment.ip_hash[:12])
        records[(comment.post.blog_id, key)] = record
        by_poster[key].append(record)

    theirs = Q(author_id__in=user_ids) | (
        Q(author__isnull=True, ip_hash__in=hashes) & ~Q(ip_hash="")  # the partial index's term
    )
    poster = Case(
        When(
            author_id__isnull=False,
            then=Concat(Value("u"), Cast("author_id", CharField()), output_field=CharField()),
        ),
        default=Concat(Value("h"), F("ip_hash"), output_field=CharField()),
        output_field=CharField(),
    )
    counted = (
        Comment.objects.filter(theirs)
        .annotate(
            poster=poster,
            removed=Case(
                When(removed_at__isnull=False, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .values("poster", "status", "removed")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in counted:
        state = "removed" if row["removed"] else row["status"]
        for record in by_poster.get(row["poster"], []):
            record.counts[state] += row["n"]

    bans = Ban.objects.active().filter(
        Q(user_id__in=user_ids) | (Q(ip_hash__in=hashes) & ~Q(ip_hash=""))
    )
    for ban in bans.select_related("blog"):
        key = f"u{ban.user_id}" if ban.user_id else f"h{ban.ip_hash}"
        for record in by_poster.get(key, []):
            record.bans.append(ban)

    latest = (
        Comment.objects.filter(theirs)
        .annotate(
            poster=poster,
            rank=Window(
                RowNumber(),
                partition_by=[poster],
                order_by=[F("created_at").desc(), F("id").desc()],
            ),
        )
        .filter(rank__lte=RECENT_COMMENTS + 1)
        .values_list("poster", "id", "post_id", "post__title", "status", "removed_at", "body")
        .order_by("-created_at", "-id")
    )
    on_page = {c.pk for c in comments}
    for key, pk, post_id, title, status, removed_at, body in latest:
        for record in by_poster.get(key, []):
            if len(record.recent) < RECENT_COMMENTS and pk not in on_page:
                record.recent.append(
                    RecentComment(pk, post_id, title, _state(status, removed_at), excerpt(body, 80))
                )
    return records


def _notes(comments: list[Comment]) -> QuerySet[ModeratorNote]:
    ids = [c.pk for c in comments]
    user_ids = {c.author_id for c in comments if c.author_id is not None}
    hashes = {c.ip_hash for c in comments if c.author_id is None and c.ip_hash}
    if not ids:
        return ModeratorNote.objects.none()
    about = (
        Q(comment_id__in=ids) | Q(user_id__in=user_ids) | (Q(ip_hash__in=hashes) & ~Q(ip_hash=""))
    )
    return (
        ModeratorNote.objects.filter(about)
        .select_related("created_by")
        .order_by("created_at", "id")
    )


# --- a post's thread, as moderators see it ----------------------------------------------


@dataclass
class ThreadComment:
    comment: Comment
    state: str  # pending, approved, rejected, spam, removed, tombstone
    open_flags: int
    notes: list[ModeratorNote]
    edit: dict | None = None  # its edit awaiting review (``edit_cards.edit_fields``)


def thread_for_moderators(*, post_id: int) -> tuple[Post, list[ThreadComment]]:
    """Every comment of the post in thread order (the tree's paths), whatever its
    state, with its open flags, notes and edit awaiting review (a published
    comment's, as on the desk: ``selectors.edited_comments``). Four queries."""
    post = Post.objects.select_related("blog").filter(pk=post_id).first()
    if post is None:
        raise NotFound("No such post.")
    comments = list(
        Comment.objects.filter(post_id=post_id)
        .annotate(open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
        .order_by("path")
    )
    notes: dict[int, list[ModeratorNote]] = defaultdict(list)
    if comments:
        for note in ModeratorNote.objects.filter(comment__post_id=post_id).select_related(
            "created_by"
        ):
            notes[note.comment_id].append(note)
    published = [
        c.pk for c in comments if c.status == CommentStatus.APPROVED and c.removed_at is None
    ]
    edits = edit_cards.pending_edits(published)
    rows = []
    for comment in comments:
        if comment.removed_at is not None:
            state = "tombstone" if comment.is_public else "removed"
        else:
            state = comment.status
        edit = edits.get(comment.pk)
        fields = edit_cards.edit_fields(comment, edit) if edit is not None else None
        rows.append(ThreadComment(comment, state, comment.open_flags, notes[comment.pk], fields))
    return post, rows


# --- filters' choices and recent decisions ------------------------------------------------


def desk_blogs() -> list[tuple[str, str]]:
    return list(Blog.objects.order_by("name").values_list("slug", "name"))


def desk_posts(*, limit: int = 200) -> list[tuple[int, str]]:
    """Posts with something awaiting a decision (theirs or their comments'), newest first."""
    # From the held comments (a partial index holds the pending ones), not by
    # probing every post.
    waiting = (
        Q(status=PostStatus.PENDING, is_guest=True)
        | Q(pk__in=selectors.held_comments().order_by().values("post_id"))
        | Q(pk__in=selectors.edited_comments().order_by().values("post_id"))
    )
    return list(Post.objects.filter(waiting).order_by("-id").values_list("id", "title")[:limit])


def recent_decisions(*, actor, since: datetime.datetime, limit: int = 20) -> list[ModerationAction]:
    """``actor``'s log entries since ``since`` not undone yet, newest first."""
    return list(
        ModerationAction.objects.filter(actor=actor, created_at__gte=since)
        .filter(undone_by__isnull=True)
        .select_related("comment__post", "post", "ban__user", "ban__blog", "blog")
        .order_by("-created_at", "-id")[:limit]
    )


def log_entries(*, ids: list[int]) -> list[ModerationAction]:
    return list(
        ModerationAction.objects.filter(pk__in=ids)
        .select_related("comment__post", "post", "ban__user", "ban__blog", "blog", "undoes")
        .order_by("-id")
    )
