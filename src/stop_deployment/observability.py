"""The Powertools logger and metrics shared by every module (configured by POWERTOOLS_* variables)."""

import threading
import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="stop-deployment")
metrics = Metrics(namespace="StopDeployment", service="stop-deployment")
# Powertools Metrics is not thread-safe, and the fan-out records from threads.
metrics_lock = threading.Lock()

# A status lookup or a refused request touches no deployment, so it has no metric: that is expected.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def count(name: str) -> None:
    """Add 1 to the metric `name` (a Count), from any thread."""
    with metrics_lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
