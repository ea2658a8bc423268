"""API errors every ClusterClient raises, whatever the backend (HTTP status semantics)."""

from __future__ import annotations


class ApiError(Exception):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.reason)


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
