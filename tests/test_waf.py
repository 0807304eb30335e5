import pytest

from constructs_lib.waf import WebFirewall, WebFirewallProps
from tests.support import TEST_KEY_ARN, only, ref, resources, synth_construct

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAnonymousIpList",
)
COUNT_RULES = {"AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",)}


@pytest.fixture(scope="module")
def synthesized() -> dict:
    def build(stack):
        props = WebFirewallProps("dev", 365, TEST_KEY_ARN, MANAGED_RULE_GROUPS, COUNT_RULES)
        firewall = WebFirewall(stack, "waf", props)
        firewall.protect("alb", "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y")

    return synth_construct(build)


def test_regional_acl_runs_managed_rule_groups_including_log4j(synthesized):
    acl = only(synthesized, "aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL"
    names = [r["statement"][0]["managed_rule_group_statement"][0]["name"] for r in acl["rule"]]
    assert names == list(MANAGED_RULE_GROUPS)
    assert "AWSManagedRulesKnownBadInputsRuleSet" in names


def test_acl_logs_to_an_encrypted_aws_waf_logs_group(synthesized):
    group = only(synthesized, "aws_cloudwatch_log_group")
    assert group["name"] == "aws-waf-logs-dev"
    assert group["kms_key_id"] == TEST_KEY_ARN
    logging = only(synthesized, "aws_wafv2_web_acl_logging_configuration")
    assert logging["log_destination_configs"] == [
        ref(synthesized, "aws_cloudwatch_log_group", "waf", "arn")
    ]


def test_protect_associates_the_acl(synthesized):
    [association] = resources(synthesized, "aws_wafv2_web_acl_association").values()
    assert association["web_acl_arn"] == ref(synthesized, "aws_wafv2_web_acl", "waf", "arn")


def rule_overrides(synthesized: dict) -> dict[str, list[dict]]:
    acl = only(synthesized, "aws_wafv2_web_acl")
    return {
        rule["name"]: rule["statement"][0]["managed_rule_group_statement"][0].get(
            "rule_action_override", []
        )
        for rule in acl["rule"]
    }


def test_count_rules_override_the_action_to_count(synthesized):
    """Blocking them would lock out EC2, CloudShell and CI runners calling the API."""
    assert rule_overrides(synthesized) == {
        "AWSManagedRulesCommonRuleSet": [],
        "AWSManagedRulesKnownBadInputsRuleSet": [],
        "AWSManagedRulesAnonymousIpList": [
            {"name": "HostingProviderIPList", "action_to_use": [{"count": [{}]}]}
        ],
    }


def test_rule_groups_and_count_overrides_come_from_props():
    def build(stack):
        WebFirewall(
            stack,
            "waf",
            WebFirewallProps(
                "dev",
                365,
                TEST_KEY_ARN,
                managed_rule_groups=("AWSManagedRulesCommonRuleSet",),
                count_rules={"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)},
            ),
        )

    overrides = rule_overrides(synth_construct(build))
    assert overrides == {
        "AWSManagedRulesCommonRuleSet": [
            {"name": "SizeRestrictions_BODY", "action_to_use": [{"count": [{}]}]}
        ]
    }


def test_shipped_environments_count_hosting_provider_ips(stack):
    overrides = rule_overrides(stack)
    assert [o["name"] for o in overrides["AWSManagedRulesAnonymousIpList"]] == [
        "HostingProviderIPList"
    ]
