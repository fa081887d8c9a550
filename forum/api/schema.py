"""OpenAPI pieces shared by the views: the documented error answers."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorDetail = inline_serializer(name="ErrorDetail", fields={"detail": serializers.CharField()})
# 400 answers ({field: [messages]}) are documented for every operation by
# forum.api.openapi.ForumAutoSchema.
UNAUTHENTICATED = OpenApiResponse(ErrorDetail, description="Authentication required.")
FORBIDDEN = OpenApiResponse(
    ErrorDetail, description="Not allowed (not yours, edit window passed, banned, closed)."
)
NOT_FOUND = OpenApiResponse(ErrorDetail, description="No such object (or not visible to you).")
CONFLICT = OpenApiResponse(ErrorDetail, description="Conflicts with the current state.")
THROTTLED = OpenApiResponse(
    ErrorDetail, description="Too many requests: retry after the Retry-After header's seconds."
)

EDIT_TOKEN_HEADER = OpenApiParameter(
    "X-Edit-Token",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The edit token received when the comment was posted without an account.",
)
