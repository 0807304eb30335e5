"""What faces the internet: `[load_balancer]`, `[api]`, `[waf]` and `[domain]`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, ValidationError

from constructs_lib.limits import (
    API_NAME_MAX,
    WAF_COMMON_RULE_SET,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
    WAF_RATE_WINDOWS_S,
    WAF_REGEX_MAX_LENGTH,
)
from constructs_lib.names import access_log_bucket_prefix
from serverless_app.config.access import CorsConfig
from serverless_app.config.aws_facts import (
    API_MAX_BURST_LIMIT,
    API_MAX_RATE_LIMIT,
    WAF_MAX_RULE_OVERRIDES,
)
from serverless_app.config.base import StrictModel, is_valid, rule
from serverless_app.config.problems import Problem
from serverless_app.config.rules import (
    ApiName,
    ApiStageName,
    CertificateArn,
    DomainName,
    HostedZoneId,
    LoadBalancerName,
    RoutePath,
    S3BucketPrefix,
    SslPolicy,
    WafGroup,
    WafName,
    one_of,
)


class LoadBalancerConfig(StrictModel):
    name: LoadBalancerName = Field(
        description=(
            "1-30 lowercase letters, digits or hyphens, not starting or ending with a hyphen, not "
            "starting with `internal-` (each function's target group `<name>-<function key>` "
            "must fit 32; the name also prefixes the access-log bucket, `<name>-logs-`, which "
            "must pass S3's rules: no `xn--`, `sthree-`, `amzn-s3-demo-`); unique"
        ),
        json_schema_extra={"default_text": "`<project>-<env>`"},
    )
    # With a certificate: HTTPS on 443 and a redirect from 80. Without: plain HTTP on 80,
    # a documented choice for environments without a domain (see docs/security.md).
    certificate_arn: CertificateArn | None = Field(
        default=None,
        description=(
            "ACM certificate ARN (`arn:aws:acm:REGION:ACCOUNT:certificate/ID`) in `region` and "
            "its partition (`aws`, `aws-cn`, `aws-us-gov`); enables HTTPS on 443 and a redirect "
            "from 80"
        ),
        json_schema_extra={"default_text": "unset: plain HTTP on 80"},
    )
    ssl_policy: SslPolicy = Field(
        default="ELBSecurityPolicy-TLS13-1-2-2021-06",
        description=(
            "an existing ALB security policy (static list in "
            "`serverless_app/config/aws_facts.py`); only with `certificate_arn`"
        ),
    )
    deletion_protection: bool = Field(default=False, description="")
    access_logs: bool = Field(
        default=True, description="access logs to an SSE-S3 bucket `<name>-logs-...`"
    )
    # Access logs are disposable; S3 sets no maximum, 3653 days (10 years) is a sanity bound.
    access_log_expiration_days: Annotated[int, Field(ge=1, le=3653)] = Field(
        default=90,
        description=(
            "S3 sets no maximum; 10 years is a sanity bound: current log objects expire after "
            "this many days, then as noncurrent versions"
        ),
    )

    @rule("ssl_policy", "certificate_arn")
    def _policy_needs_certificate(self) -> Iterator[Problem]:
        if "ssl_policy" in self.model_fields_set and self.certificate_arn is None:
            yield Problem(
                ("ssl_policy",), "only used with certificate_arn (HTTPS)", self.ssl_policy
            )

    @rule("access_logs", "name")
    def _access_log_bucket_name(self) -> Iterator[Problem]:
        if not self.access_logs:
            return
        prefix = access_log_bucket_prefix(self.name)
        reason = bucket_prefix_problem(prefix)
        if reason is not None:
            message = f"its access-log bucket prefix {prefix!r} {reason}; choose another name"
            yield Problem(("name",), message, self.name)


# The rule a derived bucket prefix must pass, like a prefix written in the file.
_S3_BUCKET_PREFIX = TypeAdapter(S3BucketPrefix)


def bucket_prefix_problem(prefix: str) -> str | None:
    """Why S3 would refuse a bucket named `prefix` plus Terraform's suffix, or None."""
    try:
        _S3_BUCKET_PREFIX.validate_python(prefix, strict=True)
    except ValidationError as error:
        return str(error.errors()[0]["ctx"]["error"])
    return None


