"""Everything the project adds to its OpenAPI document (drf-spectacular).

``ForumAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) documents, for every operation, the
error answers DRF and the services can give, in DRF's shapes, unless a view says
more. The documented error answers views name in ``extend_schema`` (``NOT_FOUND``,
``CONFLICT`` ... or ``error_response(description)``) and the ``X-Edit-Token``
header are defined here once, for the forum's views and the moderation API alike.

``postprocess_limits`` (a ``POSTPROCESSING_HOOKS`` entry) writes into every
operation what the server enforces: id ranges, and ``security: []`` where no
authentication is needed.
"""

import copy
import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_serializer
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from forum.api.filters import MAX_ID  # ids are 1..MAX_ID

NO_NUL_PATTERN = "^[^\\u0000]*$"

# --- documented error answers --------------------------------------------------------

ErrorDetail = inline_serializer(name="ErrorDetail", fields={"detail": serializers.CharField()})


def error_response(description: str) -> OpenApiResponse:
    """An error answer ``{"detail": ...}`` with its own description."""
    return OpenApiResponse(ErrorDetail, description=description)


# 400 answers ({field: [messages]}) are documented for every operation by
# ForumAutoSchema.
UNAUTHENTICATED = error_response("Authentication required.")
FORBIDDEN = error_response("Not allowed (not yours, edit window passed, banned, closed).")
NOT_FOUND = error_response("No such object (or not visible to you).")
CONFLICT = error_response("Conflicts with the current state.")
THROTTLED = error_response("Too many requests: retry after the Retry-After header's seconds.")

EDIT_TOKEN_HEADER = OpenApiParameter(
    "X-Edit-Token",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The edit token received when the comment was posted without an account.",
)

# --- fields ----------------------------------------------------------------------------


def nullable_object(
    properties: dict[str, dict], *, help_text: str = "", required: bool = True
) -> serializers.Field:
    """An output field holding an object (a dict, given as it is) or null, with its
    schema inline: ``{"type": "object", "nullable": true, ...}`` (a nullable nested
    serializer would become ``allOf`` + ``nullable``, which validators read as never
    null)."""
    schema = {
        "type": "object",
        "nullable": True,
        "properties": properties,
        "required": list(properties),
    }

    @extend_schema_field(schema)
    class NullableObjectField(serializers.Field):
        def to_representation(self, value):
            return value

    kwargs = {"read_only": True} if required else {"required": False}
    return NullableObjectField(help_text=help_text, **kwargs)


# --- the AutoSchema ------------------------------------------------------------------

VALIDATION_ERROR_COMPONENT = {
    "type": "object",
    "description": "Field errors: {field: [messages]}, or {detail: message}.",
    "additionalProperties": {},
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before trying again.",
    }
}

_GENERIC = {
    "400": "Invalid input.",
    "401": "Authentication credentials were not provided or are invalid.",
    "403": "Not allowed.",
    "404": "Not found.",
    "503": "The database is unavailable: retry after Retry-After seconds.",
}
_WRITES = {"429": "Throttled: retry after Retry-After seconds."}
# Operations that read a request body: a body that is not JSON is refused.
_BODIES = {
    "411": "A body without Content-Length (chunked) is not accepted.",
    "413": "The body is longer than the server accepts (MAX_REQUEST_BODY_BYTES).",
    "415": "Unsupported media type: the body must be JSON (Content-Type: application/json).",
}


