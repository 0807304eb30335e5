"""HTTP API (API Gateway v2): routes (method + path) proxied to Lambda functions or their
aliases, on the `$default` stage, with JWT and Lambda authorizers, CORS and access logs.

Cheaper per request than the REST API (`constructs_lib.apigw`) and with JWT authorizers and
CORS built in, but no WAF, no execution logs, no request validation and no gateway responses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from cdktf_cdktf_provider_aws.apigatewayv2_api import (
    Apigatewayv2Api,
    Apigatewayv2ApiCorsConfiguration,
)
from cdktf_cdktf_provider_aws.apigatewayv2_authorizer import (
    Apigatewayv2Authorizer,
    Apigatewayv2AuthorizerJwtConfiguration,
)
from cdktf_cdktf_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktf_cdktf_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktf_cdktf_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib.authorizers import (
    AUTHORIZER_RESULT_TTL_DEFAULT_S,
    AUTHORIZER_RESULT_TTL_MAX_S,
    BUILT_IN_AUTHORIZATIONS,
    DEFAULT_IDENTITY_SOURCE,
    http_identity_source,
)
from constructs_lib.cors import WILDCARD, CorsPolicy
from constructs_lib.limits import (
    HTTP_API_DEFAULT_STAGE,
    HTTP_API_MAX_AUDIENCES,
    HTTP_API_MAX_AUTHORIZERS,
    HTTP_API_MAX_SCOPES,
    HTTP_API_PAYLOAD_FORMAT,
)
from constructs_lib.logs import access_log_group
from constructs_lib.permissions import (
    API_GATEWAY_PRINCIPAL,
    INVOKE_ACTION,
    api_source_arn,
    api_statement_id,
)
from constructs_lib.releases import InvokeTarget
from constructs_lib.routes import Route

# One JSON line per request in the access log (HTTP API context variables).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class JwtAuthorizer:
    """API Gateway verifies the token itself: signature (from the issuer's JWKS), expiry,
    issuer and audience (`aud`, or `client_id` for Cognito access tokens)."""

    issuer: str
    audiences: Sequence[str]

    def __post_init__(self) -> None:
        if not self.issuer.startswith("https://"):
            raise ValueError(f"a JWT issuer is an https:// URL, got {self.issuer!r}")
        if not 1 <= len(self.audiences) <= HTTP_API_MAX_AUDIENCES:
            raise ValueError(f"a JWT authorizer takes 1-{HTTP_API_MAX_AUDIENCES} audiences")


@dataclass(frozen=True)
class LambdaAuthorizer:
    """A function decides (payload format 2.0, simple responses `{"isAuthorized": bool,
    "context": {...}}`); its answer is cached per identity for `result_ttl_seconds`."""

    target: InvokeTarget
    # `header.<name>` or `query.<name>` (constructs_lib.authorizers' spelling).
    identity_sources: Sequence[str] = (DEFAULT_IDENTITY_SOURCE,)
    # 0 turns caching off.
    result_ttl_seconds: int = AUTHORIZER_RESULT_TTL_DEFAULT_S

    def __post_init__(self) -> None:
        if not 0 <= self.result_ttl_seconds <= AUTHORIZER_RESULT_TTL_MAX_S:
            raise ValueError(f"result_ttl_seconds must be 0-{AUTHORIZER_RESULT_TTL_MAX_S}")
        if self.result_ttl_seconds and not self.identity_sources:
            raise ValueError("a cached Lambda authorizer needs identity sources (the cache key)")
        for source in self.identity_sources:
            http_identity_source(source)


@dataclass(frozen=True)
class HttpApiProps:
    name: str
    # At least one; each method and path once (ANY counts as every method). A route's
    # `authorization` is NONE, AWS_IAM or a key of `authorizers`; its `scopes` need a JWT one.
    routes: Sequence[Route]
    kms_key_arn: str
    throttling_rate_limit: float
    throttling_burst_limit: int
    log_retention_days: int
    # Authorizer key -> authorizer; routes refer to them by key.
    authorizers: Mapping[str, JwtAuthorizer | LambdaAuthorizer] = field(default_factory=dict)
    # None: no CORS (browsers on other origins are refused by their own same-origin rule).
    # API Gateway answers preflights itself and puts the headers on every answer (the
    # functions' own CORS headers are replaced).
    cors: CorsPolicy | None = None

    def __post_init__(self) -> None:
        if not self.routes:
            raise ValueError("an HTTP API needs at least one route")
        names = [route.name for route in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"routes repeat a method and path: {sorted(names)}")
        if len(self.authorizers) > HTTP_API_MAX_AUTHORIZERS:
            raise ValueError(f"at most {HTTP_API_MAX_AUTHORIZERS} authorizers per HTTP API")
        for route in self.routes:
            if route.authorization in BUILT_IN_AUTHORIZATIONS:
                if route.scopes:
                    raise ValueError(f"{route.name}: scopes need a JWT authorizer")
                continue
            authorizer = self.authorizers.get(route.authorization)
            if authorizer is None:
                raise ValueError(f"{route.name}: no authorizer {route.authorization!r}")
            if route.scopes and not isinstance(authorizer, JwtAuthorizer):
                raise ValueError(f"{route.name}: scopes need a JWT authorizer")
            if len(route.scopes) > HTTP_API_MAX_SCOPES:
                raise ValueError(f"{route.name}: at most {HTTP_API_MAX_SCOPES} scopes per route")


class LambdaHttpApi(Construct):
    """An HTTP API: one AWS_PROXY integration (payload 2.0) per function target, one route
    per method and path, the `$default` stage deploying every change by itself, throttled,
    with a KMS-encrypted access log and detailed (per-route) metrics for the alarms."""

    def __init__(self, scope: Construct, id: str, props: HttpApiProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.api = Apigatewayv2Api(
            self,
            "api",
            name=props.name,
            protocol_type="HTTP",
            cors_configuration=_cors_configuration(props.cors, props.routes),
        )
        # Read once: each read is a round trip to the jsii kernel, for the same reference.
        self.api_id: str = self.api.id
        self.execution_arn: str = self.api.execution_arn
        self.authorizer_ids = {
            key: self._authorizer(key, authorizer) for key, authorizer in props.authorizers.items()
        }
        integrations: dict[str, str] = {}
        for route in props.routes:
            target = route.target
            key = f"{target.function_name}:{target.qualifier}"
            if key not in integrations:
                integrations[key] = self._integration(len(integrations), target)
            self._route(route, integrations[key])
        self.stage = self._stage()

    def _integration(self, index: int, target: InvokeTarget) -> str:
        integration = Apigatewayv2Integration(
            self,
            f"integration-{index}",
            api_id=self.api_id,
            integration_type="AWS_PROXY",
            # Lambda is always invoked with a POST, whatever the client's method.
            integration_method="POST",
            integration_uri=target.invoke_arn,
            payload_format_version=HTTP_API_PAYLOAD_FORMAT,
        )
        return integration.id

    def _route(self, route: Route, integration_id: str) -> None:
        authorization_type, authorizer_id, scopes = route.authorization, None, None
        if route.authorization not in BUILT_IN_AUTHORIZATIONS:
            authorizer = self.props.authorizers[route.authorization]
            authorization_type = "JWT" if isinstance(authorizer, JwtAuthorizer) else "CUSTOM"
            authorizer_id = self.authorizer_ids[route.authorization]
            scopes = list(route.scopes) or None
        Apigatewayv2Route(
            self,
            f"route-{route.slug}",
            api_id=self.api_id,
            route_key=route.name,
            target=f"integrations/{integration_id}",
            authorization_type=authorization_type,
            authorizer_id=authorizer_id,
            authorization_scopes=scopes,
        )
        LambdaPermission(
            self,
            f"invoke-permission-{route.slug}",
            statement_id=api_statement_id(route.method, route.path),
            action=INVOKE_ACTION,
            function_name=route.target.function_name,
            qualifier=route.target.qualifier,
            principal=API_GATEWAY_PRINCIPAL,
            source_arn=api_source_arn(self.execution_arn, route.method, route.path),
        )

    def _authorizer(self, key: str, authorizer: JwtAuthorizer | LambdaAuthorizer) -> str:
        if isinstance(authorizer, JwtAuthorizer):
            return Apigatewayv2Authorizer(
                self,
                f"authorizer-{key}",
                api_id=self.api_id,
                name=key,
                authorizer_type="JWT",
                identity_sources=[http_identity_source(DEFAULT_IDENTITY_SOURCE)],
                jwt_configuration=Apigatewayv2AuthorizerJwtConfiguration(
                    issuer=authorizer.issuer, audience=list(authorizer.audiences)
                ),
            ).id
        target = authorizer.target
        created = Apigatewayv2Authorizer(
            self,
            f"authorizer-{key}",
            api_id=self.api_id,
            name=key,
            authorizer_type="REQUEST",
            authorizer_uri=target.invoke_arn,
            authorizer_payload_format_version=HTTP_API_PAYLOAD_FORMAT,
            enable_simple_responses=True,
            identity_sources=[http_identity_source(s) for s in authorizer.identity_sources],
            authorizer_result_ttl_in_seconds=authorizer.result_ttl_seconds,
        )
        LambdaPermission(
            self,
            f"authorizer-permission-{key}",
            statement_id=f"AllowApiGatewayAuthorizer-{key}",
            action=INVOKE_ACTION,
            function_name=target.function_name,
            qualifier=target.qualifier,
            principal=API_GATEWAY_PRINCIPAL,
            # This authorizer of this API only.
            source_arn=f"{self.execution_arn}/authorizers/{created.id}",
        )
        return created.id

    def _stage(self) -> Apigatewayv2Stage:
        props = self.props
        # The stage is always $default, which the log group's name leaves out.
        access_logs = access_log_group(
            self,
            api_name=props.name,
            stage_name=None,
            retention_days=props.log_retention_days,
            kms_key_arn=props.kms_key_arn,
        )
        return Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api_id,
            name=HTTP_API_DEFAULT_STAGE,
            # Every change of a route, integration or authorizer is deployed by API Gateway.
            auto_deploy=True,
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=props.throttling_rate_limit,
                throttling_burst_limit=props.throttling_burst_limit,
                # Per-route metrics: the alarms read each route's 5xx.
                detailed_metrics_enabled=True,
            ),
        )

    @cached_property
    def stage_name(self) -> str:
        """The stage's name, a reference (the alarms, the domain's API mapping)."""
        return self.stage.name

    @cached_property
    def invoke_url(self) -> str:
        """The stage's URL, without a trailing `/`: the `$default` stage serves at the root."""
        return self.api.api_endpoint

    def url_of(self, route: Route) -> str:
        return f"{self.invoke_url}{route.path}"


def _cors_configuration(
    cors: CorsPolicy | None, routes: Sequence[Route]
) -> Apigatewayv2ApiCorsConfiguration | None:
    """An HTTP API has one CORS configuration for all its paths: without methods in the
    policy, a preflight allows every method some route serves."""
    if cors is None:
        return None
    methods = cors.allow_methods or sorted(
        {WILDCARD if route.method == "ANY" else route.method for route in routes}
    )
    return Apigatewayv2ApiCorsConfiguration(
        allow_origins=list(cors.allow_origins),
        allow_methods=[WILDCARD] if WILDCARD in methods else list(methods),
        allow_headers=list(cors.allow_headers) or None,
        expose_headers=list(cors.expose_headers) or None,
        allow_credentials=cors.allow_credentials,
        max_age=cors.max_age_s,
    )


def cognito_issuer(region: str, user_pool_id: str) -> str:
    """The issuer of a Cognito user pool's tokens, what a JWT authorizer checks `iss` against."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
