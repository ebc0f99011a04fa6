"""MLflow's error body (`{"error_code": ..., "message": ...}`) and HTTP status for Vigil's errors."""

from __future__ import annotations

from typing import Any

from vigil.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    VigilError,
)

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"

_STATUS = {
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    "BAD_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
}

_VIGIL_CODES = {
    INVALID_PARAMETER_VALUE: "invalid_input",
    RESOURCE_ALREADY_EXISTS: "conflict",
    RESOURCE_DOES_NOT_EXIST: "not_found",
}


class MlflowApiError(VigilError):
    """An error whose MLflow code is chosen explicitly (e.g. RESOURCE_ALREADY_EXISTS, which the
    client reads to tell "create" from "already there")."""

    def __init__(self, error_code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.error_code = error_code

    @property
    def http_status(self) -> int:
        return _STATUS.get(self.error_code, 400)


def mlflow_error(exc: VigilError) -> tuple[int, dict[str, str]]:
    """(HTTP status, body) of `exc` as an MLflow server answers."""
    if isinstance(exc, MlflowApiError):
        code = exc.error_code
    elif isinstance(exc, NotFoundError):
        code = RESOURCE_DOES_NOT_EXIST
    elif isinstance(exc, AuthenticationError):
        code = "UNAUTHENTICATED"
    elif isinstance(exc, PermissionDeniedError):
        code = "PERMISSION_DENIED"
    elif isinstance(exc, PayloadTooLargeError):
        code = "RESOURCE_EXHAUSTED"
    elif isinstance(exc, ConflictError) and exc.code == "conflict" and "key" in exc.details:
        code = INVALID_PARAMETER_VALUE  # a changed param: MLflow calls it an invalid value
    elif isinstance(exc, ConflictError):
        code = "RESOURCE_CONFLICT" if exc.code != "conflict" else RESOURCE_ALREADY_EXISTS
    else:
        code = INVALID_PARAMETER_VALUE
    # `error` is Vigil's own code, beside MLflow's, so a caller of either API reads its own.
    vigil_code = _VIGIL_CODES.get(code, exc.code) if isinstance(exc, MlflowApiError) else exc.code
    return _STATUS.get(code, 400), {"error_code": code, "message": exc.message, "error": vigil_code}


MLFLOW_PREFIXES = (
    "/api/2.0/mlflow",
    "/ajax-api/2.0/mlflow",
    "/api/3.0/mlflow",
    "/ajax-api/3.0/mlflow",
    "/api/2.0/mlflow-artifacts",
)
"""Where MLflow's client sends requests: an unknown route there answers MLflow's error shape."""


def is_mlflow_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in MLFLOW_PREFIXES)


def route_error(status: int, method: str, path: str) -> tuple[int, dict[str, str]]:
    """(HTTP status, body) for a request to an MLflow path that no route serves (404) or that is
    served for other methods (405): MLflow's ENDPOINT_NOT_FOUND, naming the method and path."""
    if status == 405:
        message = f"{method} is not allowed on {path}"
    else:
        message = (
            f"No route {method} {path}: Vigil serves MLflow's tracking, model registry and "
            "artifact REST API under /api/2.0/mlflow, not this endpoint"
        )
    body = {"error_code": "ENDPOINT_NOT_FOUND", "message": message, "error": "not_found"}
    return status, body


def invalid(message: str, **details: Any) -> MlflowApiError:
    return MlflowApiError(INVALID_PARAMETER_VALUE, message, **details)


def missing(message: str, **details: Any) -> MlflowApiError:
    return MlflowApiError(RESOURCE_DOES_NOT_EXIST, message, **details)


def exists(message: str, **details: Any) -> MlflowApiError:
    return MlflowApiError(RESOURCE_ALREADY_EXISTS, message, **details)
