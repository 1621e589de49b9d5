"""Reproducible benchmarks, each beside a bare boto3 baseline measured in the same run."""
