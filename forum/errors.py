"""Errors the services raise when a request cannot be carried out.

Each knows the HTTP status it stands for so that the API answers it the same way
wherever it is raised; management commands turn them into ``CommandError``.
"""

from typing import Any


class ServiceError(Exception):
    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        self.headers = headers


class InvalidInput(ServiceError):
    status_code = 400


class NotPermitted(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409
