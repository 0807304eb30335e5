"""A regional WAFv2 web ACL shared by the API and the ALB: a per-IP rate limit, AWS managed
rule groups and, for routes that take markup, cross-site-scripting rules scoped away from them.

Rules run in this order: the rate limit (a flood is refused before anything else inspects
it), the managed groups, then the rule that puts the Common rule set's query and path XSS
rules back in force outside the markup paths (it reads the labels those rules add, so it
must come after them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
)
from constructs import Construct

from constructs_lib.limits import (
    WAF_COMMON_RULE_SET,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
    WAF_RATE_WINDOWS_S,
    WAF_REGEX_MAX_LENGTH,
)
from constructs_lib.logs import encrypted_log_group

# The Common rule set's cross-site-scripting rules on the query string and the URI path, and
# the labels they add to a request they match (the labels' spelling differs from the rules').
MARKUP_XSS_RULES = {
    "CrossSiteScripting_QUERYARGUMENTS": (
        "awswaf:managed:aws:core-rule-set:CrossSiteScripting_QueryArguments"
    ),
    "CrossSiteScripting_URIPATH": "awswaf:managed:aws:core-rule-set:CrossSiteScripting_URIPath",
}
RATE_LIMIT_RULE = "RateLimitPerIp"
MARKUP_XSS_RULE = "CrossSiteScriptingOutsideMarkupPaths"


@dataclass(frozen=True)
class RateLimit:
    """Requests one client IP may send in `window_s` seconds; beyond that WAF answers 403
    until its rate drops below the limit."""

    requests: int
    window_s: int

    def __post_init__(self) -> None:
        if not WAF_RATE_LIMIT_MIN <= self.requests <= WAF_RATE_LIMIT_MAX:
            raise ValueError(
                f"rate limit must be between {WAF_RATE_LIMIT_MIN} and {WAF_RATE_LIMIT_MAX} "
                f"requests, got {self.requests}"
            )
        if self.window_s not in WAF_RATE_WINDOWS_S:
            raise ValueError(
                f"rate limit window must be one of {WAF_RATE_WINDOWS_S} s, got {self.window_s}"
            )


@dataclass(frozen=True)
class WebFirewallProps:
    name: str
    log_retention_days: int
    kms_key_arn: str
    # AWS managed rule groups (vendor AWS), evaluated in this order.
    managed_rule_groups: Sequence[str]
    # Group -> rules of it whose action is overridden to count (logged, never blocking).
    count_rules: Mapping[str, Sequence[str]]
    rate_limit: RateLimit
    # A regular expression of the URI paths that take markup (e.g. an HTML escaper): there
    # the Common rule set's XSS rules on the query and the path only count; everywhere else
    # a rule after the group blocks what they matched. None: they block everywhere.
    markup_path_regex: str | None = None

    def __post_init__(self) -> None:
        regex = self.markup_path_regex
        if regex is None:
            return
        if WAF_COMMON_RULE_SET not in self.managed_rule_groups:
            raise ValueError(f"markup_path_regex scopes {WAF_COMMON_RULE_SET}, which is not used")
        if not 1 <= len(regex) <= WAF_REGEX_MAX_LENGTH:
            raise ValueError(
                f"markup_path_regex must be 1-{WAF_REGEX_MAX_LENGTH} characters, got {len(regex)}"
            )


class WebFirewall(Construct):
    def __init__(self, scope: Construct, id: str, props: WebFirewallProps) -> None:
        super().__init__(scope, id)
        self.web_acl = Wafv2WebAcl(
            self,
            "web-acl",
            name=props.name,
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=_rules(props),
            visibility_config=Wafv2WebAclVisibilityConfig(**_visibility(props.name)),
        )
        # Read once for the logging and every association: each read is a round trip to the
        # jsii kernel, for the same reference.
        self.web_acl_arn: str = self.web_acl.arn
        # WAF only logs to groups whose name starts with "aws-waf-logs-".
        log_group = encrypted_log_group(
            self,
            "log-group",
            name=f"aws-waf-logs-{props.name}",
            retention_days=props.log_retention_days,
            kms_key_arn=props.kms_key_arn,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl_arn,
            log_destination_configs=[log_group.arn],
        )

    def protect(self, id: str, resource_arn: str) -> None:
        """Associate the web ACL with a load balancer or an API Gateway stage."""
        Wafv2WebAclAssociation(self, id, resource_arn=resource_arn, web_acl_arn=self.web_acl_arn)


class _Visibility(TypedDict):
    cloudwatch_metrics_enabled: bool
    metric_name: str
    sampled_requests_enabled: bool


def _visibility(metric_name: str) -> _Visibility:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric_name,
        "sampled_requests_enabled": True,
    }


def _rules(props: WebFirewallProps) -> list[Wafv2WebAclRule]:
    rules = [_rate_limit_rule(props.rate_limit)]
    for group in props.managed_rule_groups:
        counted = list(props.count_rules.get(group, ()))
        if group == WAF_COMMON_RULE_SET and props.markup_path_regex is not None:
            counted += [rule for rule in MARKUP_XSS_RULES if rule not in counted]
        rules.append(_managed_rule(group, len(rules), counted))
    if props.markup_path_regex is not None:
        rules.append(_markup_xss_rule(props.markup_path_regex, len(rules)))
    return rules


def _blocking_rule(name: str, priority: int, statement: dict[str, object]) -> Wafv2WebAclRule:
    return Wafv2WebAclRule(
        name=name,
        priority=priority,
        action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
        statement=[statement],
        visibility_config=Wafv2WebAclRuleVisibilityConfig(**_visibility(name)),
    )


def _rate_limit_rule(limit: RateLimit) -> Wafv2WebAclRule:
    """Per client IP: the address the request came from (not X-Forwarded-For, which a
    client can write)."""
    return _blocking_rule(
        RATE_LIMIT_RULE,
        0,
        {
            "rate_based_statement": [
                {
                    "limit": limit.requests,
                    "evaluation_window_sec": limit.window_s,
                    "aggregate_key_type": "IP",
                }
            ]
        },
    )


def _markup_xss_rule(path_regex: str, priority: int) -> Wafv2WebAclRule:
    """Block what the counted XSS rules matched, unless the path is a markup path."""
    labels = [
        {"label_match_statement": [{"scope": "LABEL", "key": label}]}
        for label in MARKUP_XSS_RULES.values()
    ]
    markup_path = {
        "regex_match_statement": [
            {
                "regex_string": path_regex,
                "field_to_match": [{"uri_path": [{}]}],
                "text_transformation": [{"priority": 0, "type": "NONE"}],
            }
        ]
    }
    return _blocking_rule(
        MARKUP_XSS_RULE,
        priority,
        {
            "and_statement": [
                {
                    "statement": [
                        {"or_statement": [{"statement": labels}]},
                        {"not_statement": [{"statement": [markup_path]}]},
                    ]
                }
            ]
        },
    )


def _managed_rule(group: str, priority: int, counted: Sequence[str]) -> Wafv2WebAclRule:
    """Run an AWS managed rule group with its own actions (override "none"), except the
    `counted` rules, which only count."""
    statement: dict[str, object] = {"name": group, "vendor_name": "AWS"}
    if counted:
        statement["rule_action_override"] = [
            {"name": rule, "action_to_use": [{"count": [{}]}]} for rule in counted
        ]
    return Wafv2WebAclRule(
        name=group,
        priority=priority,
        override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
        statement=[{"managed_rule_group_statement": [statement]}],
        visibility_config=Wafv2WebAclRuleVisibilityConfig(**_visibility(group)),
    )
