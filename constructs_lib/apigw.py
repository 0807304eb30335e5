"""REST API Gateway: routes (method + path) proxied to Lambda functions or their aliases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_stage import (
    ApiGatewayStage,
    ApiGatewayStageAccessLogSettings,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib.logs import encrypted_log_group
from constructs_lib.paths import MAX_API_RESOURCES, resource_paths, segments
from constructs_lib.permissions import API_GATEWAY_PRINCIPAL, api_source_arn, api_statement_id
from constructs_lib.routes import Route

# One JSON line per request in the access log.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class RestApiProps:
    name: str
    stage_name: str
    # At least one; each method and path once (ANY counts as every method).
    routes: Sequence[Route]
    kms_key_arn: str
    throttling_rate_limit: float
    throttling_burst_limit: int
    logging_level: str
    log_retention_days: int

    def __post_init__(self) -> None:
        if not self.routes:
            raise ValueError("a REST API needs at least one route")
        names = [route.name for route in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"routes repeat a method and path: {sorted(names)}")
        resources = len(resource_paths([route.path for route in self.routes]))
        if resources > MAX_API_RESOURCES:
            raise ValueError(f"{resources} API resources; API Gateway allows {MAX_API_RESOURCES}")


# The one request validator, named in the OpenAPI document: declared path parameters are
# required (API Gateway answers 400 without them), bodies are the function's business.
VALIDATOR = "validate-parameters"
# An OpenAPI security scheme API Gateway maps to AWS_IAM authorization (SigV4).
SIGV4 = "sigv4"
ANY_METHOD = "x-amazon-apigateway-any-method"


class LambdaRestApi(Construct):
    """The classic `apigw` module, fixed for AWS provider 6 and grown to many routes.

    The whole API (every route's method, AWS_IAM or no authorization, required path
    parameters, request validator and Lambda proxy integration) is one OpenAPI document, the
    REST API's `body`, which API Gateway applies in one overwrite. A route removed from the
    document is gone from the API before the next deployment is made, so the stage can never
    keep serving it; with one Terraform resource per method, the new deployment was taken
    while the removed method still existed. The deployment is replaced whenever the document
    changes; plus a separate stage, access logs, X-Ray, throttling and IAM by default."""

    def __init__(self, scope: Construct, id: str, props: RestApiProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.definition = openapi_document(props.name, props.routes)
        body = json.dumps(self.definition, separators=(",", ":"))
        self.api = ApiGatewayRestApi(
            self,
            # Not "api", the address of the API whose routes were Terraform resources (v0.1.0):
            # upgraded, that API and its resources go together. Applying the document to it
            # would leave Terraform deleting the old resources by id afterwards, and whether
            # API Gateway keeps a path's id across an overwrite is not documented: if it does,
            # those deletes would remove methods the document had just defined.
            "openapi",
            name=props.name,
            body=body,
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.api_id: str = self.api.id
        execution_arn = self.api.execution_arn
        for route in props.routes:
            LambdaPermission(
                self,
                f"invoke-permission-{route.slug}",
                statement_id=api_statement_id(route.method, route.path),
                action="lambda:InvokeFunction",
                function_name=route.target.function_name,
                qualifier=route.target.qualifier,
                principal=API_GATEWAY_PRINCIPAL,
                source_arn=api_source_arn(execution_arn, route.method, route.path),
            )
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            # A reference to the API: the deployment is made after the document is applied.
            rest_api_id=self.api_id,
            # A new deployment whenever the document changes; without it nothing reaches the
            # stage. The document holds every route's target, so this covers them too.
            triggers={"redeployment": Fn.sha1(self.api.body)},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.stage = self._stage()
        self._method_settings()

    def _stage(self) -> ApiGatewayStage:
        props = self.props
        access_logs = encrypted_log_group(
            self,
            "access-logs",
            name=f"/aws/apigateway/{props.name}/{props.stage_name}/access",
            retention_days=props.log_retention_days,
            kms_key_arn=props.kms_key_arn,
        )
        return ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.api_id,
            deployment_id=self.deployment.id,
            stage_name=props.stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            # API Gateway would create the execution log group itself: no retention, no key,
            # left behind on destroy. (The account's logging role comes from the bootstrap.)
            depends_on=self._execution_log_groups() or None,
        )

    def _method_settings(self) -> None:
        props = self.props
        ApiGatewayMethodSettings(
            self,
            "method-settings",
            rest_api_id=self.api_id,
            stage_name=self.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                logging_level=props.logging_level,
                metrics_enabled=True,
                data_trace_enabled=False,
                throttling_rate_limit=props.throttling_rate_limit,
                throttling_burst_limit=props.throttling_burst_limit,
                caching_enabled=False,
                cache_data_encrypted=True,
            ),
        )

    def _execution_log_groups(self) -> list[CloudwatchLogGroup]:
        """The group API Gateway writes execution logs to, named as it expects it."""
        props = self.props
        if props.logging_level == "OFF":
            return []
        return [
            encrypted_log_group(
                self,
                "execution-logs",
                name=f"API-Gateway-Execution-Logs_{self.api_id}/{props.stage_name}",
                retention_days=props.log_retention_days,
                kms_key_arn=props.kms_key_arn,
            )
        ]

    @cached_property
    def stage_name(self) -> str:
        """The stage's `stage_name`, a reference (the method settings, alarms, domain)."""
        return self.stage.stage_name

    @cached_property
    def invoke_url(self) -> str:
        """The stage's URL, without a trailing `/`; a route's URL is this plus its path."""
        return self.stage.invoke_url

    def url_of(self, route: Route) -> str:
        return f"{self.invoke_url}{route.path}"


def openapi_document(title: str, routes: Sequence[Route]) -> dict[str, object]:
    """The API as the OpenAPI 3 document API Gateway imports: a Lambda proxy integration
    (always a POST to Lambda, whatever the client's method) per route."""
    paths: dict[str, dict[str, object]] = {}
    for route in routes:
        operation: dict[str, object] = {
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy",
                "httpMethod": "POST",
                "uri": route.target.invoke_arn,
                "passthroughBehavior": "when_no_match",
            },
            "responses": {},
        }
        parameters = [
            {
                "name": segment.parameter,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
            for segment in segments(route.path)
            if segment.parameter
        ]
        if parameters:
            operation["parameters"] = parameters
        if route.authorization == "AWS_IAM":
            operation["security"] = [{SIGV4: []}]
        method = ANY_METHOD if route.method == "ANY" else route.method.lower()
        paths.setdefault(route.path, {})[method] = operation
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1"},
        "x-amazon-apigateway-request-validators": {
            VALIDATOR: {"validateRequestParameters": True, "validateRequestBody": False}
        },
        "x-amazon-apigateway-request-validator": VALIDATOR,
        "paths": paths,
        "components": {
            "securitySchemes": {
                SIGV4: {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            }
        },
    }
