"""The moderation API (API.md, "Moderation"): the queue, decisions, the audit log.

Moderators only (``moderation.permissions.IsModerator``): others get 403, anonymous
callers 401. Views validate, call one service or selector, and serialize; the
services lock the item and check its state, so concurrent decisions on one item
give one winner and ``409 Conflict`` for the others.
"""

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from forum import selectors as forum_selectors
from forum.api.filters import MAX_ID, IdFilter
from forum.api.inputs import UserTextField, validated
from forum.api.openapi import UNAUTHENTICATED, error_response, nullable_object
from forum.models import CommentStatus, PostStatus, RemovalKind, RevisionStatus
from moderation import selectors, services
from moderation.diffs import unified_diff
from moderation.models import ActionKind, ModerationAction, TargetKind
from moderation.permissions import IsModerator

# --- documented error answers -------------------------------------------------------

# forum.api.openapi's, with what they mean here.
FORBIDDEN = error_response("Not a moderator.")
NOT_FOUND = error_response("No such item.")
COMMENT_CONFLICT = OpenApiResponse(
    inline_serializer(
        name="CommentDecisionConflict",
        fields={
            "detail": serializers.CharField(),
            "status": serializers.ChoiceField(
                choices=CommentStatus.choices, help_text="The comment's current status."
            ),
            "removed": serializers.BooleanField(help_text="Whether it is currently removed."),
        },
    ),
    description="The action does not apply to the comment's current state (for instance "
    "another moderator decided first); the body gives that state.",
)
POST_CONFLICT = OpenApiResponse(
    inline_serializer(
        name="PostDecisionConflict",
        fields={
            "detail": serializers.CharField(),
            "status": serializers.ChoiceField(
                choices=PostStatus.choices, help_text="The post's current status."
            ),
        },
    ),
    description="The action does not apply to the post's current state.",
)
_REFUSALS = {401: UNAUTHENTICATED, 403: FORBIDDEN}


# --- the queue ----------------------------------------------------------------------


class QueueFilterInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TargetKind.choices, required=False)
    reason = serializers.ChoiceField(
        choices=[("pending", "pending"), ("flagged", "flagged")],
        required=False,
        help_text="flagged: comments readers' flags took down (or with open flags); "
        "pending: the rest.",
    )
    blog = serializers.SlugField(required=False, help_text="A blog's slug.")
    post = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A post's id: its comments (or itself).",
    )


class _PostRef(serializers.Serializer):
    class Meta:
        ref_name = "PostRef"

    id = serializers.IntegerField()
    title = serializers.CharField()


class QueueItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TargetKind.choices)
    id = serializers.IntegerField(help_text="The comment's or the post's id.")
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text='Why it waits, e.g. "anonymous", "first_post", "links", '
        '"watched_word:<w>", "flagged", "guest_post".',
    )
    blog = serializers.CharField(help_text="The blog's slug.")
    post = _PostRef(help_text="The post commented on (for a guest post: itself).")
    parent = serializers.IntegerField(
        allow_null=True, help_text="The id of the comment replied to; null at top level."
    )
    parent_excerpt = serializers.CharField(
        allow_null=True, help_text="The start of the comment replied to."
    )
    author_name = serializers.CharField(allow_null=True)
    display_name = serializers.CharField()
    is_anonymous = serializers.BooleanField()
    has_account = serializers.BooleanField()
    body = serializers.CharField()
    body_excerpt = serializers.CharField()
    flag_count = serializers.IntegerField(help_text="Open flags.")
    flag_reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Distinct reasons of the open flags."
    )
    created_at = serializers.DateTimeField(
        help_text="When it was written (for an edit awaiting review: when the edit was)."
    )
    age_seconds = serializers.IntegerField()
    pending_edit = nullable_object(
        {
            "revision": {"type": "integer", "description": "The edit's revision number."},
            "approved_body": {
                "type": "string",
                "description": "The text the public sees meanwhile.",
            },
        },
        help_text='For an edit of a published comment awaiting review (reason "edit"): '
        "`body` is the new text, this gives the approved text the public sees meanwhile. "
        "Decide with approve_edit or reject_edit.",
    )


class QueueView(generics.GenericAPIView):
    """What awaits a decision, oldest first: held comments (including those readers'
    flags took down) and guest posts awaiting review."""

    permission_classes = [IsModerator]
    serializer_class = QueueItemSerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="moderation_queue",
        parameters=[QueueFilterInput],
        responses={200: QueueItemSerializer(many=True), **_REFUSALS},
    )
    def get(self, request: Request) -> Response:
        filters = validated(QueueFilterInput, request.query_params)
        page = self.paginate_queryset(selectors.queue_entries(**filters))
        items = selectors.queue_items(page)
        return self.get_paginated_response(self.get_serializer(items, many=True).data)


