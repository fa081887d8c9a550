"""The imports' audit trail in the admin: one row per imported file, read-only
(``forum.models.ImportRecord`` is written by ``forum.bulk`` and never edited)."""

from django.contrib import admin
from django.http import HttpRequest

from forum.models import ImportRecord


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "blog",
        "source_format",
        "source_name",
        "posts_created",
        "comments_created",
    )
    list_filter = ("source_format",)
    list_select_related = ("blog",)
    readonly_fields = [field.name for field in ImportRecord._meta.fields]
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
