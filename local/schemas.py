"""Regenerate the files derived from the code: `python -m local.schemas` (or `make schemas`).

- src/stop_deployment/stop_request.schema.json: the JSON Schema of models.StopRequest, which
  validates direct invocations without pydantic.
- docs/openapi.json: the HTTP API as Powertools describes its routes.
Tests fail when either is stale.
"""

import json
from pathlib import Path
from typing import Any

from stop_deployment import __version__
from stop_deployment.models import StopRequest
from stop_deployment.triggers import http
from stop_deployment.validation import SCHEMA_PATH

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def stop_request_schema() -> dict[str, Any]:
    return StopRequest.model_json_schema()


def openapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        http.openapi_resolver().get_openapi_json_schema(
            title="stop-deployment",
            version=__version__,
            description="Stop AWS CodeDeploy deployments. Every route is signed with AWS SigV4 "
            "(IAM authorization on the HTTP API).",
            security_schemes={
                "sigv4": {  # type: ignore[dict-item]
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            },
            security=[{"sigv4": []}],
        )
    )
    return document


def _write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    _write(SCHEMA_PATH, stop_request_schema())
    _write(OPENAPI_PATH, openapi())
