"""SP-API errors as Amazon sends them: ``{"errors": [{"code", "message", "details"}]}``."""

from __future__ import annotations


class ApiError(Exception):
    """Answer the current request with ``status`` and one SP-API error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, list[dict[str, str]]]:
        error = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"errors": [error]}


def invalid_input(message: str, details: str | None = None) -> ApiError:
    return ApiError(400, "InvalidInput", message, details)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NotFound", message)


def unauthorized(details: str) -> ApiError:
    return ApiError(403, "Unauthorized", "Access to requested resource is denied.", details)


INTERNAL_FAILURE = ApiError(
    500, "InternalFailure", "We encountered an internal error. Please try again."
)
