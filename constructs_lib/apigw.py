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

from constructs_lib.authorizers import (
    AUTHORIZER_RESULT_TTL_DEFAULT_S,
    AUTHORIZER_RESULT_TTL_MAX_S,
    AWS_IAM,
    BUILT_IN_AUTHORIZATIONS,
    DEFAULT_IDENTITY_SOURCE,
    rest_identity_source,
)
from constructs_lib.cors import CorsPolicy
from constructs_lib.logs import access_log_group, encrypted_log_group
from constructs_lib.paths import MAX_API_RESOURCES, resource_paths, segments
from constructs_lib.permissions import (
    API_GATEWAY_PRINCIPAL,
    api_source_arn,
    api_statement_id,
    authorizer_source_arn,
    authorizer_statement_id,
)
from constructs_lib.releases import InvokeTarget
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
class UserPoolAuthorizer:
    """A COGNITO_USER_POOLS authorizer: the caller sends an ID or access token of one of these
    user pools in `Authorization`; a route with scopes takes only access tokens carrying one."""

    name: str
    user_pool_arns: Sequence[str]
    takes_scopes = True

    def security_scheme(self) -> dict[str, object]:
        return {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {
                "type": "cognito_user_pools",
                "providerARNs": list(self.user_pool_arns),
            },
        }


@dataclass(frozen=True)
class FunctionAuthorizer:
    """A REQUEST authorizer: API Gateway invokes `target` with the request and caches its
    answer (an IAM policy) for `result_ttl_s` per value of the identity sources."""

    name: str
    target: InvokeTarget
    # `header.<name>` or `query.<name>` (constructs_lib.authorizers).
    identity_sources: Sequence[str] = (DEFAULT_IDENTITY_SOURCE,)
    result_ttl_s: int = AUTHORIZER_RESULT_TTL_DEFAULT_S
    takes_scopes = False

    def __post_init__(self) -> None:
        if not self.identity_sources:
            raise ValueError(f"authorizer {self.name}: at least one identity source")
        if not 0 <= self.result_ttl_s <= AUTHORIZER_RESULT_TTL_MAX_S:
            raise ValueError(
                f"authorizer {self.name}: result_ttl_s must be 0-{AUTHORIZER_RESULT_TTL_MAX_S}"
            )
        for source in self.identity_sources:
            rest_identity_source(source)

    def security_scheme(self) -> dict[str, object]:
        return {
            "type": "apiKey",
            "name": "Unused",
            "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "request",
                "identitySource": ", ".join(map(rest_identity_source, self.identity_sources)),
                "authorizerUri": self.target.invoke_arn,
                "authorizerResultTtlInSeconds": self.result_ttl_s,
            },
        }


RestAuthorizer = UserPoolAuthorizer | FunctionAuthorizer


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
    # What routes may name as their authorization besides NONE and AWS_IAM.
    authorizers: Sequence[RestAuthorizer] = ()
    # None: no CORS (no OPTIONS methods, API Gateway's own errors without CORS headers).
    cors: CorsPolicy | None = None

    def __post_init__(self) -> None:
        if not self.routes:
            raise ValueError("a REST API needs at least one route")
        self._check_authorizers()
        names = [route.name for route in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"routes repeat a method and path: {sorted(names)}")
        resources = len(resource_paths([route.path for route in self.routes]))
        if resources > MAX_API_RESOURCES:
            raise ValueError(f"{resources} API resources; API Gateway allows {MAX_API_RESOURCES}")

    def _check_authorizers(self) -> None:
        by_name = {authorizer.name: authorizer for authorizer in self.authorizers}
        if len(by_name) != len(self.authorizers) or set(by_name) & set(BUILT_IN_AUTHORIZATIONS):
            raise ValueError(f"authorizer names must be unique and not built in: {list(by_name)}")
        for route in self.routes:
            authorizer = by_name.get(route.authorization)
            if authorizer is None and route.authorization not in BUILT_IN_AUTHORIZATIONS:
                raise ValueError(f"{route.name}: no authorizer {route.authorization!r}")
            if route.scopes and (authorizer is None or not authorizer.takes_scopes):
                raise ValueError(f"{route.name}: scopes need a user pool authorizer")


