"""The desk's links in the admin's own pages: the post and comment admins (forum's,
which must not know about moderation) gain a link to the desk's thread view."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from forum.admin import CommentAdmin, PostAdmin
from forum.models import Comment, Post


def _thread_link(post_id: int, anchor: str = "") -> str:
    url = reverse("moderation_desk:thread", args=[post_id]) + anchor
    return format_html('<a href="{}">thread view</a>', url)


class DeskPostAdmin(PostAdmin):
    readonly_fields = (*PostAdmin.readonly_fields, "thread")
    fieldsets = (
        (None, {"fields": ("thread",)}),
        *PostAdmin.fieldsets,
    )

    @admin.display(description="moderation")
    def thread(self, obj: Post) -> str:
        return _thread_link(obj.pk) if obj.pk else ""


class DeskCommentAdmin(CommentAdmin):
    list_display = (*CommentAdmin.list_display, "thread")
    readonly_fields = (*CommentAdmin.readonly_fields, "thread")
    fieldsets = (
        (None, {"fields": ("thread",)}),
        *CommentAdmin.fieldsets,
    )

    @admin.display(description="thread")
    def thread(self, obj: Comment) -> str:
        return _thread_link(obj.post_id, f"#c{obj.pk}")


for model, model_admin in ((Post, DeskPostAdmin), (Comment, DeskCommentAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
