"""What the function returns: plain JSON shapes (camelCase, like the AWS API) typed as TypedDicts.

TypedDicts cost nothing at import time, which matters on the direct path, and pydantic can still
describe them in the OpenAPI document.
"""

from typing import Literal, NotRequired

# typing_extensions (a Powertools dependency) so pydantic can describe these on Python < 3.12.
from typing_extensions import TypedDict

# What a stop of one deployment did.
StopOutcome = Literal["stop_requested", "already_completed", "dry_run"]
# What became of a deployment the function touched: a stop's outcome, or why it was not stopped.
Outcome = Literal[StopOutcome, "refused", "failed", "skipped_rollback"]


class StopResult(TypedDict):
    deploymentId: str
    # As CodeDeploy returned them (Pending, Succeeded, or a value it adds later); null on a dry run.
    status: str | None
    statusMessage: str
    # The flag actually sent; null when it was omitted so that CodeDeploy decides.
    autoRollbackEnabled: bool | None
    outcome: StopOutcome
    applicationName: NotRequired[str]
    deploymentGroupName: NotRequired[str]
    # Where the deployment is, when not in the function's own account and region.
    accountId: NotRequired[str]
    region: NotRequired[str]


class RollbackInfo(TypedDict, total=False):
    rollbackDeploymentId: str
    rollbackTriggeringDeploymentId: str
    rollbackMessage: str


class ErrorInformation(TypedDict, total=False):
    code: str
    message: str


class DeploymentStatus(TypedDict):
    deploymentId: str
    status: str
    applicationName: str
    deploymentGroupName: str
    creator: NotRequired[str]
    description: NotRequired[str]  # free text from whoever created it (the freeze exemption marker)
    createTime: NotRequired[str]
    completeTime: NotRequired[str]
    rollbackInfo: NotRequired[RollbackInfo]
    errorInformation: NotRequired[ErrorInformation]


class DeploymentOutcome(TypedDict):
    """One deployment of a fan-out: a stop result, or why it was not stopped."""

    deploymentId: str
    outcome: Outcome
    applicationName: str
    deploymentGroupName: str
    accountId: NotRequired[str]
    region: NotRequired[str]
    status: NotRequired[str | None]
    statusMessage: NotRequired[str]
    autoRollbackEnabled: NotRequired[bool | None]
    error: NotRequired[str]
    message: NotRequired[str]
    retryable: NotRequired[bool]


class TargetReport(TypedDict):
    """One deployment group (application/group) a fan-out covered: how it was found and what was in
    flight there."""

    target: str
    sources: list[str]
    inFlight: list[str]
    error: NotRequired[str]
    message: NotRequired[str]
    retryable: NotRequired[bool]


class FreezeEntry(TypedDict):
    """A freeze in force: what set it (source: freeze, alarm or calendar), the group or glob it covers,
    why, and, for a freeze set by a person or left by an alarm, when it started and ends and who set it."""

    source: str
    name: str
    reason: str
    target: str
    until: NotRequired[str]
    since: NotRequired[str]
    by: NotRequired[str]


class FreezeList(TypedDict):
    freezes: list[FreezeEntry]
    problems: list[str]  # the sources that could not be read: the list may be incomplete
