"""Accounts over the API: register, obtain a token, read and change oneself."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from accounts import services
from accounts.models import User
from forum.api.throttles import LoginThrottle
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
        ]
        read_only_fields = fields

    def get_is_moderator(self, user: User) -> bool:
        return is_moderator(user)


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    display_name = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default=""
    )


class MeUpdateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    notify_replies = serializers.BooleanField(
        required=False, help_text="Mail me at my account's address when someone replies to me."
    )
    moderator_mail = serializers.ChoiceField(
        choices=services.MODERATOR_MAIL_CHOICES,
        required=False,
        help_text="Moderators: a mail per item entering the queue (immediate), one an hour "
        "(hourly), or none.",
    )


class EraseInputSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    comments = serializers.ChoiceField(
        choices=services.ErasureChoice.CHOICES,
        default=services.ErasureChoice.ANONYMIZE,
        help_text="anonymize: comments stay, without a name; remove: they become "
        "tombstones (hidden unless they have visible replies).",
    )


class RegisterView(generics.GenericAPIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = [LoginThrottle]
    serializer_class = RegisterInputSerializer

    @extend_schema(request=RegisterInputSerializer, responses={201: MeSerializer})
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

    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeUpdateInputSerializer, responses={200: MeSerializer})
    def patch(self, request):
        data = MeUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return Response(MeSerializer(user).data)

    @extend_schema(request=EraseInputSerializer, responses={204: None})
    def delete(self, request):
        """Erase the caller's account (the password confirms it)."""
        data = EraseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_erase(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportView(generics.GenericAPIView):
    """Everything the forum holds about the caller, as JSON."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(services.user_export(user=request.user))


class TokenView(ObtainAuthToken):
    """``{"username", "password"}`` → ``{"token"}``; send ``Authorization: Token <key>``."""

    throttle_classes = [LoginThrottle]
