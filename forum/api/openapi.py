"""The project's drf-spectacular AutoSchema: every operation documents the error
answers DRF and the services can give, in DRF's shapes, unless a view says more."""

from drf_spectacular.openapi import AutoSchema

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


class ForumAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        generic = dict(_GENERIC)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            generic.update(_WRITES)
        for code, (description, schema) in generic.items():
            responses.setdefault(
                code,
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
        return responses
