"""The desk admin's shared plumbing: the read-only page base class and the
per-item action loop with its summary messages (used by ``moderation.admin``)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest

from forum.display import excerpt
from forum.errors import Conflict, NotFound
from forum.models import Comment, Post
from moderation.desk import adminlog
from moderation.permissions import can_moderate

EXCERPT_LENGTH = 80


@dataclass
class _Tally:
    changed: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    gone: int = 0  # selected, but no longer on the page's list when the action ran


def _apply_to_each(
    request: HttpRequest, ids: list[int], verb: Callable, *, id_arg: str, **options
) -> _Tally:
    """Run the service ``verb`` on each selected item, each in its own transaction,
    so one refusal does not undo the others."""
    tally = _Tally()
    for pk in ids:
        try:
            with transaction.atomic():
                outcome = verb(**{id_arg: pk}, actor=request.user, **options)
                adminlog.log_decision(outcome.action, request.user)
        except (Conflict, NotFound) as exc:
            tally.refused.append(f"{_name(id_arg, pk)}: {exc.message}")
        else:
            if outcome.changed:
                tally.changed += 1
            else:
                tally.unchanged += 1
    return tally


def _name(id_arg: str, pk: int) -> str:
    """An item named in words for a message (never its id)."""
    if id_arg == "comment_id":
        comment = Comment.objects.select_related("post").filter(pk=pk).first()
        return adminlog.comment_label(comment) if comment else "A comment no longer here"
    post = Post.objects.filter(pk=pk).first()
    return f"The post “{excerpt(post.title, 60)}”" if post else "A post no longer here"


def _report(modeladmin: admin.ModelAdmin, request: HttpRequest, tally: _Tally, done: str) -> None:
    noun = modeladmin.model._meta.verbose_name
    plural = modeladmin.model._meta.verbose_name_plural
    name = noun if tally.changed == 1 else plural
    modeladmin.message_user(request, f"{tally.changed} {name} {done}.", messages.SUCCESS)
    if tally.unchanged:
        modeladmin.message_user(
            request, f"{tally.unchanged} skipped: already {done}.", messages.INFO
        )
    if tally.gone > 0:
        modeladmin.message_user(
            request, f"{tally.gone} skipped: no longer awaiting a decision.", messages.INFO
        )
    if tally.refused:
        modeladmin.message_user(
            request,
            f"{len(tally.refused)} refused: " + "; ".join(tally.refused),
            messages.WARNING,
        )


class _DeskAdmin(admin.ModelAdmin):
    """A page of the desk: nothing is added, edited or deleted through forms."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return can_moderate(request.user)
