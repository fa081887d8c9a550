"""The moderators' desk in the Django admin.

* Held comments: what awaits a decision, oldest first, with bulk approve / reject /
  spam / remove.
* Pending guest posts: publish / reject.
* The moderation log (read-only for everybody, superusers included).
* Bans (list, add, lift) and each blog's moderation policy.

Every decision goes through ``moderation.services``, exactly as over the API, so it
is checked, locked, idempotent and written to the log. Actions need
``can_moderate``; the pages need the usual view permissions, which
``moderation.services.moderator_grant`` gives the Moderators group. User text is
shown as plain text (the admin escapes what ``list_display`` returns); links are
built with ``format_html``.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.forms.models import construct_instance
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from forum.display import ANONYMOUS_NAME, excerpt
from forum.errors import Conflict, NotFound, ServiceError
from forum.models import CommentStatus, Flag
from moderation import casework, selectors, services
from moderation.admin_base import (  # noqa: F401 (re-exported)
    EXCERPT_LENGTH,
    _apply_to_each,
    _DeskAdmin,
    _name,
    _report,
    _Tally,
)
from moderation.desk import adminlog, words
from moderation.models import (
    ActionKind,
    Ban,
    BlogPolicy,
    HeldComment,
    ModerationAction,
    PendingGuestPost,
)
from moderation.permissions import can_moderate

# --- held comments -------------------------------------------------------------------


class FlaggedFilter(admin.SimpleListFilter):
    title = "why held"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return (("flagged", "Flagged by readers"), ("policy", "Held by the blog's policy"))

    def queryset(self, request, queryset):
        open_flags = Flag.objects.filter(comment=OuterRef("pk"), resolved_at__isnull=True)
        if self.value() == "flagged":
            return queryset.filter(Exists(open_flags))
        if self.value() == "policy":
            return queryset.filter(~Exists(open_flags))
        return queryset


def _comment_action(verb: Callable, *, description: str, done: str):
    @admin.action(description=description, permissions=["moderate"])
    def action(modeladmin, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        # The page lists pending comments: a decision someone else took meanwhile
        # is reported, never overturned.
        tally = _apply_to_each(
            request, ids, verb, id_arg="comment_id", expected_state=CommentStatus.PENDING
        )
        if request.POST.get("select_across") != "1":
            tally.gone = len(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)) - len(ids)
        _report(modeladmin, request, tally, done)

    action.__name__ = verb.__name__
    return action


@admin.register(HeldComment)
class HeldCommentAdmin(_DeskAdmin):
    list_display = (
        "id",
        "created_at",
        "post_title",
        "body_excerpt",
        "parent_excerpt",
        "author_display",
        "reasons",
        "flag_count",
        "ban_link",
    )
    list_display_links = ("id", "body_excerpt")
    list_filter = (FlaggedFilter, "post__blog")
    list_select_related = ("post", "parent")
    search_fields = ("body", "author_name")
    ordering = ("created_at", "id")
    actions = [
        _comment_action(services.comment_approve, description="Approve", done="approved"),
        _comment_action(services.comment_reject, description="Reject", done="rejected"),
        _comment_action(services.comment_spam, description="Mark as spam", done="marked spam"),
        _comment_action(services.comment_remove, description="Remove", done="removed"),
    ]
    fields = (
        "post",
        "parent",
        "body",
        "author",
        "author_name",
        "status",
        "reasons",
        "thread",
        "created_at",
        "edited_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.held_comments_for_desk()

    @admin.display(description="post", ordering="post__title")
    def post_title(self, obj: HeldComment) -> str:
        return excerpt(obj.post.title, EXCERPT_LENGTH)

    @admin.display(description="comment")
    def body_excerpt(self, obj: HeldComment) -> str:
        return excerpt(obj.body, EXCERPT_LENGTH)

    @admin.display(description="in reply to")
    def parent_excerpt(self, obj: HeldComment) -> str:
        return "" if obj.parent is None else excerpt(obj.parent.body, EXCERPT_LENGTH)

    @admin.display(description="author", ordering="author_name")
    def author_display(self, obj: HeldComment) -> str:
        return obj.author_name or ANONYMOUS_NAME

    @admin.display(description="reasons")
    def reasons(self, obj: HeldComment) -> str:
        links = obj.body_html.count("<a ")
        return ", ".join(words.reasons(obj.moderation_reasons, link_count=links))

    @admin.display(description="thread")
    def thread(self, obj: HeldComment) -> str:
        url = reverse("moderation_desk:thread", args=[obj.post_id]) + f"#c{obj.pk}"
        return format_html('<a href="{}">thread view</a>', url)

    @admin.display(description="flags", ordering="open_flag_count")
    def flag_count(self, obj: HeldComment) -> int:
        return obj.open_flag_count

    @admin.display(description="ban")
    def ban_link(self, obj: HeldComment) -> str:
        subject = {"user": obj.author_id} if obj.author_id else {"ip_hash": obj.ip_hash}
        if not any(subject.values()):
            return ""
        query = urlencode({"blog": obj.post.blog_id, **subject})
        return format_html(
            '<a href="{}?{}">ban poster…</a>', reverse("admin:moderation_ban_add"), query
        )


# --- pending guest posts ---------------------------------------------------------------


def _post_action(verb: Callable, *, description: str, done: str):
    @admin.action(description=description, permissions=["moderate"])
    def action(modeladmin, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        _report(modeladmin, request, _apply_to_each(request, ids, verb, id_arg="post_id"), done)

    action.__name__ = verb.__name__
    return action


@admin.register(PendingGuestPost)
class PendingGuestPostAdmin(_DeskAdmin):
    list_display = ("id", "created_at", "title", "blog", "author_name", "body_excerpt")
    list_display_links = ("id", "title")
    list_filter = ("blog",)
    list_select_related = ("blog",)
    search_fields = ("title", "body", "author_name")
    ordering = ("created_at", "id")
    actions = [
        _post_action(services.post_publish, description="Publish", done="published"),
        _post_action(services.post_reject, description="Reject", done="rejected"),
    ]
    fields = ("blog", "title", "body", "author_name", "submitter_email", "status", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.pending_guest_posts().select_related("blog")

    @admin.display(description="body")
    def body_excerpt(self, obj: PendingGuestPost) -> str:
        return excerpt(obj.body, EXCERPT_LENGTH)


# --- the log -------------------------------------------------------------------------------


@admin.register(ModerationAction)
class ModerationActionAdmin(_DeskAdmin):
    list_display = (
        "created_at",
        "actor",
        "action",
        "target",
        "transition",
        "reason_excerpt",
        "undone",
    )
    list_filter = ("action", "target_kind")
    list_select_related = (
        "actor",
        "post",
        "comment__post",
        "ban__user",
        "ban__blog",
        "blog",
        "undone_by",
    )
    search_fields = ("reason", "actor__username")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "action",
        "target_kind",
        "comment",
        "post",
        "ban",
        "blog",
        "from_state",
        "to_state",
        "reason",
        "details",
        "undoes",
    )
    readonly_fields = fields
    actions = ["undo"]

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        return {name: action for name, action in actions.items() if name == "undo"}

    @admin.action(description="Undo the selected decisions", permissions=["moderate"])
    def undo(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Each through ``casework.action_undo`` (the inverse verb), each on its own."""
        tally = _Tally()
        for entry in queryset.select_related("comment__post", "post", "ban__user", "ban__blog"):
            try:
                with transaction.atomic():
                    outcome = casework.action_undo(action_id=entry.pk, actor=request.user)
                    adminlog.log_decision(outcome.action, request.user)
            except (Conflict, NotFound) as exc:
                tally.refused.append(f"{words.decision(entry)}: {exc.message}")
            else:
                tally.changed += outcome.changed
                tally.unchanged += not outcome.changed
        _report(self, request, tally, "undone")

    @admin.display(description="target")
    def target(self, obj: ModerationAction) -> str:
        return words.target(obj)

    @admin.display(description="from → to")
    def transition(self, obj: ModerationAction) -> str:
        return words.transition(obj)

    @admin.display(description="undone", boolean=True)
    def undone(self, obj: ModerationAction) -> bool:
        return hasattr(obj, "undone_by")

    @admin.display(description="reason")
    def reason_excerpt(self, obj: ModerationAction) -> str:
        return excerpt(obj.reason, EXCERPT_LENGTH)


