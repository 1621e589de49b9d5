"""Domain errors. Each message is safe to show the caller: it never carries AWS's own text.

The class name is the error code: the HTTP API puts it in `{"error": ...}` and a direct invocation
raises the exception itself, so a Step Functions `Catch` can match on it.
"""


class StopDeploymentError(Exception):
    """Base class for every error this function reports to a caller."""


class InvalidRequest(StopDeploymentError):
    pass


class PayloadTooLarge(StopDeploymentError):
    pass


class RouteNotFound(StopDeploymentError):
    pass


class DeploymentNotFound(StopDeploymentError):
    pass


class DeploymentAlreadyCompleted(StopDeploymentError):
    pass


class DeploymentGroupNotAllowed(StopDeploymentError):
    pass


class UnsupportedDeploymentType(StopDeploymentError):
    pass


class AccessDenied(StopDeploymentError):
    pass


class Throttled(StopDeploymentError):
    pass


class CodeDeployUnavailable(StopDeploymentError):
    pass


class CodeDeployTimeout(CodeDeployUnavailable):
    pass


class ConfigurationError(StopDeploymentError):
    pass


class StopsIncomplete(StopDeploymentError):
    """Some stops of an alarm failed for a reason a retry may fix; raised after all were attempted."""


class ChatOpsNotConfigured(StopDeploymentError):
    pass


class SlackSignatureInvalid(StopDeploymentError):
    pass


class FreezeCheckFailed(StopDeploymentError):
    """A freeze source (alarms, a Change Calendar) could not be read; FREEZE_ON_ERROR decides."""


class FreezeNotFound(StopDeploymentError):
    pass


class FreezesNotConfigured(StopDeploymentError):
    """Manual freezes are kept in the ledger table, and there is none (STOPS_TABLE)."""


class FreezeStoreUnavailable(StopDeploymentError):
    """DynamoDB did not take a freeze's change; nothing was changed."""


class AccountNotAllowed(DeploymentGroupNotAllowed):
    """An account or region outside ALLOWED_ACCOUNTS / ALLOWED_REGIONS: refused before any call."""


class AccountUnreachable(StopDeploymentError):
    """The member role of another account could not be assumed (missing, or not trusting the function)."""
