"""The SAM template, as written and as the SAM translator turns it into CloudFormation (offline)."""

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
from samtranslator.translator.arn_generator import ArnGenerator  # type: ignore[import-untyped]
from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

from tests.template.cfn import ACCOUNT_ID, MEMBER_TEMPLATE_PATH, REGION, load_template


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as written (short-form intrinsics expanded to their long form)."""
    return load_template()


@pytest.fixture(scope="session")
def cfn_template(sam_template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The CloudFormation template that the AWS::Serverless transform makes of template.yaml.

    Like `sam package`, it points CodeUri (shared by both functions through Globals) at S3 first:
    the translator accepts only S3 locations.
    Managed policies are referred to by ARN, so the fake managed-policy loader knows no names.
    """
    template = copy.deepcopy(sam_template)
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/stop-deployment.zip"
    region_before = ArnGenerator.BOTO_SESSION_REGION_NAME
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    try:
        transformed: dict[str, Any] = translator.translate(
            template,
            parameter_values={"AWS::AccountId": ACCOUNT_ID},
            get_managed_policy_map=dict,
        )
        yield transformed
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = region_before


@pytest.fixture(scope="session")
def member_template() -> dict[str, Any]:
    """member-role.yaml as written: plain CloudFormation, so no transform (Evaluator reads it as is)."""
    return load_template(MEMBER_TEMPLATE_PATH)
