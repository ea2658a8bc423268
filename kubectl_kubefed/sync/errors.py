"""API errors every ClusterClient raises, whatever the backend (HTTP status semantics)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An API answer that is not a success. ``code`` (HTTP status), ``reason`` (the Status
    reason) and ``details`` (the Status details: name, group, kind, causes, retryAfterSeconds)
    are the server's when it sent them, else the class defaults."""

    code = 500
    reason = "InternalError"

    def __init__(
        self,
        message: str = "",
        *,
        code: int | None = None,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        if reason:
            self.reason = reason
        self.details: Mapping[str, Any] = dict(details or {})
        super().__init__(message or self.reason)


class Unauthorized(ApiError):
    """401: the credentials are missing, wrong or expired."""

    code, reason = 401, "Unauthorized"


class NotFound(ApiError):
    code, reason = 404, "NotFound"


class AlreadyExists(ApiError):
    code, reason = 409, "AlreadyExists"


class Conflict(ApiError):
    code, reason = 409, "Conflict"


class Forbidden(ApiError):
    code, reason = 403, "Forbidden"


class Invalid(ApiError):
    code, reason = 422, "Invalid"


class Gone(ApiError):
    """A watch's resourceVersion is too old: re-list."""

    code, reason = 410, "Expired"


class Unavailable(ApiError):
    """The cluster could not be reached (connection refused, timeout, offline)."""

    code, reason = 503, "ServiceUnavailable"


class MethodNotAllowed(ApiError):
    code, reason = 405, "MethodNotAllowed"


class TooManyRequests(Unavailable):
    """429: the server asks to come back later (e.g. storage still initializing)."""

    code, reason = 429, "TooManyRequests"
