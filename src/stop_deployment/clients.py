"""The botocore settings every AWS client of this function shares (CodeDeploy, CloudWatch, SSM,
Secrets Manager, DynamoDB, SNS): bounded retries and timeouts, a user agent, and a pool for the fan-out.

The endpoint comes from the environment as boto3 resolves it (AWS_ENDPOINT_URL_CODEDEPLOY points
CodeDeploy at the local stand-in); it is never set here.
"""

import gc
from typing import TypeVar

from botocore.config import Config
from botocore.exceptions import ClientError

from . import __version__

# The alarm fan-out stops this many deployments at once; the connection pool must match.
MAX_PARALLEL_CALLS = 20

# Worst case per call: 3 attempts x (2 s connect + 3 s read) + standard-mode backoff (< 1 s + < 2 s)
# = 18 s, 28 s if the service sends x-amz-retry-after; tests/integration/test_faults.py checks that
# the longest chain of calls fits the function's timeout.
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3

CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    user_agent_extra=f"stop-deployment/{__version__}",
    max_pool_connections=MAX_PARALLEL_CALLS,
)

# The ledger, SNS and Slack come after the stops, before the reply: an HTTP or Slack caller waits for
# them, so they get less patience than CodeDeploy (2 attempts x (1 s + 2 s) + backoff < 8 s per call);
# what fails is logged and counted, and the stop stands.
AFTERWARDS_CONNECT_TIMEOUT_SECONDS = 1
AFTERWARDS_READ_TIMEOUT_SECONDS = 2
AFTERWARDS_CONFIG = CONFIG.merge(
    Config(
        retries={"mode": "standard", "total_max_attempts": 2},
        connect_timeout=AFTERWARDS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=AFTERWARDS_READ_TIMEOUT_SECONDS,
    )
)

Client = TypeVar("Client")


def long_lived(client: Client) -> Client:
    """A client created once per process: its service model, like the imports (see handler.py), is
    taken out of the garbage collector's sight, so that building the next client does not rescan it."""
    gc.freeze()
    return client


def error_code(exc: Exception) -> str:
    """AWS's error code of a failed call (ThrottlingException, ...), or the botocore error's name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code"))
    return type(exc).__name__
