"""REST API Gateway: routes (method + path) proxied to Lambda functions or their aliases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

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

from constructs_lib.logs import encrypted_log_group
from constructs_lib.paths import MAX_API_RESOURCES, resource_paths, segments, slug
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


class LambdaRestApi(Construct):
    """The classic `apigw` module, fixed for AWS provider 6 and grown to many routes: one
    resource per path segment, a Lambda proxy method per route, a separate stage and a
    deployment that is replaced whenever any route changes; plus access logs, X-Ray,
    throttling and IAM authorization by default.

    Attributes every route or resource names (`api_id`, the validator's id, each resource's
    id, ...) are read once and kept: every read is a round trip to the jsii kernel, and the
    token it returns stands for the same reference every time."""

    def __init__(self, scope: Construct, id: str, props: RestApiProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.api = ApiGatewayRestApi(
            self,
            "api",
            name=props.name,
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.api_id: str = self.api.id
        self._execution_arn = self.api.execution_arn
        self.validator = ApiGatewayRequestValidator(
            self,
            "validator",
            rest_api_id=self.api_id,
            name="validate-parameters",
            validate_request_parameters=True,
            validate_request_body=False,
        )
        self._validator_id = self.validator.id
        # Path ("/items/{id}") -> its resource, and -> its id ("/": the API's root resource).
        self.resources: dict[str, ApiGatewayResource] = {}
        self._resource_ids = {"/": self.api.root_resource_id}
        self.methods: dict[str, ApiGatewayMethod] = {}
        # Route name -> its declared request parameters (all required), as given the method.
        self.parameters: dict[str, dict[str, bool]] = {}
        self.integrations: dict[str, ApiGatewayIntegration] = {}
        # Route name -> its method's `http_method`, for the integration and the deployment.
        self._http_methods: dict[str, str] = {}
        for route in props.routes:
            self._add_route(route)
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.api_id,
            # A new deployment whenever anything the stage serves changes; without it changes
            # never reach the stage. Ids alone miss in-place updates (authorization, uri, ...).
            triggers={"redeployment": Fn.sha1(Fn.jsonencode(self._deployed_configuration()))},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[*self.methods.values(), *self.integrations.values()],
        )
        self.stage = self._stage()
        self._method_settings()

    def _resource_id(self, path: str) -> str:
        """The resource of `path`, creating it and its parents on first use."""
        if path not in self._resource_ids:
            parent, _, part = path.rpartition("/")
            self.resources[path] = ApiGatewayResource(
                self,
                f"resource-{slug(path)}",
                rest_api_id=self.api_id,
                parent_id=self._resource_id(parent or "/"),
                path_part=part,
            )
            self._resource_ids[path] = self.resources[path].id
        return self._resource_ids[path]

    def _add_route(self, route: Route) -> None:
        resource_id = self._resource_id(route.path)
        parameters = {
            f"method.request.path.{segment.parameter}": True
            for segment in segments(route.path)
            if segment.parameter
        }
        self.parameters[route.name] = parameters
        method = ApiGatewayMethod(
            self,
            f"method-{route.slug}",
            rest_api_id=self.api_id,
            resource_id=resource_id,
            http_method=route.method,
            authorization=route.authorization,
            request_validator_id=self._validator_id,
            # Declared path parameters are required: the validator answers 400 without them.
            request_parameters=parameters or None,
        )
        self.methods[route.name] = method
        self._http_methods[route.name] = method.http_method
        self.integrations[route.name] = ApiGatewayIntegration(
            self,
            f"integration-{route.slug}",
            rest_api_id=self.api_id,
            resource_id=resource_id,
            http_method=self._http_methods[route.name],
            # Lambda is always invoked with POST, whatever the client's method.
            integration_http_method="POST",
            type="AWS_PROXY",
            uri=route.target.invoke_arn,
        )
        LambdaPermission(
            self,
            f"invoke-permission-{route.slug}",
            statement_id=api_statement_id(route.method, route.path),
            action="lambda:InvokeFunction",
            function_name=route.target.function_name,
            qualifier=route.target.qualifier,
            principal=API_GATEWAY_PRINCIPAL,
            source_arn=api_source_arn(self._execution_arn, route.method, route.path),
        )

    def _deployed_configuration(self) -> list[object]:
        """The attributes of the resources, methods, validator and integrations a deployment
        snapshots, as references: Terraform hashes the values it will apply."""
        configuration: list[object] = [
            self.validator.validate_request_parameters,
            self.validator.validate_request_body,
        ]
        for path, resource in self.resources.items():
            configuration += [self._resource_ids[path], resource.parent_id, resource.path_part]
        for name, method in self.methods.items():
            integration = self.integrations[name]
            http_method = self._http_methods[name]
            configuration += [
                *(method.id, http_method, method.authorization, method.api_key_required),
                # The literal, not the attribute: a method without parameters is null in the
                # configuration and `{}` once the provider has read it back, which would
                # change the hash on every refresh.
                *(method.request_validator_id, " ".join(sorted(self.parameters[name]))),
                *(integration.id, integration.type, integration.integration_http_method),
                *(integration.uri, integration.timeout_milliseconds),
            ]
        return configuration

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
