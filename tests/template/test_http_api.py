"""The HTTP API: routes, their authorization and invoke permissions, Slack throttling, access logs."""

import json
import re
from typing import Any

from tests.template.cfn import (
    ACCESS_LOG_GROUP_ID,
    API_ID,
    FUNCTION_ID,
    FUNCTION_LOG_GROUP_ID,
    SLACK_ROUTE,
    Evaluator,
    api_operations,
    resources_of_type,
)


def test_http_api_has_exactly_the_three_iam_routes_and_the_slack_route(cfn_template: dict[str, Any]) -> None:
    body = cfn_template["Resources"][API_ID]["Properties"]["Body"]

    operations = api_operations(cfn_template)

    assert set(operations) == {
        ("POST", "/stop"),
        ("POST", "/deployments/{deploymentId}/stop"),
        ("GET", "/deployments/{deploymentId}"),
        SLACK_ROUTE,
    }
    for route, operation in operations.items():
        if route != SLACK_ROUTE:
            assert operation["security"] == [{"AWS_IAM": []}]
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["payloadFormatVersion"] == "2.0"
        assert f"${{{FUNCTION_ID}.Arn}}" in integration["uri"]["Fn::Sub"]
    assert body["components"]["securitySchemes"]["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_slack_route_alone_has_no_authorizer(cfn_template: dict[str, Any]) -> None:
    # Slack cannot sign with SigV4; the function checks Slack's own signature. SAM writes the event's
    # `Authorizer: NONE` as the requirement {"NONE": []}, naming no security scheme, so API Gateway
    # attaches no authorizer to the route. Nothing else may add one: no API-wide requirement, no
    # scheme called NONE, no separate route or authorizer resources.
    body = cfn_template["Resources"][API_ID]["Properties"]["Body"]

    slack = api_operations(cfn_template)[SLACK_ROUTE]

    assert slack["security"] == [{"NONE": []}]
    assert set(body["components"]["securitySchemes"]) == {"AWS_IAM"}
    assert "security" not in body
    types = {resource["Type"] for resource in cfn_template["Resources"].values()}
    assert not types & {"AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Authorizer"}


def test_only_the_slack_route_is_throttled_below_the_reserved_concurrency(
    cfn_template: dict[str, Any],
) -> None:
    # Anyone can call the Slack route; it must not use up the concurrency that alarms rely on.
    stages = resources_of_type(cfn_template, "AWS::ApiGatewayV2::Stage")
    [stage] = stages.values()

    assert stage["ApiId"] == API_ID
    assert set(stage["RouteSettings"]) == {" ".join(SLACK_ROUTE)}
    throttling = stage["RouteSettings"][" ".join(SLACK_ROUTE)]
    reserved = cfn_template["Parameters"]["ReservedConcurrency"]["Default"]
    assert 1 <= throttling["ThrottlingBurstLimit"] <= reserved // 2
    assert 0 < throttling["ThrottlingRateLimit"] <= throttling["ThrottlingBurstLimit"]


# What each access log line must say about a request: API Gateway's own fields, and who signed it on
# the IAM routes.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
}
# Context variables that carry a request's headers, query string or body, or may repeat them (an
# authorizer's output, API Gateway's error message for a signature mismatch).
UNLOGGED_VARIABLE = re.compile(
    r"\$context\.(.*header|.*body|.*querystring|identity\.userAgent|authorizer\b|error\.message)",
    re.IGNORECASE,
)


def test_http_api_writes_json_access_logs_to_its_own_log_group_with_retention(
    cfn_template: dict[str, Any],
) -> None:
    [stage] = resources_of_type(cfn_template, "AWS::ApiGatewayV2::Stage").values()
    access_logs = stage["AccessLogSettings"]

    assert access_logs["DestinationArn"] == f"{ACCESS_LOG_GROUP_ID}.Arn"
    log_group = cfn_template["Resources"][ACCESS_LOG_GROUP_ID]
    function_log_group = cfn_template["Resources"][FUNCTION_LOG_GROUP_ID]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
        assert log_group[policy] == function_log_group[policy] == "Delete"
    # HTTP APIs deliver access logs as vended logs; this prefix keeps the account's CloudWatch Logs
    # resource policy within its size limit however many stacks there are.
    name = Evaluator(cfn_template).resolve(log_group["Properties"]["LogGroupName"])
    assert name.startswith("/aws/vendedlogs/")
    assert name != Evaluator(cfn_template).resolve(function_log_group["Properties"]["LogGroupName"])

    log_format = access_logs["Format"]
    assert "\n" not in log_format  # API Gateway writes one line per request
    fields = json.loads(log_format)
    assert fields.items() >= ACCESS_LOG_FIELDS.items()
    for field, variable in fields.items():
        assert re.fullmatch(r"\$context\.[A-Za-z.]+", variable), (field, variable)  # one variable each
        assert not UNLOGGED_VARIABLE.match(variable), (field, variable)


def test_api_gateway_may_invoke_the_function_only_for_those_routes(cfn_template: dict[str, Any]) -> None:
    permissions = [
        p
        for p in resources_of_type(cfn_template, "AWS::Lambda::Permission").values()
        if p["Principal"] == "apigateway.amazonaws.com"
    ]

    assert {(p["FunctionName"], p["Action"]) for p in permissions} == {(FUNCTION_ID, "lambda:InvokeFunction")}
    api_arn = f"arn:aws:execute-api:eu-west-1:123456789012:{API_ID}/*/"
    assert sorted(p["SourceArn"] for p in permissions) == sorted(
        api_arn + route
        for route in ("POST/stop", "POST/deployments/*/stop", "GET/deployments/*", "POST/slack/commands")
    )