class ForumAutoSchema(AutoSchema):
    def _declares_delete_body(self) -> bool:
        """A DELETE whose view declares a body (``extend_schema(request=...)``, e.g.
        erasing one's account with the password): left to itself, drf-spectacular
        documents bodies of PUT, PATCH and POST only. (Undeclared, the request
        serializer is an instance of the view's own serializer class.)"""
        return self.method == "DELETE" and isinstance(self.get_request_serializer(), type)

    def _get_request_body(self, direction="request"):
        if not self._declares_delete_body():
            return super()._get_request_body(direction)
        self.method = "POST"  # the one method-dependent step: "only unsafe methods"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"

    def _get_request_for_media_type(self, serializer, direction="request"):
        """A PATCH body keeps its serializer's required fields: the views validate it
        with the whole serializer (``inputs.validated`` is never partial), so
        ``{"body": ...}`` is required to edit a comment and ``{}`` is not valid.
        The component keeps drf-spectacular's ``Patched...`` name."""
        schema, body_required = super()._get_request_for_media_type(serializer, direction)
        if self.method == "PATCH" and is_serializer(serializer):
            instance = force_instance(serializer)
            required = [
                name
                for name, field in instance.fields.items()
                if field.required and not field.read_only
            ]
            if required:
                partial = copy.copy(instance)
                partial.partial = True
                self.resolve_serializer(partial, direction).schema["required"] = required
                body_required = True
        return schema, body_required

    def _error_ref(self, code: str) -> dict:
        if code == "400":
            component = ResolvedComponent(
                name="ValidationError",
                type=ResolvedComponent.SCHEMA,
                object="ValidationError",
                schema=VALIDATION_ERROR_COMPONENT,
            )
            self.registry.register_on_missing(component)
            return component.ref
        return self.resolve_serializer(ErrorDetail, "response").ref

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        generic = dict(_GENERIC)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            generic.update(_WRITES)
        reads_body = self.method in ("PUT", "PATCH", "POST") or self._declares_delete_body()
        if reads_body and self.get_request_serializer() is not None:
            generic.update(_BODIES)
        for code, description in generic.items():
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": self._error_ref(code)}},
                },
            )
        for code in ("429", "503"):
            if code in responses:
                responses[code].setdefault("headers", {}).update(RETRY_AFTER_HEADER)
        return responses


_BLANK_BRANCH = {"type": "string", "maxLength": 0}


def _single_branch_for_blank(schema: dict) -> dict:
    branches = schema.get("oneOf")
    if not branches or len(branches) != 2 or branches[1] != _BLANK_BRANCH:
        return schema
    text = branches[0]
    pattern = text.get("pattern")
    if pattern is None or text.get("minLength") or text.get("format"):
        return schema
    if not re.fullmatch(pattern, ""):
        return schema
    return {**{k: v for k, v in schema.items() if k != "oneOf"}, **text}


def postprocess_limits(result, generator, request, public):
    """Say on every operation, present or future, what the server enforces:

    - an integer path parameter is a row id, 1..MAX_ID (what ``<int:pk>`` and the
      lookups accept without overflowing);
    - a free-text query parameter (a string with no format, enum or pattern) holds
      no NUL character: Django's form fields refuse it (400);
    - an array query parameter (``ordering``), when given, names at least one item
      (``?ordering=`` is refused: forum.api.filters.StableOrderingFilter);
    - a string that may be blank keeps one schema when its pattern admits "" already
      (drf-spectacular's ``oneOf: [..., {maxLength: 0}]`` would make "" match both
      branches, so "" would be invalid);
    - an operation that needs no authentication (``extend_schema(auth=[])``, such as
      the token endpoint) has ``security: []``, not an absent list a generator may
      fill in from elsewhere."""
    for component in result.get("components", {}).get("schemas", {}).values():
        for name, schema in component.get("properties", {}).items():
            component["properties"][name] = _single_branch_for_blank(schema)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            operation.setdefault("security", [])
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
                    schema.setdefault("maximum", MAX_ID)
                if (
                    parameter.get("in") == "query"
                    and schema.get("type") == "string"
                    and not {"format", "enum", "pattern"} & schema.keys()
                ):
                    schema["pattern"] = NO_NUL_PATTERN
                if parameter.get("in") == "query" and schema.get("type") == "array":
                    schema.setdefault("minItems", 1)
    return result
