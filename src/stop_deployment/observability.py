"""The Powertools logger and metrics shared by every module (configured by POWERTOOLS_* variables)."""

import threading
import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE, NAMESPACE = "stop-deployment", "StopDeployment"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Powertools Metrics is not thread-safe, and the fan-out records from threads.
metrics_lock = threading.Lock()

# A status lookup or a refused request touches no deployment, so it has no metric: that is expected.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def count(name: str) -> None:
    """Emit 1 for the metric `name` (a Count) now, with the `service` dimension only, from any thread.

    On its own rather than with the invocation's metrics, which carry a `trigger` dimension on stops
    only: the template's alarms (RollbacksFailed, NotificationsFailed) match one dimension set.
    """
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ):
        pass
