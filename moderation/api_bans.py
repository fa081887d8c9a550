"""Bans over the API (API.md, "Moderation"): list, make, lift.

A ban names an account (by username) or a comment, whose poster's network hash is
banned: callers never send or see an IP address, and a hash is shown shortened.
Moderators only; every ban and lift goes through ``moderation.services`` and is in
the audit log.
"""

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from forum.api.filters import MAX_ID, StrictBooleanFilter
from forum.api.inputs import UserTextField, validated
from forum.errors import InvalidInput, NotFound
from forum.models import Blog, Comment
from moderation import selectors, services
from moderation.api import _REFUSALS, NOT_FOUND
from moderation.models import Ban
from moderation.permissions import IsModerator

NETWORK_PREFIX = 12  # characters of a network hash shown

BAN_CONFLICT = OpenApiResponse(
    inline_serializer(
        name="BanConflict",
        fields={
            "detail": serializers.CharField(),
            "ban": serializers.IntegerField(required=False, help_text="The ban in force."),
        },
    ),
    description="The subject is banned from this blog already with another end: lift that "
    "ban first.",
)


class BanSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Ban"

    id = serializers.IntegerField()
    blog = serializers.CharField(source="blog.slug", help_text="The blog's slug.")
    subject = serializers.ChoiceField(
        choices=[("account", "account"), ("network", "network")],
        help_text="An account, or the network hash of posters without one.",
    )
    account = serializers.CharField(allow_null=True, help_text="The banned account's username.")
    network = serializers.CharField(
        allow_null=True, help_text="The start of the banned network hash (never an address)."
    )
    reason = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField(allow_null=True, help_text="The moderator's username.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Null: until lifted.")
    active = serializers.BooleanField(help_text="In force now.")
    lifted_at = serializers.DateTimeField(allow_null=True)
    lifted_by = serializers.CharField(allow_null=True)
    lift_reason = serializers.CharField(allow_blank=True)

    def to_representation(self, ban: Ban) -> dict:
        return {
            "id": ban.pk,
            "blog": ban.blog.slug,
            "subject": "account" if ban.user_id else "network",
            "account": ban.user.username if ban.user_id else None,
            "network": ban.ip_hash[:NETWORK_PREFIX] if not ban.user_id else None,
            "reason": ban.reason,
            "created_by": ban.created_by.username if ban.created_by else None,
            "created_at": serializers.DateTimeField().to_representation(ban.created_at),
            "expires_at": _datetime(ban.expires_at),
            "active": ban.is_active(),
            "lifted_at": _datetime(ban.lifted_at),
            "lifted_by": ban.lifted_by.username if ban.lifted_by else None,
            "lift_reason": ban.lift_reason,
        }


def _datetime(value):
    return None if value is None else serializers.DateTimeField().to_representation(value)


class BanChangeSerializer(BanSerializer):
    class Meta:
        ref_name = "BanChange"

    changed = serializers.BooleanField(help_text="False when nothing changed (a repeat).")

    def to_representation(self, outcome) -> dict:
        ban, changed = outcome
        return {**super().to_representation(ban), "changed": changed}


class BanInput(serializers.Serializer):
    class Meta:
        ref_name = "NewBan"

    blog = serializers.SlugField(
        required=False, help_text="The blog's slug (required with account)."
    )
    account = serializers.CharField(
        required=False,
        max_length=150,
        help_text="Ban this account (its username); give account or comment, not both.",
    )
    comment = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Ban the network hash this comment was posted from, on its post's blog.",
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="The end; null: until lifted."
    )
    reason = UserTextField(
        required=False, allow_blank=True, default="", max_length=services.REASON_MAX_LENGTH
    )

    def validate(self, data: dict) -> dict:
        if ("account" in data) == ("comment" in data):
            raise serializers.ValidationError("Give either account or comment.")
        if "account" in data and "blog" not in data:
            raise serializers.ValidationError({"blog": ["Required with account."]})
        return data


class LiftInput(serializers.Serializer):
    class Meta:
        ref_name = "BanLift"

    reason = UserTextField(
        required=False, allow_blank=True, default="", max_length=services.REASON_MAX_LENGTH
    )


class BanFilter(django_filters.FilterSet):
    blog = django_filters.CharFilter(field_name="blog__slug", help_text="A blog's slug.")
    account = django_filters.CharFilter(field_name="user__username", help_text="A username.")
    active = StrictBooleanFilter(method="filter_active", help_text="In force now.")

    class Meta:
        model = Ban
        fields: list[str] = []

    def filter_active(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        active = Ban.objects.active().values("pk")
        return queryset.filter(pk__in=active) if value else queryset.exclude(pk__in=active)


def _subject(data: dict) -> tuple[Blog, User | None, str]:
    """The blog and the subject a ban request names."""
    if "account" in data:
        blog = Blog.objects.filter(slug=data["blog"]).first()
        if blog is None:
            raise InvalidInput("No such blog.", field="blog")
        user = User.objects.filter(username=data["account"]).first()
        if user is None:
            raise InvalidInput("No such account.", field="account")
        return blog, user, ""
    comment = Comment.objects.select_related("post__blog").filter(pk=data["comment"]).first()
    if comment is None:
        raise InvalidInput("No such comment.", field="comment")
    if "blog" in data and data["blog"] != comment.post.blog.slug:
        raise InvalidInput("That comment is on another blog.", field="blog")
    if not comment.ip_hash:
        raise InvalidInput("No network is recorded for this comment.", field="comment")
    return comment.post.blog, None, comment.ip_hash


class BanListView(generics.ListAPIView):
    """Bans, newest first (filters ``blog``, ``account``, ``active``); ``POST`` bans an
    account or a comment's network from a blog, until ``expires_at`` or until lifted.
    Banning again with the same end answers 200 with ``changed: false``."""

    permission_classes = [IsModerator]
    serializer_class = BanSerializer
    filterset_class = BanFilter

    def get_queryset(self) -> QuerySet[Ban]:
        return selectors.ban_list()

    @extend_schema(operation_id="list_bans", responses={200: BanSerializer(many=True), **_REFUSALS})
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="create_ban",
        request=BanInput,
        responses={
            201: BanChangeSerializer,
            200: BanChangeSerializer,
            **_REFUSALS,
            409: BAN_CONFLICT,
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(BanInput, request.data)
        blog, user, ip_hash = _subject(data)
        ban, created = services.ban_create(
            blog=blog,
            actor=request.user,
            user=user,
            ip_hash=ip_hash,
            reason=data["reason"],
            expires_at=data["expires_at"],
        )
        ban = selectors.ban_list().get(pk=ban.pk)
        return Response(
            BanChangeSerializer((ban, created)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BanLiftView(generics.GenericAPIView):
    """End a ban now. Lifting a lifted ban answers 200 with ``changed: false``."""

    permission_classes = [IsModerator]
    serializer_class = BanChangeSerializer

    @extend_schema(
        operation_id="lift_ban",
        request=LiftInput,
        responses={200: BanChangeSerializer, **_REFUSALS, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: int) -> Response:
        if pk > MAX_ID:
            raise NotFound("No such ban.")
        data = validated(LiftInput, request.data)
        _, changed = services.ban_lift(ban_id=pk, actor=request.user, reason=data["reason"])
        ban = selectors.ban_list().get(pk=pk)
        return Response(BanChangeSerializer((ban, changed)).data)
