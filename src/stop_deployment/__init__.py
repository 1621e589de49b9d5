"""stop-deployment: a serverless kill switch for AWS CodeDeploy."""

__version__ = "0.1.0"
