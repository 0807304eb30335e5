"""The stack's API (REST or HTTP, with its authorizers) and its custom domain, which may also
name the load balancer. Functions taking the stack, which stays the scope of every construct
made here: the Terraform addresses are those of the stack's own constructs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.api_account import ApiLoggingRoleCheck
from constructs_lib.apigw import (
    FunctionAuthorizer,
    LambdaRestApi,
    RestApiProps,
    RestAuthorizer,
    UserPoolAuthorizer,
)
from constructs_lib.domain import AliasTarget, ApiDomain, ApiDomainProps
from constructs_lib.http_api import HttpApiProps, JwtAuthorizer, LambdaAuthorizer, LambdaHttpApi
from serverless_app.config.access import cors_policy

if TYPE_CHECKING:
    from serverless_app.stack import ServerlessStack

# The plan's advice when the region has no API Gateway logging role from the bootstrap stack.
API_LOGGING_REMEDY = (
    "Add the region to api_logging_regions in the bootstrap configuration "
    "(config/bootstrap/state.toml) and apply the bootstrap stack first (docs/remote-state.md)."
)


def build_api(stack: ServerlessStack) -> LambdaRestApi | LambdaHttpApi:
    config = stack.config
    api = config.api
    cors = cors_policy(api.cors) if api.cors is not None else None
    if api.type == "http":
        return LambdaHttpApi(
            stack,
            "http-api",
            HttpApiProps(
                name=api.name,
                routes=stack.routes,
                kms_key_arn=stack.key.key_arn,
                throttling_rate_limit=api.throttling_rate_limit,
                throttling_burst_limit=api.throttling_burst_limit,
                log_retention_days=config.logs.retention_days,
                authorizers=_http_authorizers(stack),
                cors=cors,
            ),
        )
    rest = LambdaRestApi(
        stack,
        "api",
        RestApiProps(
            name=api.name,
            stage_name=api.stage_name,
            routes=stack.routes,
            kms_key_arn=stack.key.key_arn,
            throttling_rate_limit=api.throttling_rate_limit,
            throttling_burst_limit=api.throttling_burst_limit,
            logging_level=api.logging_level,
            log_retention_days=config.logs.retention_days,
            authorizers=_rest_authorizers(stack),
            cors=cors,
        ),
    )
    # The stage always logs (access logs): the region needs the account's logging role.
    # (An HTTP API delivers its access log without it.)
    ApiLoggingRoleCheck(stack, "api-logging-role", region=config.region, remedy=API_LOGGING_REMEDY)
    return rest


def _http_authorizers(stack: ServerlessStack) -> dict[str, JwtAuthorizer | LambdaAuthorizer]:
    """A JWT authorizer per `jwt` authorizer and per `cognito` one (its user pool issues
    the tokens, its app client is the audience), a Lambda authorizer invoking the `live`
    alias per `lambda` one."""
    authorizers: dict[str, JwtAuthorizer | LambdaAuthorizer] = {}
    for key, authorizer in stack.config.authorizers.items():
        if authorizer.type == "cognito":
            pool = stack.user_pools[key]
            authorizers[key] = JwtAuthorizer(pool.issuer, (pool.client_id,))
        elif authorizer.type == "jwt" and authorizer.issuer and authorizer.audiences:
            authorizers[key] = JwtAuthorizer(authorizer.issuer, tuple(authorizer.audiences))
        elif authorizer.function is not None:
            authorizers[key] = LambdaAuthorizer(
                stack.functions[authorizer.function].alias.target,
                tuple(authorizer.identity_sources),
                authorizer.result_ttl_seconds,
            )
    return authorizers


def _rest_authorizers(stack: ServerlessStack) -> list[RestAuthorizer]:
    """A user pool authorizer per `cognito` authorizer, a request authorizer invoking the
    `live` alias per `lambda` one (`jwt` is refused for REST by the check)."""
    authorizers: list[RestAuthorizer] = []
    for key, authorizer in stack.config.authorizers.items():
        if authorizer.type == "cognito":
            authorizers.append(UserPoolAuthorizer(key, [stack.user_pools[key].arn]))
        elif authorizer.function is not None:
            authorizers.append(
                FunctionAuthorizer(
                    key,
                    stack.functions[authorizer.function].alias.target,
                    tuple(authorizer.identity_sources),
                    authorizer.result_ttl_seconds,
                )
            )
    return authorizers


def build_domain(stack: ServerlessStack) -> ApiDomain | None:
    """The API's name and, unless the load balancer has a certificate of its own, the load
    balancer's as a second name on the same certificate."""
    domain = stack.config.domain
    if domain is None:
        return None
    alternative_names = [] if _own_certificate(stack) else [domain.load_balancer_host]
    return ApiDomain(
        stack,
        "domain",
        stack.api,
        ApiDomainProps(
            domain_name=domain.name,
            hosted_zone_id=domain.hosted_zone_id,
            alternative_names=alternative_names,
        ),
    )


def _own_certificate(stack: ServerlessStack) -> bool:
    return stack.config.load_balancer.certificate_arn is not None


def point_domain_at_load_balancer(stack: ServerlessStack) -> str | None:
    """The load balancer's host name on the domain's certificate, pointed at it: HTTPS
    clients then find a certificate naming the host they asked for."""
    domain = stack.config.domain
    if stack.domain is None or domain is None or _own_certificate(stack):
        return None
    host = domain.load_balancer_host
    load_balancer = stack.load_balancer
    stack.domain.point(
        "load-balancer-record",
        host,
        AliasTarget(load_balancer.dns_name, load_balancer.zone_id),
    )
    return host