_DOMAIN_NAME = TypeAdapter(DomainName)


ApiLoggingLevel = Literal["OFF", "ERROR", "INFO"]
ApiType = Literal["rest", "http"]


class ApiConfig(StrictModel):
    type: ApiType = Field(
        default="rest",
        description=(
            "`rest`: API Gateway's REST API (WAF, execution logs, request validation); `http`: "
            "an HTTP API (API Gateway v2: about a third of the price per request, JWT "
            "authorizers built in, no WAF: docs/functions.md compares them)"
        ),
    )
    name: ApiName = Field(
        description=(
            f"1-{API_NAME_MAX} letters, digits, `.`, `-` or `_` (the name is part of a log group "
            "name and of its latency alarm's, which CloudWatch limits to 255)"
        ),
        json_schema_extra={"default_text": "`<project>-<env>`"},
    )
    stage_name: ApiStageName = Field(
        description=(
            "1-128 letters, digits, `-` or `_`; REST only: an HTTP API serves its `$default` "
            "stage at the URL's root"
        ),
        json_schema_extra={"default_text": "`<env>`"},
    )
    throttling_rate_limit: Annotated[float, Field(gt=0, le=API_MAX_RATE_LIMIT)] = Field(
        default=50, description="requests per second (the account's default limit), finite"
    )
    throttling_burst_limit: Annotated[int, Field(ge=1, le=API_MAX_BURST_LIMIT)] = Field(
        default=100, description="the account's default burst"
    )
    logging_level: ApiLoggingLevel = Field(
        default="ERROR",
        description=(
            'the REST stage\'s execution logs; only with `type = "rest"`: an HTTP API has '
            "none (its access log records every request either way)"
        ),
    )

    cors: CorsConfig | None = Field(
        default=None,
        description=(
            "browsers on other origins may call the API: preflights answered by the API itself, "
            "the headers on its own errors, and the policy in each routed function's "
            "`CORS_POLICY` variable for its answers (docs/functions.md)"
        ),
        json_schema_extra={"type_text": "table", "default_text": "unset: no CORS"},
    )

    @rule("logging_level", "type")
    def _execution_logs_are_rest_only(self) -> Iterator[Problem]:
        if self.type == "http" and "logging_level" in self.model_fields_set:
            message = (
                "an HTTP API writes no execution logs, only the access log (which it always "
                'writes): remove logging_level or use type = "rest"'
            )
            yield Problem(("logging_level",), message, self.logging_level)


