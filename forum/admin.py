"""Django admin for blogs, posts and comments.

Comments are view-only here. Their place in the tree (post, parent, depth, path) is
fixed for good, and their state (status, removal) feeds the denormalized counters
and the moderation log, which only the services keep right: an edit made here would
silently break both. Decisions on comments and guest posts are taken at the
moderators' desk (``moderation.admin``: held comments, pending guest posts) or over
the moderation API, both through ``moderation.services``. Post edits and deletions
made here go through ``forum.services`` (``post_update``, ``posts_delete``; a blog
with posts cannot be deleted).

Every changelist selects its related rows up front, so a page costs the same number
of queries whatever its length.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from forum import services
from forum.display import ANONYMOUS_NAME
from forum.display import excerpt as _excerpt
from forum.errors import InvalidInput
from forum.models import Blog, Comment, CommentRevision, Post, PostStatus

EXCERPT_LENGTH = 60


def excerpt(text: str) -> str:
    return _excerpt(text, EXCERPT_LENGTH)


def thread_api_url(post_id: int) -> str:
    return reverse("post-thread", kwargs={"pk": post_id})


def api_link(url: str) -> str:
    return format_html('<a href="{}">{}</a>', url, url)


@admin.register(Blog)
class BlogAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "owner", "published_posts", "created_at")
    list_select_related = ("owner",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("owner",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Blog]:
        return (
            super()
            .get_queryset(request)
            .annotate(published_posts=Count("posts", filter=Q(posts__status=PostStatus.PUBLISHED)))
        )

    @admin.display(description="published posts", ordering="published_posts")
    def published_posts(self, obj: Blog) -> int:
        return obj.published_posts


class PostAdminForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = "__all__"  # noqa: DJ007 (the admin's fieldsets choose)

    def clean_body(self) -> str:
        # The same rules as the service's, as a form error instead of a crash.
        try:
            return services.clean_text(
                self.cleaned_data["body"],
                field="body",
                max_length=settings.FORUM["POST_MAX_LENGTH"],
            )
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self) -> dict:
        data = super().clean()
        # Published without a date means "now", as ``post_update`` has it; without
        # this the form's constraint check would answer with the constraint's name.
        if data.get("status") == PostStatus.PUBLISHED and not data.get("published_at"):
            data["published_at"] = timezone.now()
        return data


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostAdminForm
    list_display = (
        "title",
        "blog",
        "status",
        "is_guest",
        "guest_number",
        "published_at",
        "comment_count",
    )
    list_filter = ("status", "is_guest", "blog")
    list_select_related = ("blog",)
    search_fields = ("title", "body", "author_name")
    date_hierarchy = "published_at"
    raw_id_fields = ("author",)
    readonly_fields = (
        "api_thread",
        "comment_count",
        "top_seq",
        "import_key",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {"fields": ("blog", "title", "slug", "body", "status", "published_at", "api_thread")},
        ),
        ("Author", {"fields": ("author", "author_name")}),
        ("Guest post", {"fields": ("is_guest", "guest_number", "submitter_email")}),
        (
            "Bookkeeping",
            {
                "classes": ("collapse",),
                "fields": ("comment_count", "top_seq", "import_key", "created_at", "updated_at"),
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: Post, form, change: bool) -> None:
        services.post_update(post=obj, changed=form.changed_data if change else ["body"])

    def delete_model(self, request: HttpRequest, obj: Post) -> None:
        services.posts_delete(posts=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        services.posts_delete(posts=queryset)

    def view_on_site(self, obj: Post) -> str:
        """The admin's "View on site": the post's thread in the API."""
        return thread_api_url(obj.pk)

    @admin.display(description="thread in the API")
    def api_thread(self, obj: Post) -> str:
        if obj.pk is None:
            return "-"
        suffix = "" if obj.status == PostStatus.PUBLISHED else " (404 until published)"
        return format_html("{}{}", api_link(thread_api_url(obj.pk)), suffix)


class RemovedFilter(admin.SimpleListFilter):
    title = "removal"
    parameter_name = "removed"

    def lookups(self, request, model_admin):
        return (
            ("no", "Not removed"),
            ("yes", "Removed (any)"),
            ("author", "Removed by its author"),
            ("moderator", "Removed by a moderator"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == "no":
            return queryset.filter(removed_at__isnull=True)
        if value == "yes":
            return queryset.filter(removed_at__isnull=False)
        if value in ("author", "moderator"):
            return queryset.filter(removed_at__isnull=False, removal_kind=value)
        return queryset


class CommentRevisionInline(admin.TabularInline):
    """Every version of the comment's text (``CommentRevision``): read-only, for
    whoever may view the comment."""

    model = CommentRevision
    fk_name = "comment"
    extra = 0
    can_delete = False
    fields = ("number", "status", "body", "reasons", "edited_by", "created_at", "decided_by")
    readonly_fields = fields
    ordering = ("number",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The same queries whatever the number of versions.
        return super().get_queryset(request).select_related("edited_by", "decided_by")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("forum.view_comment")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    inlines = (CommentRevisionInline,)
    list_display = (
        "id",
        "post_title",
        "body_excerpt",
        "parent_excerpt",
        "author_display",
        "status",
        "removed",
        "created_at",
    )
    list_display_links = ("id", "body_excerpt")
    list_filter = ("status", RemovedFilter, "post__blog")
    list_select_related = ("post", "parent")
    search_fields = ("body", "author_name")
    ordering = ("-created_at", "-id")
    fieldsets = (
        (None, {"fields": ("post", "parent", "depth", "path", "body", "api_links")}),
        ("Author", {"fields": ("author", "author_name")}),
        (
            "State",
            {
                "fields": (
                    "status",
                    "removed_at",
                    "removal_kind",
                    "removed_by",
                    "removal_reason",
                    "created_at",
                    "edited_at",
                )
            },
        ),
        ("Bookkeeping", {"fields": ("reply_count", "child_seq", "import_key")}),
    )
    # Also what a superuser sees: there is nothing to edit here (see the module doc).
    readonly_fields = (
        "api_links",
        "post",
        "parent",
        "depth",
        "path",
        "reply_count",
        "child_seq",
        "body",
        "author",
        "author_name",
        "status",
        "removed_at",
        "removal_kind",
        "removed_by",
        "removal_reason",
        "created_at",
        "edited_at",
        "import_key",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False

    @admin.display(description="post", ordering="post__title")
    def post_title(self, obj: Comment) -> str:
        return excerpt(obj.post.title)

    @admin.display(description="body")
    def body_excerpt(self, obj: Comment) -> str:
        return excerpt(obj.body)

    @admin.display(description="in reply to")
    def parent_excerpt(self, obj: Comment) -> str:
        if obj.parent is None:
            return ""
        return excerpt(obj.parent.body)

    @admin.display(description="author", ordering="author_name")
    def author_display(self, obj: Comment) -> str:
        return obj.author_name or ANONYMOUS_NAME

    @admin.display(description="removed", boolean=True, ordering="removed_at")
    def removed(self, obj: Comment) -> bool:
        return obj.removed_at is not None

    def view_on_site(self, obj: Comment) -> str:
        """The admin's "View on site": the thread the comment belongs to, in the API."""
        return thread_api_url(obj.post_id)

    @admin.display(description="in the API")
    def api_links(self, obj: Comment) -> str:
        comment_url = reverse("comment-detail", kwargs={"pk": obj.pk})
        return format_html(
            "thread: {}<br>comment: {}",
            api_link(thread_api_url(obj.post_id)),
            api_link(comment_url),
        )
