"""The desk's edit cards: published comments whose author's edit awaits review
(``selectors.edited_comments``; the public sees the approved text meanwhile).

An edit is queued from the time it was written (as the API's queue has it) and
has a kind of its own (``EDIT``, "Edits to review") and the reason ``edit``; the
reason filters of the policy (links, watched words...) also find the edits held
for them. Its card has the context of any comment card (``cards.desk_cards``) and,
instead of the text alone, the difference between the approved text and the
proposed one (``moderation.diffs.diff_html``).
"""

from django.db.models import (
    Case,
    CharField,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast

from forum.models import Comment, CommentRevision, Flag, RevisionStatus
from moderation import selectors
from moderation.diffs import diff_html

EDIT = selectors.EDIT_REASON  # the kind of an edit's card, and the reason filter
EDIT_LABEL = "Edits to review"


def edit_rows(
    *,
    kind: str | None,
    reason: str | None,
    reason_pattern: str | None,
    blog: str | None,
    post: int | None,
) -> QuerySet:
    """The edits awaiting review as the desk's ``(kind, id, queued_at, priority)``
    rows (priority 0 when the comment has open flags); none when the filters ask for
    another kind, or a reason that is not an edit's (readers' flags, guest posts;
    ``reason_pattern``: the JSON text a policy's reason is found by)."""
    edits = selectors.edited_comments()
    if kind not in (None, EDIT) or (reason and reason != EDIT and reason_pattern is None):
        edits = edits.none()
    if blog:
        edits = edits.filter(post__blog__slug=blog)
    if post is not None:
        edits = edits.filter(post_id=post)
    if reason_pattern is not None:
        held_for = selectors.pending_edit_of_row().annotate(
            reasons_text=Cast("reasons", TextField())
        )
        edits = edits.filter(Exists(held_for.filter(reasons_text__contains=reason_pattern)))
    flagged = Exists(Flag.objects.filter(comment=OuterRef("pk"), resolved_at__isnull=True))
    return (
        edits.order_by()
        .annotate(
            kind=Value(EDIT, output_field=CharField()),
            queued_at=Subquery(selectors.pending_edit_of_row().values("created_at")[:1]),
            priority=Case(
                When(flagged, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .values_list("kind", "id", "queued_at", "priority")
    )


def pending_edits(comment_ids: list[int]) -> dict[int, CommentRevision]:
    """The edit awaiting review of each comment of ``comment_ids`` (one query)."""
    if not comment_ids:
        return {}
    revisions = CommentRevision.objects.filter(
        comment_id__in=comment_ids, status=RevisionStatus.PENDING
    )
    return {revision.comment_id: revision for revision in revisions}


def edit_fields(comment: Comment, revision: CommentRevision) -> dict:
    """What an edit's card shows instead of a held comment's: when the edit was
    written, its number (what the moderator decides on), why it was held, and the
    difference from the approved text."""
    return {
        "created_at": revision.created_at,
        "revision": revision.number,
        "reasons": [EDIT, *revision.reasons],
        "link_count": revision.body_html.count("<a "),
        "diff_html": diff_html(comment.body, revision.body),
    }