# --- bans ------------------------------------------------------------------------------------


class ActiveBanFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", "In force"), ("no", "Lifted or expired"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.active()
        if self.value() == "no":
            return queryset.exclude(pk__in=Ban.objects.active().values("pk"))
        return queryset


class BanAddForm(forms.ModelForm):
    class Meta:
        model = Ban
        fields = ("blog", "user", "ip_hash", "reason", "expires_at")

    def clean(self):
        data = super().clean()
        blog, user, ip_hash = data.get("blog"), data.get("user"), data.get("ip_hash", "")
        try:
            services.ban_validate(
                user=user,
                ip_hash=ip_hash,
                expires_at=data.get("expires_at"),
                reason=data.get("reason", ""),
            )
        except ServiceError as exc:
            message = {exc.field: exc.message} if exc.field else exc.message
            raise forms.ValidationError(message) from exc
        if blog is not None:
            ban = selectors.active_ban_for(blog_id=blog.pk, user=user, ip_hash=ip_hash)
            if ban is not None:
                raise forms.ValidationError(f"Already banned from this blog: {ban}.")
        return data

    def _post_clean(self):
        # Only fill the instance in: ``ban_create`` makes the row, and its rules (one
        # open ban per subject, closing an expired one first) are the service's.
        self.instance = construct_instance(self, self.instance, self._meta.fields)


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    form = BanAddForm
    list_display = (
        "id",
        "blog",
        "subject_display",
        "reason_excerpt",
        "created_by",
        "created_at",
        "expires_at",
        "in_force",
        "lifted_at",
    )
    list_filter = (ActiveBanFilter, "blog")
    list_select_related = ("blog", "user", "created_by")
    raw_id_fields = ("user",)
    search_fields = ("user__username", "ip_hash", "reason")
    actions = ["lift"]
    readonly_fields = ("created_by", "created_at", "lifted_at", "lifted_by", "lift_reason")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # bans are lifted (action), never edited

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record stays

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return can_moderate(request.user)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return BanAddForm.Meta.fields
        return (*BanAddForm.Meta.fields, *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ()
        return (*BanAddForm.Meta.fields, *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Ban, form, change: bool) -> None:
        data = form.cleaned_data
        ban, _ = services.ban_create(
            blog=data["blog"],
            actor=request.user,
            user=data.get("user"),
            ip_hash=data.get("ip_hash", ""),
            reason=data.get("reason", ""),
            expires_at=data.get("expires_at"),
        )
        # The admin goes on with ``obj`` (its log entry, the redirect): make it the row.
        for model_field in Ban._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(ban, model_field.attname))
        obj._state.adding = False

    @admin.action(description="Lift the selected bans", permissions=["moderate"])
    def lift(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        tally = _Tally()
        for pk in ids:
            try:
                with transaction.atomic():
                    ban, changed = services.ban_lift(ban_id=pk, actor=request.user)
                    if changed:
                        lift = ModerationAction.objects.filter(ban=ban, action=ActionKind.LIFT)
                        adminlog.log_decision(lift.latest("id"), request.user)
            except NotFound as exc:
                tally.refused.append(f"A ban no longer here: {exc.message}")
            else:
                tally.changed += changed
                tally.unchanged += not changed
        _report(self, request, tally, "lifted")

    @admin.display(description="subject")
    def subject_display(self, obj: Ban) -> str:
        if obj.user_id is not None:
            return f"account {obj.user.username}"
        return f"IP hash {obj.ip_hash[:12]}…"

    @admin.display(description="reason")
    def reason_excerpt(self, obj: Ban) -> str:
        return excerpt(obj.reason, EXCERPT_LENGTH)

    @admin.display(description="in force", boolean=True)
    def in_force(self, obj: Ban) -> bool:
        return obj.is_active()


# --- blog policies ---------------------------------------------------------------------------


@admin.register(BlogPolicy)
class BlogPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "blog",
        "mode",
        "trust_after",
        "max_links",
        "close_after_days",
        "flag_threshold",
        "updated_at",
    )
    list_select_related = ("blog",)
    fields = (
        "blog",
        "mode",
        "trust_after",
        "max_links",
        "blocked_words",
        "watched_words",
        "close_after_days",
        "flag_threshold",
        "flag_account_min_age_days",
        "flag_trusted_weight",
        "allow_downvotes",
    )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a blog always has a policy (the defaults come back anyway)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("blog",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: BlogPolicy, form, change: bool) -> None:
        services.blog_policy_save(policy=obj, actor=request.user)