# --- decisions ----------------------------------------------------------------------


class CommentDecisionInput(serializers.Serializer):
    class Meta:
        ref_name = "CommentAction"

    action = serializers.ChoiceField(choices=list(services.COMMENT_ACTIONS))
    reason = UserTextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.REASON_MAX_LENGTH,
        help_text="Why (kept in the log; for a removal, also on the comment).",
    )
    expected_state = serializers.ChoiceField(
        choices=list(services.COMMENT_STATES),
        required=False,
        allow_null=True,
        default=None,
        help_text="The state the moderator saw (from the queue: pending). If the comment "
        "is no longer in it, another decision came first: 409, nothing changes.",
    )


class PostDecisionInput(serializers.Serializer):
    class Meta:
        ref_name = "PostAction"

    action = serializers.ChoiceField(choices=list(services.POST_ACTIONS))
    reason = UserTextField(
        required=False, allow_blank=True, default="", max_length=services.REASON_MAX_LENGTH
    )


class _BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice stored as "" for "none" (``Comment.removal_kind``), sent as null: an
    enum in the schema never holds ""."""

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class CommentDecisionSerializer(serializers.Serializer):
    """A comment's state after a decision (from a ``CommentOutcome``)."""

    id = serializers.IntegerField(source="comment.pk")
    post = serializers.IntegerField(source="comment.post_id")
    parent = serializers.IntegerField(source="comment.parent_id", allow_null=True)
    status = serializers.ChoiceField(choices=CommentStatus.choices, source="comment.status")
    removed = serializers.BooleanField(source="comment.is_removed")
    removal_kind = _BlankAsNullChoiceField(
        choices=RemovalKind.choices,
        source="comment.removal_kind",
        allow_null=True,
        help_text="Who removed it (author or moderator); null unless removed.",
    )
    moderation_reasons = serializers.ListField(
        child=serializers.CharField(), source="comment.moderation_reasons"
    )
    pinned = serializers.BooleanField(source="comment.is_pinned")
    changed = serializers.BooleanField(
        help_text="False when the comment was in the requested state already."
    )
    log_entry = serializers.IntegerField(
        source="action.pk", allow_null=True, help_text="The audit log entry written, if any."
    )


class PostDecisionSerializer(serializers.Serializer):
    """A post's state after a decision (from a ``PostOutcome``)."""

    id = serializers.IntegerField(source="post.pk")
    blog = serializers.CharField(source="post.blog.slug")
    title = serializers.CharField(source="post.title")
    status = serializers.ChoiceField(choices=PostStatus.choices, source="post.status")
    is_guest = serializers.BooleanField(source="post.is_guest")
    guest_number = serializers.IntegerField(source="post.guest_number", allow_null=True)
    published_at = serializers.DateTimeField(source="post.published_at", allow_null=True)
    changed = serializers.BooleanField(
        help_text="False when the post was in the requested state already."
    )
    log_entry = serializers.IntegerField(source="action.pk", allow_null=True)


