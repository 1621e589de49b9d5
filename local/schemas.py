"""Regenerate the files derived from the code: `python -m local.schemas` (or `make schemas`).

- src/stop_deployment/request.schemas.json: the JSON Schemas of the pydantic request models, with
  which the function validates requests without importing pydantic.
- docs/openapi.json: the JSON API, built from the function's route table and the same models.
Tests fail when either is stale. pydantic is used here, at build time, never in the function.
"""

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from stop_deployment import __version__
from stop_deployment.models import FreezeRequest, StopOptions, StopRequest
from stop_deployment.results import DeploymentStatus, FreezeEntry, FreezeList, StopResult
from stop_deployment.target import NAME_GLOB
from stop_deployment.triggers.http import ROUTES
from stop_deployment.triggers.http.error_responses import API_ERRORS
from stop_deployment.validation import (
    ACCOUNT_ID_PATTERN,
    DEPLOYMENT_ID_PATTERN,
    EXAMPLE_DEPLOYMENT_ID,
    REGION_CODE_PATTERN,
    SCHEMAS_PATH,
)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
REQUEST_MODELS: tuple[type[BaseModel], ...] = (StopRequest, StopOptions, FreezeRequest)
# (method, path) -> (request body model, whether a body is required, the 200 response's type).
# The Slack route is left out: Slack signs it, not IAM, and its replies are Slack messages.
DOCUMENTED_ROUTES: dict[tuple[str, str], tuple[type[BaseModel] | None, bool, Any]] = {
    ("POST", "/stop"): (StopRequest, True, StopResult),
    ("POST", "/deployments/{deploymentId}/stop"): (StopOptions, False, StopResult),
    ("GET", "/deployments/{deploymentId}"): (None, False, DeploymentStatus),
    ("GET", "/freezes"): (None, False, FreezeList),
    ("PUT", "/freezes/{application}/{group}"): (FreezeRequest, True, FreezeEntry),
    ("DELETE", "/freezes/{application}/{group}"): (None, False, FreezeEntry),
}
_REF = "#/components/schemas/{model}"
_NAME_GLOB = {"type": "string", "pattern": f"^{NAME_GLOB.pattern}$"}
_PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "deploymentId": {
        "in": "path",
        "name": "deploymentId",
        "required": True,
        "schema": {"type": "string", "pattern": DEPLOYMENT_ID_PATTERN, "examples": [EXAMPLE_DEPLOYMENT_ID]},
    },
    "application": {
        "in": "path",
        "name": "application",
        "required": True,
        "description": "A CodeDeploy application name, or a glob with * (e.g. *)",
        "schema": {**_NAME_GLOB, "examples": ["checkout"]},
    },
    "group": {
        "in": "path",
        "name": "group",
        "required": True,
        "description": "A deployment group name, or a glob with * (e.g. prod*)",
        "schema": {**_NAME_GLOB, "examples": ["prod"]},
    },
}
# Where to act (the models' own descriptions of accountId and region).
_WHERE = [
    {
        "in": "query",
        "name": name,
        "required": False,
        "description": StopOptions.model_fields[name].description,
        "schema": {"type": "string", "pattern": pattern},
    }
    for name, pattern in (("accountId", ACCOUNT_ID_PATTERN), ("region", REGION_CODE_PATTERN))
]
# (method, path) -> its query parameters: where to act, beside or instead of the body's.
_QUERY_PARAMETERS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("POST", "/deployments/{deploymentId}/stop"): _WHERE,
    ("PUT", "/freezes/{application}/{group}"): _WHERE,
    ("DELETE", "/freezes/{application}/{group}"): _WHERE,
}
_ERROR_BODY = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "The error code, e.g. DeploymentGroupNotAllowed"},
        "message": {"type": "string", "description": "What went wrong, in plain words"},
        "requestId": {"type": ["string", "null"], "description": "Quote it to find the log lines"},
    },
}


def request_schemas() -> dict[str, Any]:
    return {model.__name__: model.model_json_schema() for model in REQUEST_MODELS}


def openapi() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for route in ROUTES:
        documented = DOCUMENTED_ROUTES.get((route.method, route.path))
        if documented is None:
            continue
        body, body_required, result = documented
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.handle.__name__,
            "responses": {
                "200": {"description": "OK", "content": _json(_reference(result, components))},
                **_error_responses(),
            },
        }
        parameters = [_PATH_PARAMETERS[name] for name in re.findall(r"\{(\w+)\}", route.path)]
        parameters += _QUERY_PARAMETERS.get((route.method, route.path), [])
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            operation["requestBody"] = {
                "required": body_required,
                "content": _json(_reference(body, components)),
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "stop-deployment",
            "version": __version__,
            "description": "Stop AWS CodeDeploy deployments. Every route is signed with AWS SigV4 "
            "(IAM authorization on the HTTP API).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            },
        },
        "security": [{"sigv4": []}],
    }


def _reference(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    """A $ref to the type's schema, which goes into components with the schemas it uses."""
    schema = TypeAdapter(annotation).json_schema(ref_template=_REF)
    components.update(schema.pop("$defs", {}))
    components[schema["title"]] = schema
    return {"$ref": _REF.format(model=schema["title"])}


def _error_responses() -> dict[str, Any]:
    return {
        str(status): {
            "description": ", ".join(
                sorted(cls.__name__ for cls, code in API_ERRORS.items() if code == status)
            ),
            "content": _json(_ERROR_BODY),
        }
        for status in sorted(set(API_ERRORS.values()))
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    _write(SCHEMAS_PATH, request_schemas())
    _write(OPENAPI_PATH, openapi())
