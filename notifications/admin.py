"""The outbox and webhook endpoints in the admin.

Superusers see every delivery (given-up ones under the "Given up" status filter)
with each attempt. Blog owners with admin access manage their own blogs' webhook
endpoints and see those endpoints' deliveries and attempts.
"""

from django import forms
from django.contrib import admin

from forum.models import Blog
from notifications import webhooks
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventReceipt,
    WebhookEndpoint,
    WebhookEvent,
)


def _owns_blogs(user) -> bool:
    return user.is_active and user.is_staff and Blog.objects.filter(owner=user).exists()


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["started_at", "duration_ms", "ok", "response_code", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "channel",
        "target",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["recipient", "endpoint__url", "message_id"]
    inlines = [DeliveryAttemptInline]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_now"]

    @admin.display(description="to")
    def target(self, delivery: Delivery) -> str:
        return delivery.recipient or (delivery.endpoint.url if delivery.endpoint else "")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("endpoint")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(endpoint__blog__owner=request.user)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or _owns_blogs(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    @admin.action(description="Retry the selected deliveries now")
    def retry_now(self, request, queryset) -> None:
        from django.utils import timezone

        count = queryset.exclude(status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), created_at=timezone.now()
        )
        self.message_user(request, f"{count} deliveries will be tried again.")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("retry_now", None)
        return actions


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["blog", "url", "events", "secret", "is_active", "description"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk and not self.initial.get("secret"):
            self.initial["secret"] = webhooks.new_secret()
        self.fields["secret"].help_text = (
            "whsec_ followed by base64 of at least 16 random bytes; receivers verify "
            "signatures with it (Standard Webhooks)."
        )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhooks.check_url(url)
        except webhooks.RefusedTarget as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"].strip()
        if not webhooks.valid_secret(secret):
            raise forms.ValidationError("Use whsec_ followed by base64 of 16 or more bytes.")
        return secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "blog", "is_active", "created_at"]
    list_filter = ["is_active"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("blog")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(blog__owner=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "blog" and not request.user.is_superuser:
            kwargs["queryset"] = Blog.objects.filter(owner=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _allowed(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        if not _owns_blogs(request.user):
            return False
        return obj is None or obj.blog.owner_id == request.user.pk

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)


@admin.register(EventReceipt)
class EventReceiptAdmin(admin.ModelAdmin):
    """Events the worker handled recently; one whose handling failed shows the error
    (the worker logs it too and goes on with the next)."""

    list_display = ["event_id", "handled_at", "error"]
    list_filter = [("error", admin.EmptyFieldListFilter)]
    readonly_fields = ["event_id", "handled_at", "error"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
