"""From events to deliveries: the worker's first step.

The worker takes unhandled events (``forum.events.Event`` without an
``EventReceipt``) in id order, locked with ``SKIP LOCKED`` on PostgreSQL so several
workers share them, and for each writes its deliveries and its receipt in one
transaction. A crash before the commit leaves the event unhandled; after it, the
deliveries are in the outbox. Deliveries carry ``dedupe_key``s, so handling an
event twice (never expected) would not mail twice.

``FanoutState.watermark`` bounds the scan: every event up to it is handled. It only
moves past events recorded ``EVENT_GRACE_SECONDS`` ago, so an event whose
transaction committed late (after a later event's) is not skipped, unless that
transaction stayed open longer than the grace time.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from forum.access import comment_visible, has_hidden_ancestor
from forum.events import Event
from forum.models import (
    Comment,
    CommentRevision,
    CommentStatus,
    Post,
    PostStatus,
    RevisionStatus,
)
from forum.permissions import MODERATORS_GROUP
from moderation.edit_cards import EDIT as DESK_EDITS
from moderation.permissions import can_moderate
from notifications import content, links
from notifications.models import (
    DigestItem,
    EventReceipt,
    FanoutState,
    LinkTarget,
    ReplySubscription,
    ThreadMute,
    WebhookEndpoint,
)
from notifications.outbox import enqueue_mail, enqueue_webhook
from notifications.services import moderation_link_create

logger = logging.getLogger("notifications.worker")


def _locked(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset  # SQLite: the transaction holds the database's write lock


def _unhandled():
    return ~Exists(EventReceipt.objects.filter(event_id=OuterRef("pk")))


def _watermark() -> int:
    state = FanoutState.objects.filter(pk=1).values_list("watermark", flat=True).first()
    return state or 0


def fan_out(*, limit: int) -> int:
    """Handle up to ``limit`` unhandled events; returns how many."""
    with transaction.atomic():
        events = list(
            _locked(Event.objects.filter(_unhandled(), pk__gt=_watermark()).order_by("pk"))[:limit]
        )
        for event in events:
            error = ""
            try:
                with transaction.atomic():
                    handle(event)
            except Exception as exc:  # a bug must not block every later event
                logger.exception("event %s (%s) could not be handled", event.pk, event.kind)
                error = repr(exc)[:2000]
            EventReceipt.objects.create(event_id=event.pk, error=error)
    return len(events)


def advance_watermark() -> None:
    """Move the watermark over events handled long enough ago; drop their receipts."""
    grace = datetime.timedelta(seconds=settings.NOTIFICATIONS["EVENT_GRACE_SECONDS"])
    with transaction.atomic():
        FanoutState.objects.get_or_create(pk=1)
        state = _locked(FanoutState.objects.filter(pk=1)).first()
        if state is None:  # another worker is at it
            return
        above = Event.objects.filter(pk__gt=state.watermark)
        first_open = above.filter(_unhandled()).order_by("pk").values_list("pk", flat=True).first()
        settled = above.filter(created_at__lt=timezone.now() - grace)
        if first_open is not None:
            settled = settled.filter(pk__lt=first_open)
        top = settled.aggregate(top=Max("pk"))["top"]
        if top is not None:
            state.watermark = top
            state.save(update_fields=["watermark"])
            EventReceipt.objects.filter(event_id__lte=top).delete()


# --- what each event causes -------------------------------------------------------------


def handle(event: Event) -> None:
    handler = HANDLERS.get(event.kind)
    if handler is not None:
        handler(event)


def _comment(event: Event) -> Comment | None:
    return (
        Comment.objects.select_related("post__blog", "parent__author", "author")
        .filter(pk=event.comment_id)
        .first()
    )


def _post(event: Event) -> Post | None:
    return Post.objects.select_related("blog").filter(pk=event.post_id).first()


def comment_data(comment: Comment) -> dict:
    return {
        "id": comment.pk,
        "post": {"id": comment.post_id, "title": comment.post.title},
        "blog": comment.post.blog.slug,
        "parent": comment.parent_id,
        "author_name": comment.author_name,
        "body": None if comment.is_removed else comment.body,
        "status": comment.status,
        "removed": comment.is_removed,
        "created_at": comment.created_at.isoformat(),
        "url": links.comment_url(comment),
    }


def post_data(post: Post) -> dict:
    return {
        "id": post.pk,
        "blog": post.blog.slug,
        "title": post.title,
        "status": post.status,
        "author_name": post.author_name,
        "is_guest": post.is_guest,
        "guest_number": post.guest_number,
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "url": links.post_url(post),
    }


def webhooks(event: Event, data: dict) -> None:
    endpoints = WebhookEndpoint.objects.filter(blog_id=event.blog_id, is_active=True)
    for endpoint in endpoints:
        if event.kind in endpoint.events:
            enqueue_webhook(endpoint=endpoint, kind=event.kind, event_id=event.pk, data=data)


def _announceable(comment: Comment) -> bool:
    """Whether a published comment may be announced: the public may read it now
    (``forum.access.comment_visible``: approved, on a published post, no hidden
    ancestor), or could but for its removal since (announced without its text,
    ``comment_data``). A comment under a hidden ancestor (a top-level comment marked
    spam, say), or hidden again before the worker came, is announced to nobody: its
    text would reach people the thread does not show it to."""
    if comment.is_removed:
        return comment.post.status == PostStatus.PUBLISHED and not has_hidden_ancestor(comment)
    return comment_visible(comment)


def on_comment_published(event: Event) -> None:
    """Webhooks, and reply mails for a reply, when ``_announceable``. The event is
    handled once, with the comment's state then: a reply kept quiet under a hidden
    ancestor is not announced later when the ancestor is approved again (that event
    is about the ancestor)."""
    comment = _comment(event)
    if comment is None or not _announceable(comment):
        return
    webhooks(event, comment_data(comment))
    if comment.parent_id is not None and not comment.is_removed:
        reply_mails(event, comment)


def reply_mails(event: Event, reply: Comment) -> None:
    """Mail the parent's author (account with ``notify_replies``) and the confirmed
    addresses subscribed to the parent, except the reply's own author."""
    parent = reply.parent
    own = set(
        ReplySubscription.objects.filter(comment=reply).values_list("address__email", flat=True)
    )
    if reply.author is not None and reply.author.email:
        own.add(reply.author.email.lower())
    sent: set[str] = set()
    author = parent.author
    if (
        author is not None
        and author.is_active
        and author.notify_replies
        and author.email
        and author.pk != reply.author_id
        and author.email.lower() not in own
        and not ThreadMute.objects.filter(user=author, post_id=reply.post_id).exists()
    ):
        mail = content.reply(
            to=author.email,
            reply=reply,
            thread_unsubscribe=links.unsubscribe_url(u=author.pk, p=reply.post_id),
            all_unsubscribe=links.unsubscribe_url(u=author.pk),
        )
        enqueue_mail(
            mail, kind="reply", event_id=event.pk, dedupe_key=f"reply:{reply.pk}:u{author.pk}"
        )
        sent.add(author.email.lower())
    subscriptions = ReplySubscription.objects.filter(
        comment=parent, address__confirmed_at__isnull=False
    ).select_related("address")
    for subscription in subscriptions:
        email = subscription.address.email
        if email in own or email in sent:
            continue
        mail = content.reply(
            to=email,
            reply=reply,
            thread_unsubscribe=links.unsubscribe_url(a=subscription.address_id, p=reply.post_id),
            all_unsubscribe=links.unsubscribe_url(a=subscription.address_id),
        )
        enqueue_mail(
            mail,
            kind="reply",
            event_id=event.pk,
            dedupe_key=f"reply:{reply.pk}:a{subscription.address_id}",
        )
        sent.add(email)


