"""What happened in the forum, for whoever wants to hear it (``notifications``).

Every forum or moderation service that changes something someone may want to hear
about ends with one ``record(...)`` call, inside its transaction: the event commits
with the change or not at all. The table is append-only (nothing here updates or
deletes a row); readers keep their own state of what they have handled.

Ids are plain columns, not foreign keys: deleting a post or a comment never
rewrites the log, and readers load what still exists when they handle an event.

Kinds (``KINDS``): ``comment.published`` (created approved, or approved by a
moderator), ``comment.held`` (created held, edited back into the queue, or taken
down by readers' flags), ``comment.removed`` (by its author or a moderator),
``comment.rejected``, ``comment.spam``, ``comment.restored``, ``comment.pinned``,
``comment.unpinned`` (a moderator's pin, forum.votes), ``post.published``,
``post.rejected``, ``guest_post.submitted``, ``blog.imported`` (one per imported
file, ``forum.bulk``: its ``ImportRecord`` id, format, source and counts). ``data``
holds what the change alone knows (a moderator's reason, the reasons a comment was
held; for ``comment.held`` of an edit of a published comment awaiting review,
``edit_revision``: the number of that edit's ``CommentRevision``, while the comment
itself stays approved).
"""

from typing import Any

from django.db import connections, models, router
from django.db.models import Q
from django.utils import timezone

from forum.raw_insert import insert_row

KINDS = (
    "comment.published",
    "comment.held",
    "comment.removed",
    "comment.rejected",
    "comment.spam",
    "comment.restored",
    "comment.pinned",
    "comment.unpinned",
    "post.published",
    "post.rejected",
    "guest_post.submitted",
    "blog.imported",
)

# The event a new comment records, by the status it is created with.
OF_NEW_COMMENT = {
    "approved": "comment.published",
    "pending": "comment.held",
    "rejected": "comment.rejected",
    "spam": "comment.spam",
}


class Event(models.Model):
    kind = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    blog_id = models.BigIntegerField(null=True, blank=True)
    post_id = models.BigIntegerField(null=True, blank=True)
    comment_id = models.BigIntegerField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "forum"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=KINDS), name="event_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


def record(
    kind: str,
    *,
    post: Any = None,
    comment: Any = None,
    actor: Any = None,
    data: dict | None = None,
    blog: Any = None,
) -> Event:
    """Append one event (call it inside the transaction of the change it tells of).

    ``comment`` implies its post and blog, ``post`` its blog.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    if comment is not None and post is None:
        post = comment.post
    event = Event(
        kind=kind,
        comment_id=comment.pk if comment is not None else None,
        post_id=post.pk if post is not None else None,
        blog_id=post.blog_id if post is not None else (blog.pk if blog is not None else None),
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        data=data or {},
    )
    # Written without the ORM's query compilation: one event per comment posted.
    with connections[router.db_for_write(Event)].cursor() as cursor:
        insert_row(cursor, event)
    return event
