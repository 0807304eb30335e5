"""REST API Gateway: one resource + GET method proxied to the Lambda function."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
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

from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.logs import encrypted_log_group
from constructs_lib.releases import InvokeTarget, unqualified_target

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
    path_part: str
    stage_name: str
    function: ServerlessFunction
    kms_key_arn: str
    # "NONE" is a public API: allowed, but only when the configuration says so.
    authorization: str
    throttling_rate_limit: float
    throttling_burst_limit: int
    logging_level: str
    log_retention_days: int
    http_method: str = "GET"
    # None: the unqualified function; `LiveAlias.target` makes the API invoke the alias.
    invoke_target: InvokeTarget | None = None


class LambdaRestApi(Construct):
    """The classic `apigw` module, fixed for AWS provider 6: a separate stage resource and a
    deployment that is replaced whenever the API's shape changes; plus access logs, X-Ray,
    throttling and IAM authorization by default."""

    def __init__(self, scope: Construct, id: str, props: RestApiProps) -> None:
        super().__init__(scope, id)
        self.props = props
        target = props.invoke_target or unqualified_target(props.function)
        self.api = ApiGatewayRestApi(
            self,
            "api",
            name=props.name,
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.resource = ApiGatewayResource(
            self,
            "resource",
            rest_api_id=self.api.id,
            parent_id=self.api.root_resource_id,
            path_part=props.path_part,
        )
        self.validator = ApiGatewayRequestValidator(
            self,
            "validator",
            rest_api_id=self.api.id,
            name="validate-parameters",
            validate_request_parameters=True,
            validate_request_body=False,
        )
        self.method = ApiGatewayMethod(
            self,
            "method",
            rest_api_id=self.api.id,
            resource_id=self.resource.id,
            http_method=props.http_method,
            authorization=props.authorization,
            request_validator_id=self.validator.id,
            request_parameters={"method.request.querystring.name": False},
        )
        self.integration = ApiGatewayIntegration(
            self,
            "integration",
            rest_api_id=self.api.id,
            resource_id=self.resource.id,
            http_method=self.method.http_method,
            # Lambda is always invoked with POST, whatever the client's method.
            integration_http_method="POST",
            type="AWS_PROXY",
            uri=target.invoke_arn,
        )
        LambdaPermission(
            self,
            "invoke-permission",
            statement_id="AllowExecutionFromAPIGateway",
            action="lambda:InvokeFunction",
            function_name=target.function_name,
            qualifier=target.qualifier,
            principal="apigateway.amazonaws.com",
            # <execution_arn>/<stage>/<method>/<path>: any stage, this method and path only.
            source_arn=f"{self.api.execution_arn}/*/{props.http_method}{self.resource.path}",
        )
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.api.id,
            # A new deployment whenever anything the stage serves changes; without it changes
            # never reach the stage. Ids alone miss in-place updates (authorization, uri, ...).
            triggers={"redeployment": Fn.sha1(Fn.jsonencode(self._deployed_configuration()))},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[self.method, self.integration],
        )
        self.stage = self._stage()

    def _deployed_configuration(self) -> list[object]:
        """The attributes of the resource, method, validator and integration a deployment
        snapshots, as references: Terraform hashes the values it will apply."""
        resource, method, integration = self.resource, self.method, self.integration
        return [
            *(resource.id, resource.path_part),
            *(method.id, method.http_method, method.authorization, method.api_key_required),
            *(method.request_validator_id, method.request_parameters),
            *(self.validator.validate_request_parameters, self.validator.validate_request_body),
            *(integration.id, integration.type, integration.integration_http_method),
            *(integration.uri, integration.timeout_milliseconds),
        ]

    def _stage(self) -> ApiGatewayStage:
        props = self.props
        access_logs = encrypted_log_group(
            self,
            "access-logs",
            name=f"/aws/apigateway/{props.name}/{props.stage_name}/access",
            retention_days=props.log_retention_days,
            kms_key_arn=props.kms_key_arn,
        )
        stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.api.id,
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
        ApiGatewayMethodSettings(
            self,
            "method-settings",
            rest_api_id=self.api.id,
            stage_name=stage.stage_name,
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
        return stage

    def _execution_log_groups(self) -> list[CloudwatchLogGroup]:
        """The group API Gateway writes execution logs to, named as it expects it."""
        props = self.props
        if props.logging_level == "OFF":
            return []
        return [
            encrypted_log_group(
                self,
                "execution-logs",
                name=f"API-Gateway-Execution-Logs_{self.api.id}/{props.stage_name}",
                retention_days=props.log_retention_days,
                kms_key_arn=props.kms_key_arn,
            )
        ]

    @property
    def invoke_url(self) -> str:
        """The full URL of the proxied path: stage URL plus path part."""
        return f"{self.stage.invoke_url}/{self.props.path_part}"
