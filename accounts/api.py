"""Accounts over the API: register, obtain a token, read and change oneself."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts import lockout, services
from accounts import selectors as account_selectors
from accounts.models import User
from forum import selectors as forum_selectors
from forum.api.inputs import StrictCharField, UserTextField, validated
from forum.api.openapi import NOT_FOUND
from forum.api.pagination import PageNumberPagination
from forum.api.serializers import CommentSerializer
from forum.api.throttles import LoginThrottle
from forum.models import CommentStatus, FlagReason, PostStatus
from forum.permissions import is_moderator


class MeSerializer(serializers.ModelSerializer):
    is_moderator = serializers.SerializerMethodField()
    # Plain text in the schema: empty when no address was given ("" is no valid email).
    email = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "date_joined",
            "is_moderator",
            "notify_replies",
            "moderator_mail",
            "profile_hidden",
        ]
        read_only_fields = fields

    def get_is_moderator(self, user: User) -> bool:
        return is_moderator(user)


class RegisterInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Registration"

    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    display_name = UserTextField(max_length=80, required=False, allow_blank=True, default="")


class MeUpdateInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MeUpdate"

    display_name = UserTextField(max_length=80, allow_blank=True, required=False)
    notify_replies = serializers.BooleanField(
        required=False, help_text="Mail me at my account's address when someone replies to me."
    )
    moderator_mail = serializers.ChoiceField(
        choices=services.MODERATOR_MAIL_CHOICES,
        required=False,
        help_text="Moderators: a mail per item entering the queue (immediate), one an hour "
        "(hourly), or none.",
    )
    profile_hidden = serializers.BooleanField(
        required=False,
        help_text="Hide my public profile (GET /api/users/{username}/ and my comment list).",
    )


class EraseInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Erasure"

    password = StrictCharField(max_length=128, trim_whitespace=False)
    comments = serializers.ChoiceField(
        choices=services.ErasureChoice.CHOICES,
        default=services.ErasureChoice.ANONYMIZE,
        help_text="anonymize: comments stay, without a name; remove: they become "
        "tombstones (hidden unless they have visible replies).",
    )


# --- the export's shape (accounts.services.user_export) ------------------------------


class _ExportAccountSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    profile_hidden = serializers.BooleanField()
    email = serializers.CharField(help_text="Empty when no address was given.")
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ExportAccount"


class _ExportPostRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()

    class Meta:
        ref_name = "ExportPostRef"


class _ExportCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post = _ExportPostRefSerializer()
    parent = serializers.IntegerField(allow_null=True)
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=CommentStatus.choices)
    removed = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ExportComment"


class _ExportPostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=PostStatus.choices)
    body = serializers.CharField()

    class Meta:
        ref_name = "ExportPost"


class _ExportFlagSerializer(serializers.Serializer):
    comment = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField()

    class Meta:
        ref_name = "ExportFlag"


class _ExportVoteSerializer(serializers.Serializer):
    comment = serializers.IntegerField()
    value = serializers.IntegerField(help_text="1 or -1.")
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ExportVote"


class AccountExportSerializer(serializers.Serializer):
    """Describes ``accounts.services.user_export`` for the schema (the view sends the
    service's dict as it is)."""

    account = _ExportAccountSerializer()
    comments = _ExportCommentSerializer(many=True, help_text="Oldest first.")
    posts = _ExportPostSerializer(many=True, help_text="Guest posts submitted from the account.")
    flags = _ExportFlagSerializer(many=True)
    votes = _ExportVoteSerializer(many=True, help_text="Votes cast from the account.")

    class Meta:
        ref_name = "AccountExport"


class RegisterView(generics.GenericAPIView):
    """Create an account. Needs no authentication (a stale token is ignored here)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [LoginThrottle]
    serializer_class = RegisterInputSerializer

    @extend_schema(
        operation_id="register_account",
        request=RegisterInputSerializer,
        responses={201: MeSerializer},
        auth=[],
    )
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            email=data.validated_data.get("email", ""),
            display_name=data.validated_data["display_name"],
        )
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class MeView(generics.GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = MeSerializer

    def get_throttles(self):
        # Erasing takes the password: its attempts count like sign-ins.
        return [LoginThrottle()] if self.request.method == "DELETE" else []

    @extend_schema(operation_id="get_me")
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        operation_id="update_me", request=MeUpdateInputSerializer, responses={200: MeSerializer}
    )
    def patch(self, request):
        data = MeUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return Response(MeSerializer(user).data)

    @extend_schema(operation_id="erase_me", request=EraseInputSerializer, responses={204: None})
    def delete(self, request):
        """Erase the caller's account (the password confirms it; wrong passwords
        count towards the sign-in lockout, and a locked account answers 429)."""
        data = EraseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_erase(
            user=request.user, network=lockout.network_of(request), **data.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportView(generics.GenericAPIView):
    """Everything the forum holds about the caller, as JSON."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="export_me", responses={200: AccountExportSerializer})
    def get(self, request):
        return Response(services.user_export(user=request.user))


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Bearer <token>` (or `Token <token>`)."
    )

    class Meta:
        ref_name = "Token"


class TokenRequestSerializer(AuthTokenSerializer):
    """DRF's, with text fields that take JSON strings only (as the schema says)."""

    class Meta:
        ref_name = "AuthToken"  # the component's name before (clients use it)

    username = StrictCharField(label="Username", write_only=True)
    password = StrictCharField(
        label="Password", style={"input_type": "password"}, trim_whitespace=False, write_only=True
    )


class TokenView(ObtainAuthToken):
    """``{"username", "password"}`` → ``{"token"}``; send ``Authorization: Bearer <token>``
    (or ``Token <token>``). The same account always gets the same token. Needs no
    authentication (a stale ``Authorization`` header is ignored here)."""

    throttle_classes = [LoginThrottle]
    authentication_classes: list = []
    serializer_class = TokenRequestSerializer
    # DRF's view names its own parsers: take the project's (forum.api.parsers).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(operation_id="obtain_token", responses={200: TokenSerializer}, auth=[])
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except serializers.ValidationError:
            wait = lockout.wait_of(request)
            if wait is not None:  # refused by the lockout (accounts.backends)
                raise Throttled(wait, detail=lockout.message(wait)) from None
            raise


# --- public profiles ---------------------------------------------------------------


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True, source="public_name")
    joined = serializers.DateTimeField(read_only=True, source="date_joined")
    comment_count = serializers.IntegerField(
        read_only=True,
        source="public_comment_count",
        help_text="Public comments on published posts.",
    )
    guest_post_count = serializers.IntegerField(
        read_only=True, help_text="Published guest posts submitted from this account."
    )
    is_moderator = serializers.BooleanField(read_only=True, source="moderates")


class ProfileView(generics.GenericAPIView):
    """An account's public profile. 404 for no such account and for one whose owner
    hides it (``PATCH /api/accounts/me/ {"profile_hidden": true}``); anonymous and
    named posters without an account have none. One query."""

    permission_classes = [permissions.AllowAny]
    serializer_class = ProfileSerializer

    @extend_schema(responses={200: ProfileSerializer, 404: NOT_FOUND})
    def get(self, request, username: str):
        return Response(ProfileSerializer(account_selectors.profile_get(username=username)).data)


class ProfileCommentsView(generics.ListAPIView):
    """An account's public comments on published posts, newest first, paginated
    (three queries whatever the page). 404 as for the profile."""

    permission_classes = [permissions.AllowAny]
    serializer_class = CommentSerializer
    pagination_class = PageNumberPagination
    filter_backends: list = []

    @extend_schema(responses={200: CommentSerializer(many=True), 404: NOT_FOUND})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        user = account_selectors.profile_user(username=self.kwargs["username"])
        return forum_selectors.author_public_comments(author_id=user.pk)


class RepliesInput(serializers.Serializer):
    since = serializers.DateTimeField(
        required=False, help_text="Only replies written after this time (ISO 8601)."
    )


class MyRepliesView(generics.ListAPIView):
    """Public replies to the caller's comments, newest first, paginated; ``since``
    keeps those written after a time ("new since my last visit"). Replies to
    oneself are left out."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = CommentSerializer
    pagination_class = PageNumberPagination
    filter_backends: list = []

    @extend_schema(parameters=[RepliesInput], responses={200: CommentSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        data = validated(RepliesInput, self.request.query_params)
        return forum_selectors.replies_to(user_id=self.request.user.pk, since=data.get("since"))