class CommentDecisionView(generics.GenericAPIView):
    """Decide on a comment: ``approve``, ``reject``, ``spam``, ``remove``, ``restore``,
    ``pin`` or ``unpin`` (at most three pinned per post: 409 beyond); on an author's
    edit awaiting review, ``approve_edit`` (publish its text) or ``reject_edit``
    (keep the approved text).

    Repeating a decision whose result already holds answers 200 with
    ``changed: false``; an action that does not apply to the comment's current
    state answers 409 with that state, and so does one whose ``expected_state`` is
    no longer the comment's (another moderator decided first).
    """

    permission_classes = [IsModerator]
    serializer_class = CommentDecisionSerializer

    @extend_schema(
        operation_id="decide_comment",
        request=CommentDecisionInput,
        responses={
            200: CommentDecisionSerializer,
            **_REFUSALS,
            404: NOT_FOUND,
            409: COMMENT_CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(CommentDecisionInput, request.data)
        outcome = services.comment_decide(
            comment_id=pk,
            action=data["action"],
            actor=request.user,
            reason=data["reason"],
            expected_state=data["expected_state"],
        )
        return Response(self.get_serializer(outcome).data)


class PostDecisionView(generics.GenericAPIView):
    """Decide on a pending (guest) post: ``publish`` (a guest post gets the blog's
    next ``guest_number``) or ``reject``."""

    permission_classes = [IsModerator]
    serializer_class = PostDecisionSerializer

    @extend_schema(
        operation_id="decide_post",
        request=PostDecisionInput,
        responses={
            200: PostDecisionSerializer,
            **_REFUSALS,
            404: NOT_FOUND,
            409: POST_CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(PostDecisionInput, request.data)
        outcome = services.post_decide(
            post_id=pk, action=data["action"], actor=request.user, reason=data["reason"]
        )
        return Response(self.get_serializer(outcome).data)


# --- versions of a comment ----------------------------------------------------------


def _editor_field(help_text: str = "") -> serializers.Field:
    return nullable_object(
        {"id": {"type": "integer"}, "username": {"type": "string"}}, help_text=help_text
    )


class RevisionSerializer(serializers.Serializer):
    """One version of a comment's text."""

    revision = serializers.IntegerField(source="number", help_text="1: the original text.")
    status = serializers.ChoiceField(
        choices=RevisionStatus.choices,
        help_text="applied: was (or is) the public text; pending: awaits review; rejected, "
        "spam; superseded: replaced by a later edit before review.",
    )
    body = serializers.CharField()
    format = serializers.CharField(
        source="body_format", help_text="How the body is written: plain or markdown."
    )
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why the policy held it."
    )
    diff = serializers.CharField(
        help_text="What changed from the previous version (a unified diff; empty for the first)."
    )
    edited_by = _editor_field("Null without an account.")
    created_at = serializers.DateTimeField()
    decided_by = _editor_field("The moderator who decided on a held edit.")
    decided_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, revision) -> dict:
        data = super().to_representation(revision)
        for name in ("edited_by", "decided_by"):
            user = getattr(revision, name)
            data[name] = None if user is None else {"id": user.pk, "username": user.username}
        return data


class CommentRevisionsView(generics.ListAPIView):
    """Every version of a comment's text, oldest first, each with what changed from
    the one before: the original (revision 1), the edits applied, and those held,
    rejected or superseded. The public only ever sees the approved text."""

    permission_classes = [IsModerator]
    serializer_class = RevisionSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        return forum_selectors.comment_revisions(comment_id=self.kwargs["pk"])

    @extend_schema(responses={200: RevisionSerializer(many=True), **_REFUSALS, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        # 404 for a comment that does not exist (moderators see every other).
        forum_selectors.comment_get_for_viewer(comment_id=pk, user=request.user, edit_token=None)
        page = self.paginate_queryset(self.get_queryset())
        previous = None
        if page and page[0].number > 1:
            previous = (
                self.get_queryset().filter(number__lt=page[0].number).order_by("-number").first()
            )
        before = previous.body if previous is not None else None
        for revision in page:
            revision.diff = unified_diff(before, revision.body)
            before = revision.body
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- the audit log ------------------------------------------------------------------


class ModerationActionFilter(django_filters.FilterSet):
    # Ids are whole numbers that fit the column (IdFilter): 1e300 is a 400, not a 500.
    actor = IdFilter(field_name="actor_id", help_text="The actor's user id.")
    actor_username = django_filters.CharFilter(field_name="actor__username")
    kind = django_filters.ChoiceFilter(field_name="target_kind", choices=TargetKind.choices)
    action = django_filters.ChoiceFilter(choices=ActionKind.choices)
    comment = IdFilter(field_name="comment_id", help_text="The comment's id.")
    post = IdFilter(method="filter_post", help_text="Decisions on this post and on its comments.")

    class Meta:
        model = ModerationAction
        fields: list[str] = []

    def filter_post(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(Q(post_id=value) | Q(comment__post_id=value))


class _ActorSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Actor"

    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField(source="public_name")


class ModerationActionSerializer(serializers.ModelSerializer):
    actor = _ActorSerializer(allow_null=True, help_text="Null once that account was erased.")

    class Meta:
        model = ModerationAction
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "target_kind",
            "comment",
            "post",
            "from_state",
            "to_state",
            "reason",
            "ban",
            "blog",
            "details",
            "undoes",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "ban": {"help_text": "The ban made or lifted (kind ban)."},
            "blog": {"help_text": "The blog's id, for bans and policy changes."},
            "details": {
                "help_text": "What the states do not say: a comment's moderation reasons "
                "before the decision; a policy's changed settings, before and after."
            },
            "undoes": {"help_text": "The log entry this one undid, if any."},
        }


class ModerationLogView(generics.ListAPIView):
    """The audit log, newest first: who decided what, when, why, from which state to
    which. Filters: ``actor`` (id), ``actor_username``, ``kind``, ``action``,
    ``comment``, ``post`` (the post and its comments)."""

    permission_classes = [IsModerator]
    serializer_class = ModerationActionSerializer
    filterset_class = ModerationActionFilter

    def get_queryset(self) -> QuerySet[ModerationAction]:
        return selectors.action_list()

    @extend_schema(
        operation_id="moderation_log",
        responses={200: ModerationActionSerializer(many=True), **_REFUSALS},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)
