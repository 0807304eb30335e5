import pytest

from constructs_lib.waf import MANAGED_RULE_GROUPS, WebFirewall, WebFirewallProps
from tests.support import TEST_KEY_ARN, only, ref, resources, synth_construct


@pytest.fixture(scope="module")
def synthesized() -> dict:
    def build(stack):
        firewall = WebFirewall(stack, "waf", WebFirewallProps("dev", 365, TEST_KEY_ARN))
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
