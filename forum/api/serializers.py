"""Output shapes of the read API (API.md, "Reading").

A comment's representation is ``forum.selectors.comment_as_dict``: the thread builds
it from rows, and ``CommentSerializer`` calls it for model instances, so the flat and
the nested shapes are one definition. The fields declared on the comment serializers
describe that shape for the OpenAPI schema.
"""

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from forum.api.openapi import nullable_object
from forum.models import Blog, Comment, CommentStatus, FlagReason, Post, TextFormat
from forum.selectors import comment_as_dict, comment_pending_edit, comment_row, iso_datetime


class BlogSerializer(serializers.ModelSerializer):
    post_count = serializers.IntegerField(read_only=True, help_text="Published posts.")

    class Meta:
        model = Blog
        fields = ["slug", "name", "description", "post_count"]
        read_only_fields = fields


class PostSerializer(serializers.ModelSerializer):
    blog = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "blog",
            "title",
            "slug",
            "body",
            "body_html",
            "published_at",
            "author_name",
            "is_guest",
            "guest_number",
            "comment_count",
        ]
        read_only_fields = fields


class CommentSerializer(serializers.Serializer):
    """One comment (read-only). Accepts a ``Comment`` or a row of
    ``forum.selectors.COMMENT_COLUMNS``."""

    id = serializers.IntegerField(read_only=True)
    post = serializers.IntegerField(read_only=True, help_text="The post's id.")
    parent = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The parent comment's id; null at top level."
    )
    depth = serializers.IntegerField(read_only=True, help_text="0 for a top-level comment.")
    author_name = serializers.CharField(
        read_only=True, allow_null=True, help_text="The name shown; null when anonymous."
    )
    display_name = serializers.CharField(
        read_only=True, help_text='The author name, or "Anonymous".'
    )
    is_anonymous = serializers.BooleanField(read_only=True)
    body = serializers.CharField(
        read_only=True, allow_null=True, help_text="Null when the comment was removed."
    )
    body_html = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The body as safe HTML: paragraphs, line breaks, nofollow links.",
    )
    status = serializers.ChoiceField(choices=CommentStatus.choices, read_only=True)
    removed = serializers.BooleanField(
        read_only=True, help_text="A tombstone: removed, shown for its visible replies."
    )
    created_at = serializers.DateTimeField(read_only=True)
    edited_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reply_count = serializers.IntegerField(
        read_only=True, help_text="Direct replies the public can see."
    )
    author_is_moderator = serializers.BooleanField(
        read_only=True,
        help_text="Written from a moderator's account (badge it): names of moderators, "
        "staff and 'Anonymous', and look-alikes of them, are reserved.",
    )
    format = serializers.ChoiceField(
        choices=TextFormat.choices,
        read_only=True,
        help_text="How the body is written: plain text, or markdown (rendered in body_html).",
    )
    score = serializers.IntegerField(read_only=True, help_text="Up-votes minus down-votes.")
    votes_up = serializers.IntegerField(read_only=True)
    votes_down = serializers.IntegerField(read_only=True)
    pinned = serializers.BooleanField(
        read_only=True, help_text="Pinned by a moderator: shown first on page 1 of the thread."
    )

    def to_representation(self, instance: Comment | dict[str, Any]) -> dict[str, Any]:
        row = instance if isinstance(instance, dict) else comment_row(instance)
        return comment_as_dict(row)


class ThreadCommentSerializer(CommentSerializer):
    """A comment in a thread: the flat shape plus its ``replies``, nested alike.

    Only describes the schema: the thread view renders the selector's dicts as they are.
    """


# Recursive: each reply is a ThreadComment again (one recursive schema component).
ThreadCommentSerializer._declared_fields["replies"] = ThreadCommentSerializer(
    many=True, read_only=True, help_text="Visible replies, oldest first."
)


def pending_edit_data(revision) -> dict[str, Any] | None:
    """An edit of a published comment awaiting a moderator's review (or None)."""
    if revision is None:
        return None
    return {
        "revision": revision.number,
        "body": revision.body,
        "format": revision.body_format,
        "reasons": list(revision.reasons),
        "created_at": iso_datetime(revision.created_at, timezone.get_current_timezone()),
    }


