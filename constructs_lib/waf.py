"""A regional WAFv2 web ACL with AWS managed rule groups, shared by the API and the ALB."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
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

from constructs_lib.logs import encrypted_log_group


@dataclass(frozen=True)
class WebFirewallProps:
    name: str
    log_retention_days: int
    kms_key_arn: str
    # AWS managed rule groups (vendor AWS), evaluated in this order.
    managed_rule_groups: Sequence[str]
    # Group -> rules of it whose action is overridden to count (logged, never blocking).
    count_rules: Mapping[str, Sequence[str]]


class WebFirewall(Construct):
    def __init__(self, scope: Construct, id: str, props: WebFirewallProps) -> None:
        super().__init__(scope, id)
        self.web_acl = Wafv2WebAcl(
            self,
            "web-acl",
            name=props.name,
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[
                _managed_rule(group, priority, props.count_rules.get(group, ()))
                for priority, group in enumerate(props.managed_rule_groups)
            ],
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
