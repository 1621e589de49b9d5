"""Pydantic request models: the source of truth for the request rules (see validation.py).

Used at build time only: `make schemas` generates request.schemas.json and docs/openapi.json from
them, and the tests check that the validators agree with them. The function never imports pydantic.
"""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from .settings import MAX_FREEZE_MINUTES
from .validation import (
    ACCOUNT_ID_PATTERN,
    DEPLOYMENT_ID_PATTERN,
    EXAMPLE_DEPLOYMENT_ID,
    EXAMPLE_UNTIL,
    FREEZE_UNTIL_PATTERN,
    REGION_CODE_PATTERN,
    normalize_deployment_id,
)

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


AccountId = Annotated[
    str | None,
    Field(
        pattern=ACCOUNT_ID_PATTERN,
        description="The account the deployment is in (12 digits). Omitted: the function's own. Any "
        "other must be in ALLOWED_ACCOUNTS (403 AccountNotAllowed).",
        examples=["111122223333"],
    ),
]
Region = Annotated[
    str | None,
    Field(
        pattern=REGION_CODE_PATTERN,
        description="The region the deployment is in. Omitted: the function's own. Any other must be in "
        "ALLOWED_REGIONS (403 AccountNotAllowed).",
        examples=["eu-west-1"],
    ),
]


class StopRequest(BaseModel):
    """StopDeployment's own request shape, with where the deployment is when not in the function's own
    account and region."""

    model_config = ConfigDict(extra="forbid")

    deploymentId: DeploymentId
    autoRollbackEnabled: AutoRollbackEnabled = None
    accountId: AccountId = None
    region: Region = None


class StopOptions(BaseModel):
    """Optional body of POST /deployments/{deploymentId}/stop; an id here must match the path's. The
    account and region may also come in the query string."""

    model_config = ConfigDict(extra="forbid")

    deploymentId: DeploymentId | None = None
    autoRollbackEnabled: AutoRollbackEnabled = None
    accountId: AccountId = None
    region: Region = None


class FreezeRequest(BaseModel):
    """Body of PUT /freezes/{application}/{group}: how long the freeze lasts (minutes or until, exactly
    one, at most 7 days) and why."""

    # Python's re, as the function's validator uses: the Rust engine's \S differs on \x1c-\x1f.
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    minutes: Annotated[
        StrictInt | None,
        Field(
            ge=1, le=MAX_FREEZE_MINUTES, description="Freeze for this many minutes from now.", examples=[120]
        ),
    ] = None
    until: Annotated[
        str | None,
        Field(
            pattern=FREEZE_UNTIL_PATTERN,
            description="Freeze until this time (ISO 8601 with a time zone), in the future and at most "
            "7 days ahead.",
            examples=[EXAMPLE_UNTIL],
        ),
    ] = None
    reason: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            pattern=r"\S",
            description="Why the group is frozen; shown to everyone the freeze stops.",
            examples=["Black Friday"],
        ),
    ]
