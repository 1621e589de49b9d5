"""The Powertools logger and metrics shared by every module (configured by POWERTOOLS_* variables)."""

import warnings

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="stop-deployment")
metrics = Metrics(namespace="StopDeployment", service="stop-deployment")

# A status lookup or a refused request touches no deployment, so it has no metric: that is expected.
warnings.filterwarnings("ignore", message="No application metrics to publish")
