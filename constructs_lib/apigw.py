"""REST API Gateway: one resource + GET method proxied to the Lambda function."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib.lambda_function import ServerlessFunction


@dataclass(frozen=True)
class RestApiProps:
    name: str
    path_part: str
    stage_name: str
    function: ServerlessFunction
    http_method: str = "GET"


class LambdaRestApi(Construct):
    """The classic `apigw` module, fixed for AWS provider 6: a separate stage resource and a
    deployment that is replaced whenever the API's shape changes."""

    def __init__(self, scope: Construct, id: str, props: RestApiProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.api = ApiGatewayRestApi(
            self,
            "api",
            name=props.name,
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
        )
        self.resource = ApiGatewayResource(
            self,
            "resource",
            rest_api_id=self.api.id,
            parent_id=self.api.root_resource_id,
            path_part=props.path_part,
        )
        self.method = ApiGatewayMethod(
            self,
            "method",
            rest_api_id=self.api.id,
            resource_id=self.resource.id,
            http_method=props.http_method,
            authorization="NONE",
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
            uri=props.function.invoke_arn,
        )
        LambdaPermission(
            self,
            "invoke-permission",
            statement_id="AllowExecutionFromAPIGateway",
            action="lambda:InvokeFunction",
            function_name=props.function.function_name,
            principal="apigateway.amazonaws.com",
            # <execution_arn>/<stage>/<method>/<path>: any stage, this method and path only.
            source_arn=f"{self.api.execution_arn}/*/{props.http_method}{self.resource.path}",
        )
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.api.id,
            # A new deployment whenever a resource, method or integration changes; without it
            # changes never reach the stage.
            triggers={
                "redeployment": Fn.sha1(
                    Fn.jsonencode([self.resource.id, self.method.id, self.integration.id])
                )
            },
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[self.method, self.integration],
        )
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.api.id,
            deployment_id=self.deployment.id,
            stage_name=props.stage_name,
        )

    @property
    def invoke_url(self) -> str:
        """The full URL of the proxied path: stage URL plus path part."""
        return f"{self.stage.invoke_url}/{self.props.path_part}"
