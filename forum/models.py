"""Blogs, posts and threaded comments.

The comment tree is stored as a materialized path (``Comment.path``): the parent's
path plus one fixed-width step per level, each step a zero-padded sibling number
handed out in creation order. Sorting a post's comments by ``path`` therefore
yields the whole thread in display order (oldest first at every level) from one
indexed range scan, and a new reply never renumbers another row. Paths are digits
only, so every collation sorts them the same way on SQLite and PostgreSQL.

Invariants that span rows (a parent belongs to the same post, depth and path
follow the parent's) are enforced by database triggers installed in migration
``0002_tree_triggers``; single-row invariants are check constraints below.
"""

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

# Width of one step of Comment.path: up to 999,999 siblings under one parent.
PATH_STEP_WIDTH = 6
PATH_MAX_LENGTH = 255  # room for 42 levels; the API caps depth far lower.


def path_step(number: int) -> str:
    """The fixed-width path step for the ``number``-th child (1-based)."""
    if not 1 <= number < 10**PATH_STEP_WIDTH:
        raise ValueError(f"sibling number {number} does not fit in a path step")
    return str(number).zfill(PATH_STEP_WIDTH)


def path_prefixes(path: str) -> list[str]:
    """The paths of the ancestors of the comment at ``path``, top-level first."""
    return [path[:end] for end in range(PATH_STEP_WIDTH, len(path), PATH_STEP_WIDTH)]


