"""Writes to blogs, posts and comments. Every change to these tables goes through here.

The denormalized counters (``Post.comment_count``, ``Comment.reply_count``) and the
path counters (``Post.top_seq``, ``Comment.child_seq``) are kept here and nowhere
else; a comment's visibility changes only inside ``_tracking_visibility``.
"""

import datetime
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from forum import tokens
from forum.errors import Conflict, InvalidInput, NotFound, NotPermitted
from forum.models import (
    Blog,
    Comment,
    CommentStatus,
    Flag,
    FlagReason,
    Post,
    PostStatus,
    RemovalKind,
    path_step,
)
from forum.permissions import AnyUser, is_comment_author, is_moderator, within_edit_window
from forum.policy import (
    FLAGGED_REASON,
    Submission,
    check_can_post,
    decide_comment_status,
    get_policy,
)
from forum.rendering import render_text

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
        body_html=render_text(body),
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


@contextmanager
def _tracking_visibility(comment: Comment) -> Iterator[None]:
    """Around a change of ``comment``'s status or removal: fix the counters after."""
    was_public = comment.is_public
    was_counted = _counts_toward_post(status=comment.status, removed=comment.is_removed)
    yield
    _apply_visibility(comment=comment, was_public=was_public, was_counted=was_counted)


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
    ip_hash: str = "",
    issue_edit_token: bool = False,
) -> Comment:
    """Add a comment to ``post``, as a reply to ``parent`` when given.

    ``author`` (a logged-in user) is shown under their display name; otherwise
    ``author_name`` is the name the poster chose, and no name means anonymous.
    ``status`` is normally left to the moderation policy (``forum.policy``); trusted
    callers such as the seed importer pass it. Costs a constant number of
    statements whatever the size of the thread.

    With ``issue_edit_token`` a poster without an account gets an edit token: its
    hash is stored and the token itself is set on the returned comment as
    ``issued_edit_token``, the only time it is ever available.
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

    reasons: tuple[str, ...] = ()
    if status is None:
        submission = Submission(
            post=post,
            author=author,
            author_name=author_name,
            body=body,
            parent_id=parent.pk if parent else None,
            ip_hash=ip_hash,
        )
        check_can_post(submission)
        decision = decide_comment_status(submission)
        status, reasons = decision.status, decision.reasons
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
        body_html=render_text(body),
        status=status,
        created_at=created_at or timezone.now(),
        import_key=import_key,
        ip_hash=ip_hash,
        moderation_reasons=list(reasons),
    )
    if issue_edit_token and author is None:
        comment.issued_edit_token, comment.edit_token_hash = tokens.new_token()
        comment.save(update_fields=["edit_token_hash"])
    _apply_visibility(comment=comment, was_public=False, was_counted=False)
    return comment


def comment_lock(*, comment_id: int) -> Comment:
    """Re-read a comment under a row lock (inside a transaction): decisions are
    taken on its latest state, and a concurrent decision waits for this one."""
    comment = Comment.objects.select_for_update().select_related("post").filter(pk=comment_id)
    found = comment.first()
    if found is None:
        raise NotFound("No such comment.")
    return found


def _lock_comment(comment: Comment) -> Comment:
    return comment_lock(comment_id=comment.pk)


@transaction.atomic
def comment_set_state(
    *,
    comment: Comment,
    status: str | None = None,
    removed: bool | None = None,
    removal_kind: str = RemovalKind.MODERATOR,
    removed_by: AnyUser = None,
    removal_reason: str = "",
    moderation_reasons: list[str] | None = None,
) -> Comment:
    """Change a locked comment's status and/or removal (``comment_lock``), keeping
    every counter right. The moderation services decide; this only applies."""
    fields: list[str] = []
    with _tracking_visibility(comment):
        if status is not None and status != comment.status:
            if status not in CommentStatus.values:
                raise InvalidInput(f"Unknown comment status {status!r}.", field="status")
            comment.status = status
            fields.append("status")
        if removed is True and not comment.is_removed:
            comment.removed_at = timezone.now()
            comment.removal_kind = removal_kind
            comment.removed_by = removed_by if removed_by and removed_by.is_authenticated else None
            comment.removal_reason = removal_reason
            fields += ["removed_at", "removal_kind", "removed_by", "removal_reason"]
        elif removed is False and comment.is_removed:
            comment.removed_at, comment.removal_kind, comment.removed_by = None, "", None
            comment.removal_reason = ""
            fields += ["removed_at", "removal_kind", "removed_by", "removal_reason"]
        if moderation_reasons is not None and moderation_reasons != comment.moderation_reasons:
            comment.moderation_reasons = moderation_reasons
            fields.append("moderation_reasons")
        if fields:
            comment.save(update_fields=fields)
    return comment


def _check_author_may_change(*, comment: Comment, user: AnyUser, edit_token: str | None) -> None:
    if is_moderator(user):
        return
    if not is_comment_author(user, comment, edit_token):
        raise NotPermitted("You can only change your own comments.")
    if not within_edit_window(comment, timezone.now()):
        raise NotPermitted("The time for changing this comment has passed.")


@transaction.atomic
def comment_update(
    *, comment: Comment, body: str, user: AnyUser = None, edit_token: str | None = None
) -> Comment:
    """Its author (or a moderator) rewrites a comment.

    The new text goes back through the moderation policy: when the policy would
    hold it, an approved comment returns to the queue. A moderator's edit stands.
    """
    comment = _lock_comment(comment)
    _check_author_may_change(comment=comment, user=user, edit_token=edit_token)
    if comment.is_removed:
        raise Conflict("This comment was removed and can no longer be edited.")
    body = clean_text(body, field="body", max_length=settings.FORUM["COMMENT_MAX_LENGTH"])
    with _tracking_visibility(comment):
        _rewrite(comment=comment, body=body, user=user)
    return comment


def _rewrite(*, comment: Comment, body: str, user: AnyUser) -> None:
    comment.body = body
    comment.body_html = render_text(body)
    comment.edited_at = timezone.now()
    if not is_moderator(user) and comment.status == CommentStatus.APPROVED:
        decision = decide_comment_status(
            Submission(
                post=comment.post,
                author=comment.author,
                author_name=comment.author_name,
                body=body,
                parent_id=comment.parent_id,
                ip_hash=comment.ip_hash,
            )
        )
        comment.status = decision.status
        comment.moderation_reasons = list(decision.reasons)
    comment.save(update_fields=["body", "body_html", "edited_at", "status", "moderation_reasons"])


@transaction.atomic
def comment_remove_by_author(
    *, comment: Comment, user: AnyUser = None, edit_token: str | None = None
) -> Comment:
    """The author withdraws a comment: a tombstone while it has visible replies,
    hidden otherwise. Removing a removed comment changes nothing."""
    comment = _lock_comment(comment)
    _check_author_may_change(comment=comment, user=user, edit_token=edit_token)
    return comment_set_state(
        comment=comment, removed=True, removal_kind=RemovalKind.AUTHOR, removed_by=user
    )


def flag_reporter_key(*, user: AnyUser, ip_hash: str) -> str:
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip_hash}"


@transaction.atomic
def flag_create(
    *,
    comment: Comment,
    reason: str,
    note: str = "",
    user: AnyUser = None,
    ip_hash: str = "",
) -> tuple[Flag, bool]:
    """Report a comment. One flag per reporter per comment: a repeat returns the
    first flag and ``created=False``, changing nothing."""
    if reason not in FlagReason.values:
        raise InvalidInput(f"{reason!r} is not a valid choice.", field="reason")
    note = clean_text(note, field="note", max_length=2000, min_length=0) if note else ""
    if not comment.is_public or comment.is_removed:
        raise NotFound("No comment to flag here.")
    key = flag_reporter_key(user=user, ip_hash=ip_hash)
    existing = Flag.objects.filter(comment=comment, reporter_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                comment=comment,
                reporter=user if user is not None and user.is_authenticated else None,
                reporter_key=key,
                reason=reason,
                note=note,
            )
    except IntegrityError:  # the same reporter, twice at once
        return Flag.objects.get(comment=comment, reporter_key=key), False
    _hide_when_flagged_enough(comment=comment)
    return flag, True


def _hide_when_flagged_enough(*, comment: Comment) -> None:
    """Enough distinct reporters take an approved comment off the page and back to
    the moderators, with the reason ``flagged``."""
    threshold = get_policy().flag_threshold(comment.post)
    if threshold is None:
        return
    comment = _lock_comment(comment)
    if comment.status != CommentStatus.APPROVED or comment.is_removed:
        return
    if Flag.objects.filter(comment=comment, resolved_at__isnull=True).count() < threshold:
        return
    reasons = [r for r in comment.moderation_reasons if r != FLAGGED_REASON] + [FLAGGED_REASON]
    comment_set_state(comment=comment, status=CommentStatus.PENDING, moderation_reasons=reasons)


@transaction.atomic
def guest_post_submit(
    *, blog: Blog, title: str, body: str, author_name: str, email: str = ""
) -> Post:
    """A reader submits a guest blog. It waits, ``pending``, for review; the
    submitter gets a token (``post.issued_edit_token``) to follow it."""
    name = _clean_name(author_name)
    if not name:
        raise InvalidInput("This field may not be blank.", field="author_name")
    post = post_create(
        blog=blog,
        title=title,
        body=body,
        author_name=name,
        status=PostStatus.PENDING,
        is_guest=True,
    )
    post.issued_edit_token, post.edit_token_hash = tokens.new_token()
    post.submitter_email = email
    post.save(update_fields=["edit_token_hash", "submitter_email"])
    return post
