"""Pydantic request models: the source of truth for the request rules (see validation.py).

Used at build time only: `make schemas` generates request.schemas.json and docs/openapi.json from
them, and the tests check that the validators agree with them. The function never imports pydantic.
"""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from .validation import DEPLOYMENT_ID_PATTERN, EXAMPLE_DEPLOYMENT_ID, normalize_deployment_id

DeploymentId = Annotated[
    str,
    Field(
        pattern=DEPLOYMENT_ID_PATTERN,
        description="d- followed by 9 letters or digits; surrounding spaces are trimmed and the "
        "letters upper-cased.",
        examples=[EXAMPLE_DEPLOYMENT_ID],
    ),
    AfterValidator(normalize_deployment_id),
]

AutoRollbackEnabled = Annotated[
    StrictBool | None,
    Field(
        description="Roll back to the last good revision. Omitted or null: the function's "
        "DEFAULT_AUTO_ROLLBACK. Only a JSON boolean is accepted.",
    ),
]


class StopRequest(BaseModel):
    """StopDeployment's own request shape."""

    model_config = ConfigDict(extra="forbid")

    deploymentId: DeploymentId
    autoRollbackEnabled: AutoRollbackEnabled = None


class StopOptions(BaseModel):
    """Optional body of POST /deployments/{deploymentId}/stop; an id here must match the path's."""

    model_config = ConfigDict(extra="forbid")

    deploymentId: DeploymentId | None = None
    autoRollbackEnabled: AutoRollbackEnabled = None