class OwnCommentSerializer(CommentSerializer):
    """A comment as its author (or a moderator) sees it: with why it is held, and
    the edit awaiting review (the public sees the approved text meanwhile)."""

    # Output-only serializer; not read_only so that the schema marks these optional
    # (drf-spectacular makes every read-only field required).
    moderation_reasons = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only for the comment's author and moderators: why it is held, "
        'e.g. "anonymous", "links", "flagged".',
    )

    # Optional like moderation_reasons (see there).
    pending_edit = nullable_object(
        {
            "revision": {"type": "integer", "description": "The version's number."},
            "body": {"type": "string"},
            "format": {
                "type": "string",
                "enum": list(TextFormat.values),
                "description": "The format the edit is written in.",
            },
            "reasons": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Why it is held.",
            },
            "created_at": {"type": "string", "format": "date-time"},
        },
        required=False,
        help_text="Only for the comment's author and moderators: the new text of an edit "
        "awaiting review; the public sees the last approved text until it is approved. "
        "Null when no edit waits.",
    )

    def to_representation(self, instance: Comment) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["moderation_reasons"] = list(instance.moderation_reasons)
        edit = comment_pending_edit(instance)
        data["pending_edit"] = pending_edit_data(edit)
        return data


class CreatedCommentSerializer(OwnCommentSerializer):
    """The 201 answer to a new comment; ``edit_token`` is shown this once."""

    edit_token = serializers.CharField(
        required=False,
        help_text="Only for posters without an account: send it back in X-Edit-Token "
        "to edit or delete the comment. Shown once; not recoverable.",
    )

    def to_representation(self, instance: Comment) -> dict[str, Any]:
        data = super().to_representation(instance)
        token = getattr(instance, "issued_edit_token", None)
        if token:
            data["edit_token"] = token
        return data


class VoteResultSerializer(serializers.Serializer):
    """The answer to a vote: the comment's counters and the caller's vote now."""

    comment = serializers.IntegerField(read_only=True, help_text="The comment's id.")
    score = serializers.IntegerField(read_only=True)
    votes_up = serializers.IntegerField(read_only=True)
    votes_down = serializers.IntegerField(read_only=True)
    my_vote = serializers.IntegerField(read_only=True, help_text="1, -1, or 0 (no vote).")


class MyVotesSerializer(serializers.Serializer):
    votes = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="The caller's votes on this post's comments: comment id → 1 or -1.",
    )


class CommentContextSerializer(serializers.Serializer):
    """Where a comment is in its thread, for opening the thread at it."""

    comment = serializers.IntegerField(read_only=True)
    post = serializers.IntegerField(read_only=True)
    top_level = serializers.IntegerField(
        read_only=True, help_text="The id of its top-level ancestor (itself at top level)."
    )
    sort = serializers.ChoiceField(choices=["oldest", "newest", "top"], read_only=True)
    page_size = serializers.IntegerField(read_only=True)
    page = serializers.IntegerField(read_only=True, help_text="The page number holding it.")
    cursor = serializers.CharField(
        read_only=True, help_text="A cursor whose page starts with its top-level ancestor."
    )
    pinned = serializers.BooleanField(
        read_only=True, help_text="Its top-level ancestor is pinned (page 1)."
    )
    url = serializers.CharField(read_only=True, help_text="The thread page by number.")
    cursor_url = serializers.CharField(read_only=True, help_text="The thread page by cursor.")


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    comment = serializers.IntegerField(source="comment_id", read_only=True)
    reason = serializers.ChoiceField(choices=FlagReason.choices, read_only=True)
    note = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class GuestPostSerializer(serializers.ModelSerializer):
    """A guest submission as its submitter follows it."""

    blog = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    edit_token = serializers.SerializerMethodField(
        help_text="Shown once, at submission: send it in X-Edit-Token to follow the post."
    )
    format = serializers.ChoiceField(
        source="body_format", choices=TextFormat.choices, read_only=True
    )

    class Meta:
        model = Post
        fields = [
            "id",
            "blog",
            "title",
            "body",
            "body_html",
            "format",
            "author_name",
            "status",
            "guest_number",
            "published_at",
            "created_at",
            "edit_token",
        ]
        read_only_fields = fields

    def get_edit_token(self, post: Post) -> str | None:
        return getattr(post, "issued_edit_token", None)
