"""Writes to blogs, posts and comments. Every change to these tables goes through here.

The denormalized counters (``Post.comment_count``, ``Post.top_level_count``,
``Comment.reply_count``) and the path counters (``Post.top_seq``,
``Comment.child_seq``) are kept here and nowhere else; a comment's visibility
changes only inside ``_tracking_visibility`` (a new comment's counters are set by
``comment_create`` in the statements that hand out its path). Whatever changes what
the public sees of a thread calls ``thread_changed``, which retires the thread's
cached pages (``forum.thread_cache``).
"""

import datetime
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache, partial

from django.conf import settings
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.text import slugify

from forum import thread_cache, tokens
from forum.errors import Conflict, InvalidInput, NotFound, NotPermitted, ServiceError
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

# Control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) other than
# tab, newline and carriage return are refused.
_REFUSED_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    """Validate user text; return it as written (only the length check trims).

    Refuses NUL and other control characters, and text whose trimmed length is
    outside ``min_length``..``max_length``.
    """
    if not isinstance(value, str):
        raise InvalidInput("Must be a string.", field=field)
    refused = _REFUSED_CONTROL.search(value)
    if refused is not None:
        raise InvalidInput(
            f"Must not contain control characters (found U+{ord(refused.group()):04X}).",
            field=field,
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
    try:
        with transaction.atomic():
            return blog_create(name=name, slug=slug, description=description), True
    except (InvalidInput, IntegrityError):
        # Another transaction created it just now (unique slug): that one is it.
        blog = Blog.objects.filter(slug=slug).first()
        if blog is None:
            raise
        return blog, False


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


@transaction.atomic
def post_update(*, post: Post, changed: Iterable[str]) -> Post:
    """Save a post whose fields an editor (the admin) has just set. The body's
    HTML is rendered at write time, so a changed body is checked and re-rendered."""
    if "body" in changed or not post.body_html:
        post.body = clean_text(
            post.body, field="body", max_length=settings.FORUM["POST_MAX_LENGTH"]
        )
        post.body_html = render_text(post.body)
    if post.status == PostStatus.PUBLISHED and post.published_at is None:
        post.published_at = timezone.now()
    post.save()
    return post


# --- comments ----------------------------------------------------------------


def thread_changed(*, post_id: int) -> None:
    """What the public sees of the post's thread changed: once the transaction
    commits, retire the thread's cached pages and ETags (``forum.thread_cache``).

    Not before: a page read in between is still rendered from the committed rows
    (and a rolled-back change retires nothing, as it should).
    """
    transaction.on_commit(partial(thread_cache.bump, post_id))


def threads_changed(*, post_ids: Iterable[int]) -> None:
    for post_id in set(post_ids):
        thread_changed(post_id=post_id)


@receiver(post_save, sender=Post, dispatch_uid="forum.post_saved")
@receiver(post_delete, sender=Post, dispatch_uid="forum.post_deleted")
def _post_changed(sender, instance: Post, **kwargs) -> None:
    # Whoever saves a post (these services, moderation, the admin) may have
    # published, unpublished or deleted it: its thread pages must go. Counter
    # updates are queryset updates and do not come here.
    thread_changed(post_id=instance.pk)


# The next path step of a new comment, with its counters, in one statement each. The
# UPDATE takes the row's write lock until the transaction ends, so two concurrent
# comments can never be handed the same step. A new comment is never removed, so it
# is public exactly when approved, and a reply can only go under a parent that is
# approved and not removed (checked here, under the lock), which a visible reply
# keeps visible: no tree walk is needed.
# (Named parameters: Django turns them into SQLite's in a fraction of the time it takes
# for "%s" ones, on every statement.)
_TOP_LEVEL_STEP_SQL = (
    f"UPDATE {Post._meta.db_table} SET top_seq = top_seq + 1, "  # noqa: S608
    "comment_count = comment_count + %(public)s, "
    "top_level_count = top_level_count + %(public)s WHERE id = %(id)s RETURNING top_seq"
)
_REPLY_STEP_SQL = (
    f"UPDATE {Comment._meta.db_table} SET child_seq = child_seq + 1, "  # noqa: S608
    "reply_count = reply_count + %(public)s "
    f"WHERE id = %(id)s AND status = '{CommentStatus.APPROVED.value}' AND removed_at IS NULL "
    "RETURNING child_seq"
)
_COUNT_COMMENT_SQL = (
    f"UPDATE {Post._meta.db_table} SET comment_count = comment_count + 1 "  # noqa: S608
    "WHERE id = %(id)s RETURNING comment_count"
)


def _insert(cursor, comment: Comment) -> None:
    """INSERT a new comment (setting its ``pk``) with the values the ORM would send,
    skipping the ORM's query compilation, which costs several times the statement
    itself. Plain text, number and foreign-key columns are sent as they are (what
    their fields would do); any other field prepares its value as in ``Model.save``.
    Sends no save signals (nothing listens for comments')."""
    db = cursor.db
    fields, sql = _insert_statement(db.vendor, db.alias)
    params = {
        field.column: getattr(comment, field.attname)
        if plain
        else field.get_db_prep_save(field.pre_save(comment, True), db)
        for field, plain in fields
    }
    cursor.execute(sql, params)
    comment.pk = cursor.fetchone()[0]
    comment._state.adding = False
    comment._state.db = db.alias


# Fields whose value goes to the database unchanged (no adaptation, no pre_save).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.ForeignKey,
)