def moderators(blog_id: int | None) -> list:
    """Everyone who may moderate the blog, with an address, who wants queue mail."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=MODERATORS_GROUP))
        .exclude(email="")
        .exclude(moderator_mail="none")
        .distinct()
        .order_by("pk")
    )
    return [user for user in users if can_moderate(user, blog_id)]


LINK_ACTIONS = {LinkTarget.COMMENT: ("approve", "reject"), LinkTarget.POST: ("publish", "reject")}


def moderation_section(
    *, user, target: Comment | Post, edit: CommentRevision | None = None
) -> dict:
    """One item of a moderator's mail. An edit awaiting review has no one-click
    links (it is decided on the desk, seeing the edit against the approved text,
    on the version read there) and never carries the edit's text."""
    if edit is not None:
        desk = links.desk_url(kind=DESK_EDITS)
        return content.edit_section(comment=target, reasons=edit.reasons, desk_url=desk)
    kind = LinkTarget.COMMENT if isinstance(target, Comment) else LinkTarget.POST
    urls = [
        (
            action.capitalize(),
            moderation_link_create(user=user, target=kind, target_id=target.pk, action=action),
        )
        for action in LINK_ACTIONS[kind]
    ]
    return content.moderation_section(kind=kind, target=target, urls=urls)


def moderator_mails(
    event: Event, target: Comment | Post, *, edit: CommentRevision | None = None
) -> None:
    """Each moderator's mail about ``target`` (or its ``edit``): at once, or an item
    of their hourly digest. Once per event and moderator (``dedupe_key``,
    ``DigestItem``'s constraint), however often the event is handled."""
    for user in moderators(event.blog_id):
        if user.moderator_mail == "hourly":
            DigestItem.objects.get_or_create(user=user, event_id=event.pk)
            continue
        mail = content.moderation_item(
            to=user.email,
            section=moderation_section(user=user, target=target, edit=edit),
            unsubscribe=links.unsubscribe_url(u=user.pk, m=1),
        )
        enqueue_mail(
            mail,
            kind="moderation",
            event_id=event.pk,
            dedupe_key=f"moderation:{event.pk}:{user.pk}",
        )


