"""A whole blog to JSON and back: posts, comments (states, tombstones, authors,
timestamps, tree, vote counters, pins), flags, readers' votes, the moderation
policy, bans, moderators' notes (on comments and on posters) and the audit log
(decisions, bans, policy changes).

The rows are written with Django's serialization framework, ids included, so that
a restored blog answers the public API exactly as before (ids are part of it).
Accounts are referred to by username; an account missing on restore is created
without a usable password (its owner resets it). Password hashes, sessions and
tokens are never exported.

``blog_import`` restores into a database that holds none of these rows yet; it
refuses otherwise, and writes everything or nothing.
"""

import datetime
from typing import Any

from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet

from accounts.models import User
from forum.errors import InvalidInput
from forum.models import Blog, Comment, Flag, Post, Vote
from forum.restore import rows_restore
from moderation.models import Ban, BlogPolicy, ModerationAction, ModeratorNote

FORMAT = "forum-blog-export"
VERSION = 1
USER_FIELDS = ("username", "display_name", "is_active", "date_joined")
FORUM_ROWS = ("blogs", "posts", "comments", "flags", "votes")


def _querysets(blog: Blog) -> list[tuple[str, QuerySet]]:
    """What a blog is made of, in an order that restores (parents first)."""
    return [
        ("blogs", Blog.objects.filter(pk=blog.pk)),
        ("policies", BlogPolicy.objects.filter(blog=blog)),
        ("posts", Post.objects.filter(blog=blog).order_by("pk")),
        # Path order: every parent comes before its replies (the tree triggers insist).
        ("comments", Comment.objects.filter(post__blog=blog).order_by("post_id", "path")),
        ("flags", Flag.objects.filter(comment__post__blog=blog).order_by("pk")),
        ("votes", Vote.objects.filter(comment__post__blog=blog).order_by("pk")),
        ("bans", Ban.objects.filter(blog=blog).order_by("pk")),
        ("moderator_notes", ModeratorNote.objects.filter(blog=blog).order_by("pk")),
        (
            # By id: an undo comes after the decision it undid.
            "moderation_actions",
            ModerationAction.objects.filter(
                Q(post__blog=blog) | Q(comment__post__blog=blog) | Q(blog=blog)
            ).order_by("pk"),
        ),
    ]


def _referenced_usernames(querysets: list[tuple[str, QuerySet]]) -> set[str]:
    """The accounts the rows point at (authors, moderators, banned users ...)."""
    names: set[str] = set()
    for _, queryset in querysets:
        model = queryset.model
        for field in model._meta.fields:
            if field.is_relation and field.related_model is User:
                rows = model.objects.filter(pk__in=[obj.pk for obj in queryset])
                names.update(
                    rows.exclude(**{field.name: None}).values_list(
                        f"{field.name}__username", flat=True
                    )
                )
    return names


def blog_export(*, blog: Blog) -> dict[str, Any]:
    querysets = _querysets(blog)
    sections = {
        name: serializers.serialize("python", queryset, use_natural_foreign_keys=True)
        for name, queryset in querysets
    }
    usernames = _referenced_usernames(querysets)
    users = [
        {field: _plain(getattr(user, field)) for field in USER_FIELDS}
        for user in User.objects.filter(username__in=usernames).order_by("username")
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "blog": blog.slug,
        "users": users,
        **{name: [_jsonable(row) for row in rows] for name, rows in sections.items()},
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def _jsonable(row: dict) -> dict:
    return {
        "model": row["model"],
        "pk": row["pk"],
        "fields": {name: _plain(value) for name, value in row["fields"].items()},
    }


def _check_header(data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(f"Not a blog export (expected format {FORMAT!r}).")
    if data.get("version") != VERSION:
        raise InvalidInput(f"Unsupported export version {data.get('version')!r}.")


def _ensure_users(rows: list[dict]) -> int:
    created = 0
    for row in rows:
        if not User.objects.filter(username=row["username"]).exists():
            user = User(**row)
            user.set_unusable_password()
            user.save()
            created += 1
    return created


def _refuse_existing(objects: list[Model]) -> None:
    for obj in objects:
        if type(obj).objects.filter(pk=obj.pk).exists():
            raise InvalidInput(
                f"{type(obj)._meta.label} {obj.pk} exists already: "
                "restore into a database without this blog."
            )


@transaction.atomic
def blog_import(*, data: dict[str, Any]) -> dict[str, int]:
    """Restore an export made by ``blog_export``. Returns the rows restored by kind."""
    _check_header(data)
    if Blog.objects.filter(slug=data.get("blog")).exists():
        raise InvalidInput(f"A blog {data.get('blog')!r} exists already.")
    counts = {"users": _ensure_users(data.get("users", []))}
    models_seen: set[type[Model]] = set()
    for name in (
        "blogs",
        "policies",
        "posts",
        "comments",
        "flags",
        "votes",
        "bans",
        "moderator_notes",
        "moderation_actions",
    ):
        try:
            objects = list(serializers.deserialize("python", data.get(name, [])))
        except serializers.base.DeserializationError as exc:
            raise InvalidInput(f"{name}: {exc}") from exc
        _refuse_existing([item.object for item in objects])
        if name in FORUM_ROWS:
            rows_restore(objects=objects)  # forum writes its own tables
        else:
            for item in objects:
                item.save()
        models_seen.update(type(item.object) for item in objects)
        counts[name] = len(objects)
    _reset_sequences(models_seen)
    return counts


def _reset_sequences(models: set[type[Model]]) -> None:
    """Rows came in with their ids: move PostgreSQL's id sequences past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
