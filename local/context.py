"""The Lambda context object, for running the function outside Lambda: the tests, demo, serve, bench.

Only the standard library, and only modules boto3 loads anyway: the cold-start benchmark and probe
import this in the fresh process whose start-up they measure.
"""

import uuid
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the function (and Powertools) reads."""

    function_name: str = "stop-deployment-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 300_000  # the template's timeout; a test can shorten it

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
