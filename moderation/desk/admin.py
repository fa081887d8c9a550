"""The desk's additions to the admin's own pages: the post and comment admins
(forum's, which must not know about moderation) gain a link to the desk's thread
view, and a comment's versions the diff each makes (``moderation.diffs``)."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from forum.admin import CommentAdmin, CommentRevisionInline, PostAdmin
from forum.models import Comment, CommentRevision, Post, RevisionStatus
from moderation.diffs import diff_html


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


class DeskCommentRevisionInline(CommentRevisionInline):
    """Each version with the diff from the text approved before it (the comment's
    text, for the edit awaiting review: what the desk's edit card shows), in
    ``diff_html``'s words, escaped. The original has none."""

    fields = (*CommentRevisionInline.fields[:3], "diff", *CommentRevisionInline.fields[3:])
    readonly_fields = fields
    _befores: dict[int, str | None] = {}  # set by get_formset, for this request's page

    class Media:
        css = {"all": ("moderation_desk/desk.css",)}  # the desk's diff style (its own classes)

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        self._befores = _approved_before(obj) if obj is not None else {}
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description="changes from the approved text")
    def diff(self, obj: CommentRevision) -> str:
        before = self._befores.get(obj.number)
        if before is None:
            return "—"  # the original text
        diff = diff_html(before, obj.body)
        if not diff:
            return "(the same text; its format changed)"
        return format_html(
            '<div class="desk-diff"><div class="desk-diff-text">{}</div></div>', diff
        )


def _approved_before(comment: Comment) -> dict[int, str | None]:
    """Each revision's number → the text approved before it (one query): the last
    applied version below it, or the comment's own text for the one awaiting review."""
    befores: dict[int, str | None] = {}
    approved = None
    for number, status, body in (
        CommentRevision.objects.filter(comment=comment)
        .order_by("number")
        .values_list("number", "status", "body")
    ):
        befores[number] = comment.body if status == RevisionStatus.PENDING else approved
        if status == RevisionStatus.APPLIED:
            approved = body
    return befores


class DeskCommentAdmin(CommentAdmin):
    inlines = (DeskCommentRevisionInline,)
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
