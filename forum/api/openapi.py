"""Everything the project adds to its OpenAPI document (drf-spectacular).

``ForumAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) documents, for every operation, the
error answers DRF and the services can give, in DRF's shapes, unless a view says
more. The documented error answers views name in ``extend_schema`` (``NOT_FOUND``,
``CONFLICT`` ... or ``error_response(description)``) and the ``X-Edit-Token``
header are defined here once, for the forum's views and the moderation API alike.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

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

# --- the AutoSchema ------------------------------------------------------------------

ERROR_COMPONENT = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_COMPONENT = {
    "type": "object",
    "description": "Field errors: {field: [messages]}, or {detail: message}.",
    "additionalProperties": {},
}

_GENERIC = {
    "400": ("Invalid input.", VALIDATION_ERROR_COMPONENT),
    "401": ("Authentication credentials were not provided or are invalid.", ERROR_COMPONENT),
    "403": ("Not allowed.", ERROR_COMPONENT),
    "404": ("Not found.", ERROR_COMPONENT),
}
_WRITES = {"429": ("Throttled: retry after Retry-After seconds.", ERROR_COMPONENT)}
# Operations that read a request body: DRF refuses a body it has no parser for.
_BODIES = {"415": ("Unsupported media type (Content-Type) of the body.", ERROR_COMPONENT)}


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

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        generic = dict(_GENERIC)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            generic.update(_WRITES)
        reads_body = self.method in ("PUT", "PATCH", "POST") or self._declares_delete_body()
        if reads_body and self.get_request_serializer() is not None:
            generic.update(_BODIES)
        for code, (description, schema) in generic.items():
            responses.setdefault(
                code,
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
        return responses