@cache
def _insert_statement(vendor: str, alias: str) -> tuple[list, str]:
    db = connections[alias]
    fields = [
        (field, type(field) in _PLAIN_FIELDS)
        for field in Comment._meta.concrete_fields
        if not field.primary_key
    ]
    columns = ", ".join(db.ops.quote_name(field.column) for field, _plain in fields)
    marks = ", ".join(f"%({field.column})s" for field, _plain in fields)
    table = db.ops.quote_name(Comment._meta.db_table)
    pk = db.ops.quote_name(Comment._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    return fields, sql


def _returning(cursor, sql: str, params: dict) -> int | None:
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return None if row is None else row[0]


def _counts_toward_post(*, status: str, removed: bool) -> bool:
    return status == CommentStatus.APPROVED and not removed


def _apply_visibility(*, comment: Comment, was_public: bool, was_counted: bool) -> None:
    """Bring the counters in line after ``comment``'s status or removal changed.

    ``comment`` holds its new state (saved). A change of public visibility moves the
    parent's ``reply_count`` by one, which can in turn show or hide the parent when
    it is a tombstone, and so on up the tree: at most ``depth`` small updates, then
    one of the post when its counts move (a top-level comment shown or hidden moves
    ``top_level_count``). Any of this changes the public thread: ``thread_changed``.
    """
    now_counted = _counts_toward_post(status=comment.status, removed=comment.is_removed)
    post_counts = {}
    if now_counted != was_counted:
        post_counts["comment_count"] = F("comment_count") + (1 if now_counted else -1)
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
    if post_counts or comment.is_public != was_public:
        thread_changed(post_id=comment.post_id)


@contextmanager
def _tracking_visibility(comment: Comment) -> Iterator[None]:
    """Around a change of ``comment``'s status or removal: fix the counters after."""
    was_public = comment.is_public
    was_counted = _counts_toward_post(status=comment.status, removed=comment.is_removed)
    yield
    _apply_visibility(comment=comment, was_public=was_public, was_counted=was_counted)


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
    callers such as the seed importer pass it.

    Whatever may refuse the comment (validation, the policy, the repeat check) runs
    before the transaction; the transaction is then two statements for a top-level
    comment (its post's counters and path step, the insert) and three for a reply,
    whatever the size of the thread, with no savepoint of its own inside a caller's
    transaction (an import writes thousands): a database error in it leaves that
    transaction to be rolled back.

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
        _refuse_repeat(author=author, ip_hash=ip_hash, body=body)
        decision = decide_comment_status(submission)
        status, reasons = decision.status, decision.reasons
    if status not in CommentStatus.values:
        raise InvalidInput(f"Unknown comment status {status!r}.", field="status")

    issued_token, token_hash = None, ""
    if issue_edit_token and author is None:
        issued_token, token_hash = tokens.new_token()
    comment = Comment(
        post=post,
        parent=parent,
        depth=parent.depth + 1 if parent else 0,
        author=author,
        author_name=author_name,
        body=body,
        body_html=render_text(body),
        status=status,
        created_at=created_at or timezone.now(),
        import_key=import_key,
        ip_hash=ip_hash,
        moderation_reasons=list(reasons),
        edit_token_hash=token_hash,
    )
    with transaction.atomic(savepoint=False):
        refused = _place_and_insert(comment)
    if refused is not None:
        raise refused
    if issued_token is not None:
        comment.issued_edit_token = issued_token
    return comment


def _place_and_insert(comment: Comment) -> ServiceError | None:
    """Hand the new comment its path step, count it, insert it; or say why not (the
    error is raised by the caller, outside the transaction, which it leaves clean)."""
    public = comment.status == CommentStatus.APPROVED  # a new comment is never removed
    parent = comment.parent
    with connections[router.db_for_write(Comment)].cursor() as cursor:
        if parent is None:
            params = {"public": int(public), "id": comment.post_id}
            step = _returning(cursor, _TOP_LEVEL_STEP_SQL, params)
            if step is None:
                return NotFound("This post does not exist.")
            comment.path = path_step(step)
        else:
            step = _returning(cursor, _REPLY_STEP_SQL, {"public": int(public), "id": parent.pk})
            if step is None:  # removed or hidden since it was read
                return InvalidInput("The parent comment cannot be replied to.", field="parent")
            comment.path = parent.path + path_step(step)
            if public:
                _returning(cursor, _COUNT_COMMENT_SQL, {"id": comment.post_id})
        _insert(cursor, comment)
    if public:
        thread_changed(post_id=comment.post_id)
    return None


def comment_lock(*, comment_id: int) -> Comment:
    """Re-read a comment under a row lock (inside a transaction): decisions are
    taken on its latest state, and a concurrent decision waits for this one."""
    # of=("self",): lock the comment only, not its post (decisions on other comments
    # of the same post, and replies, must not queue behind this one).
    comment = (
        Comment.objects.select_for_update(of=("self",)).select_related("post").filter(pk=comment_id)
    )
    found = comment.first()
    if found is None:
        raise NotFound("No such comment.")
    return found


def _refuse_repeat(*, author: AnyUser, ip_hash: str, body: str) -> None:
    """The same poster sending the same text again within the repeat window is a
    double submission or a flood: refuse it (409) rather than publish it twice."""
    window = settings.FORUM["REPEAT_WINDOW_SECONDS"]
    recent = Comment.objects.filter(
        created_at__gte=timezone.now() - datetime.timedelta(seconds=window), body=body
    )
    if author is not None:
        recent = recent.filter(author=author)
    elif ip_hash:
        recent = recent.filter(author__isnull=True, ip_hash=ip_hash)
    else:
        return
    if recent.exists():
        raise Conflict("You posted this text a moment ago; it was not posted again.")


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
    if comment.is_public:  # the public sees the new text (a hidden one: _apply_visibility)
        thread_changed(post_id=comment.post_id)


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