# The one request validator, named in the OpenAPI document: declared path parameters are
# required (API Gateway answers 400 without them), bodies are the function's business.
VALIDATOR = "validate-parameters"
# An OpenAPI security scheme API Gateway maps to AWS_IAM authorization (SigV4). In capitals:
# no authorizer (named after its lowercase key) can take its name.
SIGV4 = AWS_IAM
ANY_METHOD = "x-amazon-apigateway-any-method"
# API Gateway's own answers (not a function's) that carry the CORS headers: every 4XX and 5XX,
# and explicitly those an authorizer causes (each would otherwise inherit the defaults too).
DEFAULT_GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX")
AUTHORIZER_GATEWAY_RESPONSES = (
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "AUTHORIZER_FAILURE",
    "AUTHORIZER_CONFIGURATION_ERROR",
)


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
        self.definition = openapi_document(props.name, props.routes, props.authorizers, props.cors)
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
        for authorizer in props.authorizers:
            if isinstance(authorizer, FunctionAuthorizer):
                LambdaPermission(
                    self,
                    f"authorizer-permission-{authorizer.name}",
                    statement_id=authorizer_statement_id(authorizer.name),
                    action="lambda:InvokeFunction",
                    function_name=authorizer.target.function_name,
                    qualifier=authorizer.target.qualifier,
                    principal=API_GATEWAY_PRINCIPAL,
                    source_arn=authorizer_source_arn(execution_arn),
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
        access_logs = access_log_group(
            self,
            api_name=props.name,
            stage_name=props.stage_name,
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


def openapi_document(
    title: str,
    routes: Sequence[Route],
    authorizers: Sequence[RestAuthorizer] = (),
    cors: CorsPolicy | None = None,
) -> dict[str, object]:
    """The API as the OpenAPI 3 document API Gateway imports: a Lambda proxy integration
    (always a POST to Lambda, whatever the client's method) per route; with `cors`, an OPTIONS
    method per path answered by API Gateway itself and CORS headers on its own errors."""
    paths: dict[str, dict[str, object]] = {}
    for route in routes:
        method = ANY_METHOD if route.method == "ANY" else route.method.lower()
        paths.setdefault(route.path, {})[method] = _operation(route)
    if cors is not None:
        for path, operations in paths.items():
            methods = [route.method for route in routes if route.path == path]
            operations["options"] = _preflight(cors, methods)
    schemes: dict[str, object] = {
        SIGV4: {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
        },
        **{authorizer.name: authorizer.security_scheme() for authorizer in authorizers},
    }
    document: dict[str, object] = {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1"},
        "x-amazon-apigateway-request-validators": {
            VALIDATOR: {"validateRequestParameters": True, "validateRequestBody": False}
        },
        "x-amazon-apigateway-request-validator": VALIDATOR,
        "paths": paths,
        "components": {"securitySchemes": schemes},
    }
    if cors is not None:
        kinds = DEFAULT_GATEWAY_RESPONSES + (AUTHORIZER_GATEWAY_RESPONSES if authorizers else ())
        document["x-amazon-apigateway-gateway-responses"] = {
            kind: {"responseParameters": _gateway_response_headers(cors)} for kind in kinds
        }
    return document


def _operation(route: Route) -> dict[str, object]:
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
    if route.authorization != "NONE":
        # The scopes of a user pool authorizer; IAM and request authorizers take none.
        operation["security"] = [{route.authorization: list(route.scopes)}]
    return operation


def _preflight(cors: CorsPolicy, route_methods: Sequence[str]) -> dict[str, object]:
    """OPTIONS answered by a MOCK integration: no function runs, nobody is asked for
    credentials (browsers send none with a preflight)."""
    static = {**_shared_headers(cors), **cors.preflight_only_headers(route_methods)}
    parameters = {f"method.response.header.{name}": f"'{value}'" for name, value in static.items()}
    response: dict[str, object] = {"statusCode": "200", "responseParameters": parameters}
    if _chosen_origin(cors) is None:
        response["responseTemplates"] = {"application/json": _origin_template(cors)}
    names = ["Access-Control-Allow-Origin", *static]
    return {
        "responses": {
            "200": {
                "description": "CORS preflight",
                "headers": {name: {"schema": {"type": "string"}} for name in names},
            }
        },
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "passthroughBehavior": "when_no_match",
            "responses": {"default": response},
        },
    }


def _shared_headers(cors: CorsPolicy) -> dict[str, str]:
    """The headers every CORS answer of the API's own carries, preflight or error; the origin
    too when it is the same for every request."""
    chosen = _chosen_origin(cors)
    origin = {} if chosen is None else {"Access-Control-Allow-Origin": chosen}
    return {**cors.vary_headers(), **origin, **cors.grant_headers()}


def _chosen_origin(cors: CorsPolicy) -> str | None:
    """The one value `Access-Control-Allow-Origin` can have whatever the request (`*` or the
    only origin); None when it must be chosen among several."""
    if cors.any_origin:
        return "*"
    return cors.allow_origins[0] if len(cors.allow_origins) == 1 else None


def _origin_template(cors: CorsPolicy) -> str:
    """A mapping template answering the request's `Origin` when the policy lists it: a static
    header cannot choose among several origins."""
    origins = json.dumps(list(cors.allow_origins))
    return (
        "#set($origin = $input.params().header.get('Origin'))\n"
        '#if("$!origin" == "")#set($origin = $input.params().header.get(\'origin\'))#end\n'
        f"#set($allowed = {origins})\n"
        "#if($allowed.contains($origin))"
        "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)#end\n"
    )


def _gateway_response_headers(cors: CorsPolicy) -> dict[str, str]:
    """The CORS headers of API Gateway's own errors. A gateway response has no mapping template
    to choose among several origins: it names the request's own origin, which shows a page on
    any origin API Gateway's error message and nothing else (the functions' answers carry the
    headers of the policy itself)."""
    parameters = {
        f"gatewayresponse.header.{name}": f"'{value}'"
        for name, value in _shared_headers(cors).items()
    }
    if _chosen_origin(cors) is None:
        parameters["gatewayresponse.header.Access-Control-Allow-Origin"] = (
            "method.request.header.Origin"
        )
    return parameters