class Blog(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="blogs",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Imported blogs (imports/): the source's own id of the blog (e.g.
    # "blogger:<blog id>") and its address, so a later export of the same site
    # finds this blog again.
    import_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    source_url = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TextFormat(models.TextChoices):
    """How a body is written (``forum.rendering.render``): plain text, or a small
    CommonMark subset."""

    PLAIN = "plain", "Plain text"
    MARKDOWN = "markdown", "Markdown"


# At most this many pinned comments per post (also a check constraint on Post).
MAX_PINNED_PER_POST = 3


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending review"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"


class PostQuerySet(models.QuerySet):
    def published(self) -> "PostQuerySet":
        return self.filter(status=PostStatus.PUBLISHED)


class Post(models.Model):
    blog = models.ForeignKey(Blog, on_delete=models.PROTECT, related_name="posts")
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200)
    body = models.TextField()
    # Rendered once at write time (forum.rendering), so reads never render.
    body_html = models.TextField(blank=True)
    body_format = models.CharField(
        max_length=8, choices=TextFormat.choices, default=TextFormat.PLAIN
    )
    status = models.CharField(max_length=16, choices=PostStatus.choices, default=PostStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
    )
    # The name shown as the post's author (the account's display name, or the
    # name a guest blogger gave); empty when no name is shown.
    author_name = models.CharField(max_length=80, blank=True)
    is_guest = models.BooleanField(default=False)
    guest_number = models.PositiveIntegerField(null=True, blank=True)
    # Guest submissions: how to reach the submitter, and the hash of the token that
    # lets them follow their submission (forum.tokens).
    submitter_email = models.EmailField(blank=True)
    edit_token_hash = models.CharField(max_length=64, blank=True)
    # Approved comments that are not removed: what the public can read.
    comment_count = models.PositiveIntegerField(default=0)
    # Public top-level comments (public_comment_q, tombstones included): the number of
    # entries the thread pages through, so a page never counts them. Kept by the services.
    top_level_count = models.PositiveIntegerField(default=0)
    # Last path step handed to a top-level comment of this post.
    top_seq = models.PositiveIntegerField(default=0)
    # Pinned comments of this post (all public, top-level: a pin ends when its comment
    # is hidden, forum.comment_tree). Kept by forum.votes' pin verbs, at most
    # MAX_PINNED_PER_POST (a check constraint).
    pinned_count = models.PositiveSmallIntegerField(default=0)
    import_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Where an imported post was published before (its URL); imports match posts by it.
    source_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["blog", "slug"], name="post_slug_unique_per_blog"),
            models.UniqueConstraint(
                fields=["blog", "guest_number"], name="post_guest_number_unique_per_blog"
            ),
            models.CheckConstraint(
                condition=Q(guest_number__isnull=True) | Q(is_guest=True),
                name="post_guest_number_only_for_guest_posts",
            ),
            models.CheckConstraint(
                condition=~Q(status=PostStatus.PUBLISHED) | Q(published_at__isnull=False),
                name="post_published_has_published_at",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PostStatus.values), name="post_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(body_format__in=TextFormat.values), name="post_body_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(pinned_count__gte=0, pinned_count__lte=MAX_PINNED_PER_POST),
                name="post_pinned_count_at_most_3",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="post_status_published_idx"),
            models.Index(
                fields=["blog", "status", "-published_at"], name="post_blog_published_idx"
            ),
            # The moderation queue: guest posts awaiting review, oldest first.
            models.Index(
                fields=["created_at"],
                name="post_pending_idx",
                condition=Q(status=PostStatus.PENDING),
            ),
            models.Index(
                fields=["blog", "source_url"],
                name="post_source_url_idx",
                condition=~Q(source_url=""),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CommentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SPAM = "spam", "Spam"


class RemovalKind(models.TextChoices):
    AUTHOR = "author", "Removed by its author"
    MODERATOR = "moderator", "Removed by a moderator"


def public_comment_q() -> Q:
    """What the public sees: approved comments, and removed ones that still have
    visible replies (shown as tombstones). ``reply_count`` is kept by the services."""
    return Q(status=CommentStatus.APPROVED) & (Q(removed_at__isnull=True) | Q(reply_count__gt=0))


class CommentQuerySet(models.QuerySet):
    def public(self) -> "CommentQuerySet":
        return self.filter(public_comment_q())


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    # PROTECT: a comment with replies is never hard-deleted; it becomes a tombstone.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    depth = models.PositiveSmallIntegerField(default=0)
    path = models.CharField(max_length=PATH_MAX_LENGTH)
    # Last path step handed to a direct reply of this comment.
    child_seq = models.PositiveIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comments",
    )
    # The name shown: the account's display name, or the name an anonymous poster
    # chose; empty for an anonymous comment.
    author_name = models.CharField(max_length=80, blank=True)
    body = models.TextField()
    body_html = models.TextField(blank=True)
    body_format = models.CharField(
        max_length=8, choices=TextFormat.choices, default=TextFormat.PLAIN
    )
    status = models.CharField(
        max_length=16, choices=CommentStatus.choices, default=CommentStatus.PENDING
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    removal_kind = models.CharField(max_length=16, choices=RemovalKind.choices, blank=True)
    removal_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Direct replies the public can see (see public_comment_q); kept by the services.
    reply_count = models.PositiveIntegerField(default=0)
    # Readers' votes (forum.votes, one ``Vote`` row each), counted here by the vote
    # service so that reads never count: score = votes_up - votes_down.
    score = models.IntegerField(default=0)
    votes_up = models.PositiveIntegerField(default=0)
    votes_down = models.PositiveIntegerField(default=0)
    # Set while a moderator has pinned this (public, top-level) comment.
    pinned_at = models.DateTimeField(null=True, blank=True)
    import_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Posters without an account edit with a token; only its SHA-256 is kept.
    edit_token_hash = models.CharField(max_length=64, blank=True)
    # Keyed hash of the poster's IP address (forum.identity); never the address.
    ip_hash = models.CharField(max_length=64, blank=True)
    # Why the moderation policy held this comment (reason codes such as
    # "anonymous", "links", "watched_word:<word>", "flagged"); empty when published.
    moderation_reasons = models.JSONField(default=list, blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["post", "path"]
        constraints = [
            models.UniqueConstraint(fields=["post", "path"], name="comment_path_unique_per_post"),
            models.CheckConstraint(
                condition=(Q(parent__isnull=True) & Q(depth=0))
                | (Q(parent__isnull=False) & Q(depth__gt=0)),
                name="comment_depth_matches_parent",
            ),
            models.CheckConstraint(
                condition=Exact(Length("path"), (F("depth") + 1) * PATH_STEP_WIDTH),
                name="comment_path_length_matches_depth",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CommentStatus.values), name="comment_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(removed_at__isnull=True) & Q(removal_kind="")
                    | Q(removed_at__isnull=False) & Q(removal_kind__in=RemovalKind.values)
                ),
                name="comment_removal_consistent",
            ),
            models.CheckConstraint(
                condition=Q(score=F("votes_up") - F("votes_down")),
                name="comment_score_is_up_minus_down",
            ),
            models.CheckConstraint(
                condition=Q(body_format__in=TextFormat.values), name="comment_body_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(pinned_at__isnull=True) | Q(parent__isnull=True),
                name="comment_pinned_only_top_level",
            ),
        ]
        indexes = [
            # Thread pages: top-level comments of a post in order, and children of one parent.
            models.Index(fields=["post", "parent", "path"], name="comment_post_parent_path_idx"),
            # The public top-level comments of a post in order, and nothing else: a page's
            # top-level paths (by number or cursor) come from the index alone. The thread's
            # SQL (forum.selectors) repeats this condition word for word, which SQLite
            # needs to use a partial index.
            models.Index(
                fields=["post", "path"],
                name="comment_public_top_idx",
                condition=Q(parent__isnull=True, status=CommentStatus.APPROVED)
                & (Q(removed_at__isnull=True) | Q(reply_count__gt=0)),
            ),
            # The same comments by score (``sort=top``: score down, then oldest first),
            # so that order too is an index-only seek.
            models.Index(
                "post",
                F("score").desc(),
                "path",
                name="comment_public_top_score_idx",
                condition=Q(parent__isnull=True, status=CommentStatus.APPROVED)
                & (Q(removed_at__isnull=True) | Q(reply_count__gt=0)),
            ),
            # A post's pinned comments (a handful at most).
            models.Index(
                fields=["post"], name="comment_pinned_idx", condition=Q(pinned_at__isnull=False)
            ),
            models.Index(fields=["created_at"], name="comment_created_idx"),
            # The repeat check (forum.services._refuse_repeat): a poster's latest
            # comments, by account or by IP hash, without scanning all they wrote.
            models.Index(fields=["author", "created_at"], name="comment_author_recent_idx"),
            # Only comments with a hash: imported ones have none (""), and a value that
            # many rows share made SQLite's statistics judge the index useless for any
            # hash. Queries name the condition (``ip_hash <> ''``) to use it.
            models.Index(
                fields=["ip_hash", "created_at"],
                name="comment_ip_recent_idx",
                condition=~Q(ip_hash=""),
            ),
            models.Index(
                fields=["created_at"],
                name="comment_pending_idx",
                condition=Q(status=CommentStatus.PENDING),
            ),
            # The moderation policy's trust check: a poster's published comments by IP
            # hash (posters with accounts are found through the author foreign key).
            models.Index(
                fields=["ip_hash"],
                name="comment_published_ip_idx",
                condition=Q(status=CommentStatus.APPROVED, removed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on post {self.post_id}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def is_anonymous(self) -> bool:
        return not self.author_name

    @property
    def is_pinned(self) -> bool:
        return self.pinned_at is not None

    @property
    def is_public(self) -> bool:
        return self.status == CommentStatus.APPROVED and (
            self.removed_at is None or self.reply_count > 0
        )


# Raw SQL reads and writes (forum.selectors, forum.thread_page, forum.comment_tree) name
# the tables and states through these, and ``public_comment_q`` in SQL through
# ``PUBLIC_COMMENT_SQL``: the exact condition of the partial index
# ``comment_public_top_idx`` with ``parent_id IS NULL`` (SQLite uses a partial index
# only when the query repeats its terms).
COMMENT_TABLE = Comment._meta.db_table
POST_TABLE = Post._meta.db_table


def public_comment_sql(alias: str = "") -> str:
    """``public_comment_q`` in SQL, for the comment row ``alias`` (none: unqualified,
    as ``PUBLIC_COMMENT_SQL``)."""
    t = f"{alias}." if alias else ""
    return (
        f"{t}status = '{CommentStatus.APPROVED.value}' "
        f"AND ({t}removed_at IS NULL OR {t}reply_count > 0)"
    )


PUBLIC_COMMENT_SQL = public_comment_sql()


def no_hidden_ancestor_sql(alias: str = COMMENT_TABLE) -> str:
    """SQL true when no ancestor of the comment row ``alias`` is hidden (not public by
    its own state): the thread's rule, "a comment whose ancestor is not public is not
    public", for reads that are not the thread (which drops such subtrees as it nests).

    An ancestor's path is a prefix of the comment's, so the ancestors are found by
    equality on the ``(post, path)`` unique index, one probe per level (the list of
    prefixes covers the deepest path a column can hold; beyond the comment's own
    depth the prefixes are its own path, excluded by ``depth``).
    """
    prefixes = ", ".join(
        f"SUBSTR({alias}.path, 1, {PATH_STEP_WIDTH * level})"
        for level in range(1, PATH_MAX_LENGTH // PATH_STEP_WIDTH)
    )
    return (
        f"({alias}.depth = 0 OR NOT EXISTS (SELECT 1 FROM {COMMENT_TABLE} ancestor "  # noqa: S608
        f"WHERE ancestor.post_id = {alias}.post_id AND ancestor.path IN ({prefixes}) "
        f"AND ancestor.depth < {alias}.depth AND NOT ({public_comment_sql('ancestor')})))"
    )


def visible_comment_q() -> Q:
    """``public_comment_q`` and no hidden ancestor: what the public may read, list,
    search, filter and order on, on every read path but the thread (which applies
    the same rule as it nests)."""
    # Built from constants only (no input reaches the SQL).
    hidden = RawSQL(no_hidden_ancestor_sql(), (), BooleanField())  # noqa: S611
    return public_comment_q() & Q(hidden)


from forum.events import Event  # noqa: E402, F401  (the event log: forum/events.py)
from forum.records import (  # noqa: E402, F401  (revisions, flags, votes, imports)
    CommentRevision,
    Flag,
    FlagReason,
    ImportRecord,
    RateCounter,
    RevisionStatus,
    Vote,
)