def _edit_number(event: Event) -> int | None:
    """The revision number of the edit a ``comment.held`` is about, or None when
    the comment itself was held."""
    return event.data.get("edit_revision") if event.data else None


def _waiting_edit(event: Event, comment: Comment) -> CommentRevision | None:
    """The edit the event names while it still waits for review, as the desk shows
    it: pending (not decided, nor replaced by a newer edit), on a comment still
    approved and not removed."""
    if comment.status != CommentStatus.APPROVED or comment.is_removed:
        return None
    return CommentRevision.objects.filter(
        comment_id=comment.pk, number=_edit_number(event), status=RevisionStatus.PENDING
    ).first()


def held_data(event: Event, comment: Comment) -> dict:
    """A ``comment.held`` webhook's data: the comment (``comment_data``) and what
    waits, ``held``: ``comment`` (the comment itself) or ``edit`` (an edit of the
    published comment, with its ``edit_revision``; ``body`` stays the text the
    public reads, never the edit's)."""
    number = _edit_number(event)
    if number is None:
        return {**comment_data(comment), "held": "comment"}
    return {**comment_data(comment), "held": "edit", "edit_revision": number}


def on_comment_held(event: Event) -> None:
    comment = _comment(event)
    if comment is None:
        return
    webhooks(event, held_data(event, comment))
    if _edit_number(event) is not None:
        edit = _waiting_edit(event, comment)
        if edit is not None:
            moderator_mails(event, comment, edit=edit)
    elif comment.status == CommentStatus.PENDING and not comment.is_removed:
        moderator_mails(event, comment)


def on_comment_removed(event: Event) -> None:
    comment = _comment(event)
    if comment is not None:
        webhooks(event, comment_data(comment))


def on_post_published(event: Event) -> None:
    post = _post(event)
    if post is None:
        return
    webhooks(event, post_data(post))
    if post.is_guest and post.submitter_email and post.status == PostStatus.PUBLISHED:
        enqueue_mail(
            content.guest_post_published(post=post),
            kind="guest_post",
            event_id=event.pk,
            dedupe_key=f"guest_post:{event.pk}",
        )


def on_post_rejected(event: Event) -> None:
    post = _post(event)
    if post is not None and post.is_guest and post.submitter_email:
        mail = content.guest_post_rejected(post=post, reason=event.data.get("reason", ""))
        enqueue_mail(
            mail, kind="guest_post", event_id=event.pk, dedupe_key=f"guest_post:{event.pk}"
        )


def on_guest_post_submitted(event: Event) -> None:
    post = _post(event)
    if post is None:
        return
    webhooks(event, post_data(post))
    if post.status == PostStatus.PENDING:
        moderator_mails(event, post)


HANDLERS = {
    "comment.published": on_comment_published,
    "comment.held": on_comment_held,
    "comment.removed": on_comment_removed,
    "post.published": on_post_published,
    "post.rejected": on_post_rejected,
    "guest_post.submitted": on_guest_post_submitted,
}


# --- hourly digests --------------------------------------------------------------------


def send_digests(*, now: datetime.datetime | None = None) -> int:
    """One mail per moderator whose oldest waiting item is a digest period old,
    with every item still waiting (decided ones are left out). Returns mails queued."""
    now = now or timezone.now()
    period = datetime.timedelta(seconds=settings.NOTIFICATIONS["DIGEST_SECONDS"])
    due = (
        DigestItem.objects.filter(created_at__lte=now - period)
        .values_list("user_id", flat=True)
        .distinct()
    )
    queued = 0
    for user_id in list(due):
        with transaction.atomic():
            items = list(_locked(DigestItem.objects.filter(user_id=user_id)).order_by("pk"))
            if not items:
                continue
            user = get_user_model().objects.get(pk=user_id)
            sections = []
            for event in Event.objects.filter(pk__in=[i.event_id for i in items]).order_by("pk"):
                target, edit = _still_waiting(event)
                if target is not None:
                    sections.append(moderation_section(user=user, target=target, edit=edit))
            DigestItem.objects.filter(pk__in=[i.pk for i in items]).delete()
            if sections and user.email and user.is_active:
                mail = content.moderation_digest(
                    to=user.email,
                    sections=sections,
                    unsubscribe=links.unsubscribe_url(u=user.pk, m=1),
                )
                enqueue_mail(mail, kind="moderation_digest")
                queued += 1
    return queued


def _still_waiting(event: Event) -> tuple[Comment | Post | None, CommentRevision | None]:
    """What the event put in the queue, if it still waits: ``(target, edit)``."""
    if event.kind == "comment.held":
        comment = _comment(event)
        if comment is None:
            return None, None
        if _edit_number(event) is not None:
            edit = _waiting_edit(event, comment)
            return (comment, edit) if edit is not None else (None, None)
        if comment.status == CommentStatus.PENDING:
            return comment, None
    elif event.kind == "guest_post.submitted":
        post = _post(event)
        if post is not None and post.status == PostStatus.PENDING:
            return post, None
    return None, None
