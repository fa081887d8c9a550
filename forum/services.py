"""Writes to blogs, posts and comments. Every change to these tables goes through here.

The denormalized counters (``Post.comment_count``, ``Comment.reply_count``) and the
path counters (``Post.top_seq``, ``Comment.child_seq``) are kept here and nowhere
else; a comment's visibility changes only through ``_apply_visibility``.
"""

import datetime
import unicodedata

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from forum.errors import InvalidInput, NotFound
from forum.models import (
    Blog,
    Comment,
    CommentStatus,
    Post,
    PostStatus,
    path_step,
)
from forum.permissions import AnyUser
from forum.policy import decide_comment_status

# Control characters other than tab, newline and carriage return are refused.
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def clean_text(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    """Validate user text; return it as written (only the length check trims).

    Refuses NUL and other control characters, and text whose trimmed length is
    outside ``min_length``..``max_length``.
    """
    if not isinstance(value, str):
        raise InvalidInput("Must be a string.", field=field)
    for char in value:
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
            raise InvalidInput(
                f"Must not contain control characters (found U+{ord(char):04X}).", field=field
            )
    length = len(value.strip())
    if length < min_length:
        raise InvalidInput("This field may not be blank.", field=field)
    if length > max_length:
        raise InvalidInput(
            f"Ensure this field has no more than {max_length} characters (it has {length}).",
            field=field,
        )
    return value


def _clean_name(value: str | None, *, field: str = "author_name") -> str:
    if value is None:
        return ""
    value = clean_text(value, field=field, max_length=80, min_length=0).strip()
    return " ".join(value.split())


# --- blogs and posts ---------------------------------------------------------


def blog_create(*, name: str, slug: str, description: str = "", owner: AnyUser = None) -> Blog:
    if Blog.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A blog with slug {slug!r} exists already.", field="slug")
    return Blog.objects.create(
        name=name, slug=slug, description=description, owner=owner if owner else None
    )


def blog_get_or_create(*, slug: str, name: str, description: str = "") -> tuple[Blog, bool]:
    blog = Blog.objects.filter(slug=slug).first()
    if blog is not None:
        return blog, False
    return blog_create(name=name, slug=slug, description=description), True


def _unique_post_slug(*, blog: Blog, title: str) -> str:
    base = (slugify(title) or "post")[:180].strip("-") or "post"
    taken = set(
        Post.objects.filter(blog=blog, slug__startswith=base).values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


@transaction.atomic
def post_create(
    *,
    blog: Blog,
    title: str,
    body: str,
    author: AnyUser = None,
    author_name: str = "",
    status: str = PostStatus.DRAFT,
    published_at: datetime.datetime | None = None,
    is_guest: bool = False,
    guest_number: int | None = None,
    import_key: str | None = None,
) -> Post:
    """Create a post. A published post without ``published_at`` is published now."""
    title = clean_text(title, field="title", max_length=300).strip()
    body = clean_text(body, field="body", max_length=settings.FORUM["POST_MAX_LENGTH"])
    if status not in PostStatus.values:
        raise InvalidInput(f"Unknown post status {status!r}.", field="status")
    if guest_number is not None and not is_guest:
        raise InvalidInput("Only guest posts have a guest number.", field="guest_number")
    if guest_number is not None and (
        Post.objects.filter(blog=blog, guest_number=guest_number).exists()
    ):
        raise InvalidInput(
            f"Guest Blog {guest_number} exists already on this blog.", field="guest_number"
        )
    if status == PostStatus.PUBLISHED and published_at is None:
        published_at = timezone.now()
    if author is not None and author.is_authenticated:
        author_name = author.public_name
    else:
        author = None
    return Post.objects.create(
        blog=blog,
        title=title,
        slug=_unique_post_slug(blog=blog, title=title),
        body=body,
        author=author,
        author_name=_clean_name(author_name),
        status=status,
        published_at=published_at,
        is_guest=is_guest,
        guest_number=guest_number,
        import_key=import_key,
    )


# --- comments ----------------------------------------------------------------


def _increment_returning(*, model: type[Post] | type[Comment], column: str, pk: int) -> int:
    """Add one to a counter column and return its new value, in one statement.

    The UPDATE takes the row's write lock until the transaction ends, so two
    concurrent replies to the same parent can never be handed the same step.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    col = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {col} = {col} + 1 WHERE id = %s RETURNING {col}",  # noqa: S608
            [pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"{model._meta.verbose_name} {pk} does not exist.")
    return row[0]


def _counts_toward_post(*, status: str, removed: bool) -> bool:
    return status == CommentStatus.APPROVED and not removed


def _apply_visibility(*, comment: Comment, was_public: bool, was_counted: bool) -> None:
    """Bring the counters in line after ``comment``'s status or removal changed.

    ``comment`` holds its new state (saved). A change of public visibility moves the
    parent's ``reply_count`` by one, which can in turn show or hide the parent when
    it is a tombstone, and so on up the tree: at most ``depth`` small updates.
    """
    now_counted = _counts_toward_post(status=comment.status, removed=comment.is_removed)
    if now_counted != was_counted:
        Post.objects.filter(pk=comment.post_id).update(
            comment_count=F("comment_count") + (1 if now_counted else -1)
        )
    node, node_was_public = comment, was_public
    while node.parent_id is not None and node.is_public != node_was_public:
        delta = 1 if node.is_public else -1
        parent = Comment.objects.select_for_update().get(pk=node.parent_id)
        parent_was_public = parent.is_public
        Comment.objects.filter(pk=parent.pk).update(reply_count=F("reply_count") + delta)
        parent.reply_count += delta
        node, node_was_public = parent, parent_was_public


@transaction.atomic
def comment_create(
    *,
    post: Post,
    body: str,
    parent: Comment | None = None,
    author: AnyUser = None,
    author_name: str | None = None,
    created_at: datetime.datetime | None = None,
    status: str | None = None,
    import_key: str | None = None,
) -> Comment:
    """Add a comment to ``post``, as a reply to ``parent`` when given.

    ``author`` (a logged-in user) is shown under their display name; otherwise
    ``author_name`` is the name the poster chose, and no name means anonymous.
    ``status`` is normally left to the moderation policy (``forum.policy``); trusted
    callers such as the seed importer pass it. Costs a constant number of
    statements whatever the size of the thread.
    """
    if post.status != PostStatus.PUBLISHED:
        raise NotFound("This post is not published.")
    body = clean_text(body, field="body", max_length=settings.FORUM["COMMENT_MAX_LENGTH"])
    if author is not None and author.is_authenticated:
        author_name = author.public_name
    else:
        author = None
        author_name = _clean_name(author_name)

    if parent is not None:
        if parent.post_id != post.pk:
            raise InvalidInput("The parent comment belongs to another post.", field="parent")
        if not parent.is_public or parent.is_removed:
            raise InvalidInput("The parent comment cannot be replied to.", field="parent")
        max_depth = settings.FORUM["MAX_COMMENT_DEPTH"]
        if parent.depth + 1 > max_depth:
            raise InvalidInput(f"Replies may nest at most {max_depth} levels deep.", field="parent")

    if status is None:
        status = decide_comment_status(
            post=post,
            author=author,
            author_name=author_name,
            body=body,
            parent_id=parent.pk if parent else None,
        ).status
    if status not in CommentStatus.values:
        raise InvalidInput(f"Unknown comment status {status!r}.", field="status")

    if parent is None:
        path = path_step(_increment_returning(model=Post, column="top_seq", pk=post.pk))
    else:
        step = _increment_returning(model=Comment, column="child_seq", pk=parent.pk)
        path = parent.path + path_step(step)

    comment = Comment.objects.create(
        post=post,
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        path=path,
        author=author,
        author_name=author_name,
        body=body,
        status=status,
        created_at=created_at or timezone.now(),
        import_key=import_key,
    )
    _apply_visibility(comment=comment, was_public=False, was_counted=False)
    return comment
