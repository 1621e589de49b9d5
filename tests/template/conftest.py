"""The SAM template, as written and as the SAM translator turns it into CloudFormation (offline)."""

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]
from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
from samtranslator.translator.arn_generator import ArnGenerator  # type: ignore[import-untyped]
from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
FUNCTION_ID = "StopDeploymentFunction"

# What `sam deploy` would supply: the region of the stack, and the account from the credentials.
REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"


def _load_template() -> dict[str, Any]:
    template, matches = decode(str(TEMPLATE_PATH))
    assert not matches, [str(match) for match in matches]
    # cfn-lint's decoder returns str/dict subclasses that carry line numbers; make them plain.
    plain: dict[str, Any] = json.loads(json.dumps(template))
    return plain


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as written (short-form intrinsics expanded to their long form)."""
    return _load_template()


@pytest.fixture(scope="session")
def cfn_template(sam_template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The CloudFormation template that the AWS::Serverless transform makes of template.yaml.

    Like `sam package`, it points CodeUri at S3 first: the translator accepts only S3 locations.
    Managed policies are referred to by ARN, so the fake managed-policy loader knows no names.
    """
    template = copy.deepcopy(sam_template)
    template["Resources"][FUNCTION_ID]["Properties"]["CodeUri"] = "s3://artifacts/stop-deployment.zip"
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
