"""What the MLflow routers share: MLflow's error body, the request's fields, the caller's name.

MLflow's client reads errors as `{"error_code": ..., "message": ...}`; `MlflowRoute` renders
every VigilError raised by a route or its dependencies (a missing token included) so, with
Vigil's own `error` code beside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from vigil.errors import InvalidInputError, VigilError
from vigil.server.error_paths import without_paths
from vigil.server.error_schema import validation_message
from vigil.server.json_body import METRIC_ROUTES, check_json, too_deep
from vigil.server.mlflow.errors import mlflow_error

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")


class MlflowRoute(APIRoute):
    """A route whose errors take MLflow's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def mlflow_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except VigilError as exc:
                status, body = mlflow_error(exc)
                return JSONResponse(without_paths(request, body), status_code=status)
            except RequestValidationError as exc:
                message = validation_message(exc.errors())
                body = {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": message,
                    "error": "invalid_input",
                }
                return JSONResponse(body, status_code=400)

        return mlflow_handler


async def mlflow_payload(request: Request) -> dict[str, Any]:
    """The request's fields: the query string (a repeated name becomes a list) and, unless the
    method is GET, the JSON body."""
    fields: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        if name in fields:
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    if request.method != "GET":
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except RecursionError:
                raise too_deep() from None
            except ValueError:
                raise InvalidInputError("the request body is not JSON") from None
            if not isinstance(body, dict):
                raise InvalidInputError("the request body must be a JSON object")
            check_json(body, metric_values=request.url.path.endswith(METRIC_ROUTES))
            fields.update(body)
    return fields


Payload = Annotated[dict[str, Any], Depends(mlflow_payload)]


def answer(content: dict[str, Any]) -> JSONResponse:
    return JSONResponse(content)