class WafConfig(StrictModel):
    # AWS managed rule groups (vendor AWS), evaluated in this order.
    managed_rule_groups: Annotated[list[WafGroup], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAnonymousIpList",
        ],
        description=(
            "AWS managed rule group names (vendor AWS, 1-128 letters, digits, `-`, `_`; not the "
            "ones that need a ManagedRuleGroupConfig: ATP, ACFP, Bot Control, Anti-DDoS), "
            "evaluated in this order: common exploits, known bad inputs (Log4Shell), anonymizing "
            "services"
        ),
    )
    # Group -> rules that only count (log) instead of blocking. HostingProviderIPList blocks
    # every request from EC2, CloudShell and CI runners: counted unless configured otherwise.
    count_rules: dict[
        WafName, Annotated[list[WafName], Field(max_length=WAF_MAX_RULE_OVERRIDES)]
    ] = Field(
        default_factory=lambda: {"AWSManagedRulesAnonymousIpList": ["HostingProviderIPList"]},
        description=(
            "rules that only count (`rule_action_override` count) instead of blocking; groups "
            "must be in `managed_rule_groups`; at most 100 rules per group. HostingProviderIPList "
            "would block EC2, CloudShell and CI runners"
        ),
        json_schema_extra={"type_text": "table: group = list of rule names"},
    )

    rate_limit: Annotated[int, Field(ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX)] = Field(
        default=2000,
        description=(
            "WAF's limits; requests one client IP may send per `rate_limit_window_s` to the "
            "load balancer and the REST API together (the web ACL is shared; an HTTP API is "
            "not behind WAF); above it WAF answers 403 until the rate drops"
        ),
    )
    rate_limit_window_s: Annotated[int, one_of(WAF_RATE_WINDOWS_S, "a WAF evaluation window")] = (
        Field(
            default=300,
            description=(
                "the window WAF counts `rate_limit` in: one of "
                f"{', '.join(map(str, WAF_RATE_WINDOWS_S))} seconds"
            ),
        )
    )
    markup_paths: list[RoutePath] = Field(
        default_factory=list,
        description=(
            "route paths that take markup in the query or the path (e.g. an HTML escaper): "
            "there AWSManagedRulesCommonRuleSet's CrossSiteScripting_QUERYARGUMENTS and "
            "_URIPATH only count, everywhere else a rule after the group blocks what they "
            'matched. Each a `routes[].path` of this file (with `api.type = "http"`, of a load '
            "balancer route: WAF cannot attach to an HTTP API); needs "
            "AWSManagedRulesCommonRuleSet; the path pattern WAF matches (with the optional "
            f"stage prefix) at most {WAF_REGEX_MAX_LENGTH} characters"
        ),
    )

    @rule("count_rules", "managed_rule_groups")
    def _counted_groups_are_used(self) -> Iterator[Problem]:
        for group in self.count_rules:
            if group not in self.managed_rule_groups:
                yield Problem(("count_rules", group), "not in managed_rule_groups", group)

    @rule("markup_paths", "managed_rule_groups")
    def _markup_needs_the_common_rule_set(self) -> Iterator[Problem]:
        if self.markup_paths and WAF_COMMON_RULE_SET not in self.managed_rule_groups:
            message = f"scopes {WAF_COMMON_RULE_SET}'s XSS rules: add it to managed_rule_groups"
            yield Problem(("markup_paths",), message, self.markup_paths)


class DomainConfig(StrictModel):
    """A custom domain for the API (and the load balancer's certificate)."""

    name: DomainName = Field(
        description=(
            "the API's host name, e.g. `api.example.com`: an ACM certificate (DNS-validated) and "
            "an A alias record are created; unless `load_balancer.certificate_arn` is set, the "
            "load balancer's HTTPS listener serves the same certificate, which also names "
            "`load_balancer_name`"
        )
    )
    hosted_zone_id: HostedZoneId = Field(
        description="the existing Route 53 public hosted zone holding `name`"
    )
    load_balancer_name: DomainName | None = Field(
        default=None,
        description=(
            "the load balancer's host name: a second name on the certificate and an A alias "
            "record to the load balancer, so HTTPS clients find a certificate that names it; "
            "in the same hosted zone, not `name`; only without "
            "`load_balancer.certificate_arn`; unique"
        ),
        json_schema_extra={"default_text": "`alb.<name>`"},
    )

    @rule("load_balancer_name", "name")
    def _load_balancer_name(self) -> Iterator[Problem]:
        host = self.load_balancer_host
        if self.load_balancer_name is None and not is_valid(_DOMAIN_NAME, host):
            message = "the default alb.<name> is longer than a host name may be: set one"
            yield Problem(("load_balancer_name",), message, host)
        elif host == self.name:
            yield Problem(("load_balancer_name",), "must differ from name (the API's)", host)

    @property
    def load_balancer_host(self) -> str:
        return self.load_balancer_name or f"alb.{self.name}"
