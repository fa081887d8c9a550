from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``: 50 by default, 200 at most (API.md).

    Strict, as the OpenAPI document says: a ``page_size`` that is not an integer from
    1 to 200 is a 400 (it used to fall back or be capped silently, so fuzzers found
    the server accepting what its schema refuses); ``page`` is an integer from 1 (or
    ``last``; out of range: 404)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"An integer from 1 to {self.max_page_size} is required."
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "A page number (from 1); `last` works too."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
                parameter["description"] = (
                    f"Results per page: {self.page_size} by default, {self.max_page_size} "
                    "at most (anything else is a 400)."
                )
        return parameters
