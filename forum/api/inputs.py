"""What the write endpoints accept. Shapes and types only: the rules (lengths after
trimming, control characters, depth, permissions) are the services' to enforce."""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from forum.api.filters import MAX_ID  # a database id (bigint)
from forum.models import FlagReason, TextFormat
from forum.text import TEXT_PATTERN


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    """``data`` (a request's body or query parameters) through an input serializer:
    its validated data, or DRF's 400 with the field errors."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers, booleans and the like instead of
    turning them into text: a JSON ``42`` is not a comment."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField that takes JSON integers only: ``"1"``, ``1.0`` and ``true``
    are refused, as the OpenAPI document's ``type: integer`` says."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class UserTextField(StrictCharField):
    """Text a person writes (a name, a title, a note, a reason): the service checks it
    with ``forum.text.clean_text``, which refuses control characters; the schema says
    so with a ``pattern`` (``UserTextFieldSchema``)."""


class UserTextFieldSchema(OpenApiSerializerFieldExtension):
    target_class = UserTextField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": TEXT_PATTERN}


class TextField(UserTextField):
    """A comment's or post's body. Stored as written: no trimming here (only ``""`` is
    refused here); the service checks the length after trimming
    (``settings.FORUM[limit_setting]``) and refuses white space alone with a field
    error. The schema states that limit (``TextFieldSchema``)."""

    def __init__(self, *, limit_setting: str, **kwargs) -> None:
        self.limit_setting = limit_setting
        super().__init__(trim_whitespace=False, **kwargs)


class TextFieldSchema(OpenApiSerializerFieldExtension):
    target_class = TextField
    priority = 1  # before UserTextFieldSchema, which matches subclasses

    def map_serializer_field(self, auto_schema, direction):
        limit = settings.FORUM[self.target.limit_setting]  # read when the schema is made
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": limit,
            "pattern": TEXT_PATTERN,
            "description": f"At most {limit} characters once leading and trailing "
            "white space is trimmed; not blank.",
        }


def _comment_text() -> TextField:
    return TextField(limit_setting="COMMENT_MAX_LENGTH")


def _format(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=TextFormat.choices,
        help_text="How the body is written: `plain` (default) or `markdown` (emphasis, "
        "strong, links, block quotes, lists, inline code; raw HTML shows as text).",
        **kwargs,
    )


class CommentCreateInput(serializers.Serializer):
    class Meta:
        ref_name = "NewComment"

    body = _comment_text()
    format = _format(default=TextFormat.PLAIN)
    parent = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    author_name = UserTextField(required=False, allow_null=True, allow_blank=True, max_length=80)
    # Reply notifications for posters without an account (forum/subscriptions.py).
    email = serializers.EmailField(required=False, allow_blank=True, write_only=True)


class CommentUpdateInput(serializers.Serializer):
    class Meta:
        ref_name = "CommentEdit"

    body = _comment_text()
    format = _format(required=False)


class StrictIntegerChoice(serializers.IntegerField):
    """A JSON integer, not a string or a boolean that looks like one."""

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class VoteInput(serializers.Serializer):
    class Meta:
        ref_name = "NewVote"

    value = StrictIntegerChoice(
        min_value=-1, max_value=1, help_text="1: up, -1: down, 0: take my vote back."
    )


class FlagInput(serializers.Serializer):
    class Meta:
        ref_name = "NewFlag"

    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = UserTextField(required=False, allow_blank=True, max_length=2000, default="")


class GuestPostInput(serializers.Serializer):
    class Meta:
        ref_name = "GuestPostSubmission"

    blog = serializers.SlugField(max_length=100)
    title = UserTextField(max_length=300)
    body = TextField(limit_setting="POST_MAX_LENGTH")
    author_name = UserTextField(max_length=80)
    email = serializers.EmailField(required=False, allow_blank=True)
    format = _format(default=TextFormat.PLAIN)
