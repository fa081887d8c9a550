"""Writes to blogs, posts, comments and flags. Every change to these tables goes
through ``forum``: these services, and the rooms they use (``forum.comment_tree`` for
the tree and its counters, ``forum.authors`` for what an account's changes do to what
its owner wrote). Other apps decide (moderation) or own the account (accounts) and
call the verbs here: ``post_set_status``, ``comment_set_state``, ``flags_resolve``,
``author_detach``, ``author_renamed``.

The denormalized counters (``Post.comment_count``, ``Post.top_level_count``,
``Comment.reply_count``) and the path counters (``Post.top_seq``,
``Comment.child_seq``) are kept by ``forum.comment_tree`` and nowhere else; a
comment's visibility changes only inside its ``tracking_visibility`` (a new
comment's counters are set by ``comment_create`` in the statements that hand out its
path). Whatever changes what the public sees of a thread calls ``thread_changed``
(``forum.thread_cache``) explicitly, which retires the thread's cached pages.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from forum import events, tokens
from forum.access import comment_access, comment_lock, has_hidden_ancestor
from forum.comment_tree import place_and_insert, tracking_visibility
from forum.errors import Conflict, InvalidInput, NotFound
from forum.flags import flag_people
from forum.models import (
    COMMENT_TABLE,
    Comment,
    CommentRevision,
    CommentStatus,
    Flag,
    FlagReason,
    Post,
    PostStatus,
    RemovalKind,
    RevisionStatus,
    TextFormat,
)
from forum.names import refuse_reserved_name
from forum.permissions import AnyUser, is_moderator
from forum.policy import (
    FLAGGED_REASON,
    Submission,
    check_can_post,
    decide_comment_status,
    get_policy,
)

# Blogs and posts live in forum.posts; callers reach every forum write through here.
from forum.posts import (  # noqa: F401
    blog_create,
    blog_get_or_create,
    guest_post_submit,
    next_guest_number,
    post_create,
    post_lock,
    post_set_status,
    post_update,
    posts_delete,
)
from forum.rendering import render
from forum.text import check_format, clean_name, clean_text
from forum.thread_cache import thread_changed, threads_changed  # noqa: F401

# Votes and pins live in forum.votes.
from forum.votes import comment_pin_set, my_votes, vote_cast  # noqa: F401

flag_log = logging.getLogger("forum.flags")

# --- comments ----------------------------------------------------------------


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
    body_format: str = TextFormat.PLAIN,
) -> Comment:
    """Add a comment to ``post``, as a reply to ``parent`` when given.

    ``body_format`` is how the body is written: ``plain`` (default) or ``markdown``
    (``forum.rendering.render``).

    ``author`` (a logged-in user) is shown under their display name; otherwise
    ``author_name`` is the name the poster chose, and no name means anonymous.
    ``status`` is normally left to the moderation policy (``forum.policy``); trusted
    callers such as the seed importer pass it.

    Whatever may refuse the comment (validation, the policy, the repeat check) runs
    before the transaction; the transaction is then two statements for a top-level
    comment (its post's counters and path step, the insert) and three for a reply
    (on PostgreSQL the insert of a published reply two levels down or more also asks
    again about its parent's ancestors, under the post's lock), whatever the size of
    the thread, with no savepoint of its own inside a caller's transaction (an import
    writes thousands): a database error in it leaves that transaction to be rolled
    back.

    With ``issue_edit_token`` a poster without an account gets an edit token: its
    hash is stored and the token itself is set on the returned comment as
    ``issued_edit_token``, the only time it is ever available.
    """
    if post.status != PostStatus.PUBLISHED:
        raise NotFound("This post is not published.")
    body = clean_text(body, field="body", max_length=settings.FORUM["COMMENT_MAX_LENGTH"])
    body_format = check_format(body_format)
    if author is not None and author.is_authenticated:
        author_name = author.public_name
    else:
        author = None
        author_name = clean_name(author_name)
        refuse_reserved_name(author_name, field="author_name")

    if parent is not None:
        if parent.post_id != post.pk:
            raise InvalidInput("The parent comment belongs to another post.", field="parent")
        # (A parent under a hidden comment is refused by ``place_and_insert``, under
        # the parent's lock, in the statement that hands out the reply's path.)
        if not parent.is_public or parent.is_removed:
            raise InvalidInput("The parent comment cannot be replied to.", field="parent")
        max_depth = settings.FORUM["MAX_COMMENT_DEPTH"]
        if parent.depth + 1 > max_depth:
            raise InvalidInput(f"Replies may nest at most {max_depth} levels deep.", field="parent")

    body_html = render(body, body_format)  # once: the policy counts its links too
    reasons: tuple[str, ...] = ()
    if status is None:
        submission = Submission(
            post=post,
            author=author,
            author_name=author_name,
            body=body,
            parent_id=parent.pk if parent else None,
            ip_hash=ip_hash,
            body_html=body_html,
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
        body_html=body_html,
        body_format=body_format,
        status=status,
        created_at=created_at or timezone.now(),
        import_key=import_key,
        ip_hash=ip_hash,
        moderation_reasons=list(reasons),
        edit_token_hash=token_hash,
    )
    with transaction.atomic(savepoint=False):
        refused = place_and_insert(comment)
        if refused is None and import_key is None:
            events.record(events.OF_NEW_COMMENT[status], comment=comment)
    if refused is not None:
        raise refused
    if issued_token is not None:
        comment.issued_edit_token = issued_token
    comment.pending_edit = None
    return comment


def _refuse_repeat(*, author: AnyUser, ip_hash: str, body: str) -> None:
    """The same poster sending the same text again within the repeat window is a
    double submission or a flood: refuse it (409) rather than publish it twice.

    One plain query on the poster's recent comments (``comment_author_recent_idx`` or
    ``comment_ip_recent_idx``), without the ORM's query compilation, which cost
    several times the query on this path (every comment posted over the API)."""
    window = settings.FORUM["REPEAT_WINDOW_SECONDS"]
    if author is not None:
        poster_sql, poster = "author_id = %s", author.pk
    elif ip_hash:
        # (the last term names the partial index's condition: comment_ip_recent_idx)
        poster_sql, poster = "author_id IS NULL AND ip_hash = %s AND NOT (ip_hash = '')", ip_hash
    else:
        return
    db = connections[router.db_for_read(Comment)]
    since = db.ops.adapt_datetimefield_value(timezone.now() - datetime.timedelta(seconds=window))
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {COMMENT_TABLE} WHERE {poster_sql} "  # noqa: S608
            "AND created_at >= %s AND body = %s LIMIT 1",
            [poster, since, body],
        )
        if cursor.fetchone() is not None:
            raise Conflict("You posted this text a moment ago; it was not posted again.")


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
    with tracking_visibility(comment):
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


def _access_for_change(
    comment: Comment | None, comment_id: int | None, *, user: AnyUser, edit_token: str | None
) -> Comment:
    """The comment to change, by id (or as given: read again), locked, as
    ``comment_access`` lets ``user`` change it."""
    if (comment is None) == (comment_id is None):
        raise TypeError("pass comment_id (or comment), not both")
    return comment_access(
        comment_id=comment_id if comment is None else comment.pk,
        user=user,
        edit_token=edit_token,
        for_change=True,
        lock=True,
    )


@transaction.atomic
def comment_update(
    *,
    comment_id: int | None = None,
    body: str,
    user: AnyUser = None,
    edit_token: str | None = None,
    comment: Comment | None = None,
    body_format: str | None = None,
) -> Comment:
    """Its author (or a moderator) rewrites the comment ``comment_id`` (or
    ``comment``: it is read again, locked, either way), in ``body_format`` when
    given (else in the format it was written in).

    Access as ``forum.access.comment_access`` decides (404 for a comment the caller
    cannot see, 403 for one they may not change). Every version is kept
    (``CommentRevision``). An author's new text for a published comment goes
    through the moderation policy: when the policy would publish it, it replaces
    the text at once; when it would hold it (or call it spam), the comment stays
    published with its last approved text, and the edit waits for a moderator
    (``pending_edit`` on the returned comment), so nobody's reply below it ever
    disappears because of an edit. A moderator's edit, and an edit of a comment
    that is not published, replace the text at once.
    """
    comment = _access_for_change(comment, comment_id, user=user, edit_token=edit_token)
    if comment.is_removed:
        raise Conflict("This comment was removed and can no longer be edited.")
    body = clean_text(body, field="body", max_length=settings.FORUM["COMMENT_MAX_LENGTH"])
    body_format = comment.body_format if body_format is None else check_format(body_format)
    _rewrite(comment=comment, body=body, body_format=body_format, user=user)
    if comment.pending_edit is not None:  # the edit waits in the queue
        data = {"edit_revision": comment.pending_edit.number}
        events.record("comment.held", comment=comment, actor=user, data=data)
    return comment


def _next_revision_number(comment: Comment) -> int:
    """The number of the comment's next revision (the comment is locked). The first
    edit records the original text first, as revision 1."""
    last = (
        CommentRevision.objects.filter(comment_id=comment.pk)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    if last is not None:
        return last + 1
    CommentRevision.objects.create(
        comment=comment,
        number=1,
        body=comment.body,
        body_html=comment.body_html,
        body_format=comment.body_format,
        status=RevisionStatus.APPLIED,
        edited_by=comment.author,
        created_at=comment.created_at,
    )
    return 2


def _rewrite(*, comment: Comment, body: str, body_format: str, user: AnyUser) -> None:
    body_html = render(body, body_format)  # once: the policy counts its links too
    now = timezone.now()
    editor = user if user is not None and user.is_authenticated else None
    held = None
    if not is_moderator(user) and comment.status == CommentStatus.APPROVED:
        decision = decide_comment_status(
            Submission(
                post=comment.post,
                author=comment.author,
                author_name=comment.author_name,
                body=body,
                parent_id=comment.parent_id,
                ip_hash=comment.ip_hash,
                body_html=body_html,
            )
        )
        if decision.status != CommentStatus.APPROVED:
            held = decision
    number = _next_revision_number(comment)
    # A newer edit replaces one still waiting for review.
    CommentRevision.objects.filter(comment_id=comment.pk, status=RevisionStatus.PENDING).update(
        status=RevisionStatus.SUPERSEDED
    )
    revision = CommentRevision.objects.create(
        comment=comment,
        number=number,
        body=body,
        body_html=body_html,
        body_format=body_format,
        status=RevisionStatus.APPLIED if held is None else _held_revision_status(held.status),
        reasons=[] if held is None else list(held.reasons),
        edited_by=editor,
        created_at=now,
    )
    if held is not None:
        comment.pending_edit = revision if revision.status == RevisionStatus.PENDING else None
        return
    comment.pending_edit = None
    comment.body, comment.body_html, comment.edited_at = body, body_html, now
    comment.body_format = body_format
    comment.save(update_fields=["body", "body_html", "body_format", "edited_at"])
    if comment.is_public:  # the public sees the new text
        thread_changed(post_id=comment.post_id)


def _held_revision_status(status: str) -> str:
    return RevisionStatus.SPAM if status == CommentStatus.SPAM else RevisionStatus.PENDING


@transaction.atomic
def comment_edit_settle(*, comment: Comment, approve: bool, actor: AnyUser) -> bool:
    """A moderator's decision on the locked ``comment``'s edit awaiting review:
    ``approve`` publishes its text (``edited_at``: when it was written), otherwise
    the comment keeps its approved text. False when no edit awaits review."""
    revision = (
        CommentRevision.objects.select_for_update()
        .filter(comment_id=comment.pk, status=RevisionStatus.PENDING)
        .first()
    )
    if revision is None:
        return False
    revision.status = RevisionStatus.APPLIED if approve else RevisionStatus.REJECTED
    revision.decided_by = actor if actor is not None and actor.is_authenticated else None
    revision.decided_at = timezone.now()
    revision.save(update_fields=["status", "decided_by", "decided_at"])
    if approve:
        comment.body, comment.body_html = revision.body, revision.body_html
        comment.body_format = revision.body_format
        comment.edited_at = revision.created_at
        comment.save(update_fields=["body", "body_html", "body_format", "edited_at"])
        if comment.is_public:
            thread_changed(post_id=comment.post_id)
    return True


@transaction.atomic
def comment_remove_by_author(
    *,
    comment_id: int | None = None,
    user: AnyUser = None,
    edit_token: str | None = None,
    comment: Comment | None = None,
) -> Comment:
    """The author (or a moderator) withdraws the comment ``comment_id`` (or
    ``comment``), with the access of ``comment_update``: a tombstone while it has
    visible replies, hidden otherwise. Removing a removed comment changes nothing."""
    comment = _access_for_change(comment, comment_id, user=user, edit_token=edit_token)
    was_removed = comment.is_removed
    comment = comment_set_state(
        comment=comment, removed=True, removal_kind=RemovalKind.AUTHOR, removed_by=user
    )
    if not was_removed:
        events.record("comment.removed", comment=comment, actor=user)
    return comment


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
    network_hash: str = "",
) -> tuple[Flag, bool]:
    """Report a comment. One flag per reporter per comment: a repeat returns the
    first flag and ``created=False``, changing nothing. ``network_hash`` is the
    reporter's network (``forum.identity.network_hash``): flags take a comment down
    when they come from enough distinct people (``forum.flags``)."""
    if reason not in FlagReason.values:
        raise InvalidInput(f"{reason!r} is not a valid choice.", field="reason")
    note = clean_text(note, field="note", max_length=2000, min_length=0) if note else ""
    if not comment.is_public or comment.is_removed or has_hidden_ancestor(comment):
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
                network_hash=network_hash,
                reason=reason,
                note=note,
            )
    except IntegrityError:  # the same reporter, twice at once
        return Flag.objects.get(comment=comment, reporter_key=key), False
    _hide_when_flagged_enough(comment=comment)
    return flag, True


def _hide_when_flagged_enough(*, comment: Comment) -> None:
    """Enough distinct people (``forum.flags``: by account or by network) take an
    approved comment off the page and back to the moderators, with the reason
    ``flagged``; a moderator's ``approve`` puts it back (and closes the flags). The
    take-down is logged (logger ``forum.flags``) and shows in the queue."""
    rules = get_policy().flag_rules(comment.post)
    if rules.threshold is None:
        return
    comment = comment_lock(comment_id=comment.pk)
    if comment.status != CommentStatus.APPROVED or comment.is_removed:
        return
    people = flag_people(comment=comment, rules=rules)
    if people < rules.threshold:
        return
    reasons = [r for r in comment.moderation_reasons if r != FLAGGED_REASON] + [FLAGGED_REASON]
    comment_set_state(comment=comment, status=CommentStatus.PENDING, moderation_reasons=reasons)
    events.record("comment.held", comment=comment)
    flag_log.info(
        "comment %s taken down by flags: %s people (threshold %s)",
        comment.pk,
        people,
        rules.threshold,
    )


def flags_resolve(*, comment: Comment, at: datetime.datetime | None = None) -> int:
    """Close the comment's open flags (a moderator decided on it) as of ``at``
    (default: now). Returns how many were open."""
    return Flag.objects.filter(comment_id=comment.pk, resolved_at__isnull=True).update(
        resolved_at=at or timezone.now()
    )
