import pytest

from constructs_lib.waf import RateLimit, WebFirewall, WebFirewallProps
from tests.support import TEST_KEY_ARN, env_config, only, ref, resources, synth_construct

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAnonymousIpList",
)
COUNT_RULES = {"AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",)}
RATE_LIMIT = RateLimit(requests=500, window_s=120)
MARKUP_LABELS = [
    "awswaf:managed:aws:core-rule-set:CrossSiteScripting_QueryArguments",
    "awswaf:managed:aws:core-rule-set:CrossSiteScripting_URIPath",
]


def firewall_props(**overrides) -> WebFirewallProps:
    values = {
        "name": "dev",
        "log_retention_days": 365,
        "kms_key_arn": TEST_KEY_ARN,
        "managed_rule_groups": MANAGED_RULE_GROUPS,
        "count_rules": COUNT_RULES,
        "rate_limit": RATE_LIMIT,
        **overrides,
    }
    return WebFirewallProps(**values)


def synth_firewall(**overrides) -> dict:
    return synth_construct(lambda stack: WebFirewall(stack, "waf", firewall_props(**overrides)))


def rules(synthesized: dict) -> list[dict]:
    return sorted(only(synthesized, "aws_wafv2_web_acl")["rule"], key=lambda r: r["priority"])


@pytest.fixture(scope="module")
def synthesized() -> dict:
    def build(stack):
        firewall = WebFirewall(stack, "waf", firewall_props())
        firewall.protect("alb", "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y")

    return synth_construct(build)


def test_regional_acl_runs_managed_rule_groups_including_log4j(synthesized):
    acl = only(synthesized, "aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL"
    names = [
        r["statement"][0]["managed_rule_group_statement"][0]["name"]
        for r in rules(synthesized)
        if "managed_rule_group_statement" in r["statement"][0]
    ]
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
    return {
        rule["name"]: rule["statement"][0]["managed_rule_group_statement"][0].get(
            "rule_action_override", []
        )
        for rule in rules(synthesized)
        if "managed_rule_group_statement" in rule["statement"][0]
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
    overrides = rule_overrides(
        synth_firewall(
            managed_rule_groups=("AWSManagedRulesCommonRuleSet",),
            count_rules={"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)},
        )
    )
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


def test_a_per_ip_rate_limit_comes_first(synthesized):
    """Before the managed groups: a flood is refused before anything inspects it."""
    first = rules(synthesized)[0]
    assert (first["name"], first["priority"]) == ("RateLimitPerIp", 0)
    assert first["action"] == {"block": {}}
    assert first["statement"] == [
        {
            "rate_based_statement": [
                # The address the request came from; X-Forwarded-For could be forged.
                {"limit": 500, "evaluation_window_sec": 120, "aggregate_key_type": "IP"}
            ]
        }
    ]
    assert first["visibility_config"]["metric_name"] == "RateLimitPerIp"
    assert [r["priority"] for r in rules(synthesized)] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("requests", "window_s", "message"),
    [
        (9, 300, "between 10 and 2000000000"),
        (2_000_000_001, 300, "between 10 and 2000000000"),
        (100, 30, "window must be one of"),
    ],
)
def test_rate_limit_is_bounded_by_wafs_limits(requests, window_s, message):
    with pytest.raises(ValueError, match=message):
        RateLimit(requests, window_s)


MARKUP = "^(?:/dev)?(?:/escape|/escape/[^/]+)$"


def test_markup_paths_let_the_xss_rules_only_count_there():
    synthesized = synth_firewall(markup_path_regex=MARKUP)
    overrides = rule_overrides(synthesized)["AWSManagedRulesCommonRuleSet"]
    assert overrides == [
        {"name": "CrossSiteScripting_QUERYARGUMENTS", "action_to_use": [{"count": [{}]}]},
        {"name": "CrossSiteScripting_URIPATH", "action_to_use": [{"count": [{}]}]},
    ]
    # After the groups (it reads the labels the counted rules add): everything they matched
    # outside the markup paths is blocked as before.
    last = rules(synthesized)[-1]
    assert (last["name"], last["priority"]) == ("CrossSiteScriptingOutsideMarkupPaths", 4)
    assert last["action"] == {"block": {}}
    [statement] = last["statement"]
    [labels, outside] = statement["and_statement"][0]["statement"]
    assert [s["label_match_statement"][0] for s in labels["or_statement"][0]["statement"]] == [
        {"scope": "LABEL", "key": label} for label in MARKUP_LABELS
    ]
    [path] = outside["not_statement"][0]["statement"]
    assert path["regex_match_statement"] == [
        {
            "regex_string": MARKUP,
            "field_to_match": [{"uri_path": [{}]}],
            "text_transformation": [{"priority": 0, "type": "NONE"}],
        }
    ]


def test_without_markup_paths_the_xss_rules_block_everywhere(synthesized):
    assert rule_overrides(synthesized)["AWSManagedRulesCommonRuleSet"] == []
    assert "CrossSiteScriptingOutsideMarkupPaths" not in {r["name"] for r in rules(synthesized)}


def test_markup_paths_keep_the_groups_own_count_rules():
    synthesized = synth_firewall(
        markup_path_regex=MARKUP,
        count_rules={"AWSManagedRulesCommonRuleSet": ("CrossSiteScripting_URIPATH",)},
    )
    counted = [o["name"] for o in rule_overrides(synthesized)["AWSManagedRulesCommonRuleSet"]]
    assert counted == ["CrossSiteScripting_URIPATH", "CrossSiteScripting_QUERYARGUMENTS"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "markup_path_regex": MARKUP,
                "managed_rule_groups": ("AWSManagedRulesAnonymousIpList",),
            },
            "AWSManagedRulesCommonRuleSet, which is not used",
        ),
        ({"markup_path_regex": "^/" + "a" * 511 + "$"}, "1-512 characters"),
    ],
)
def test_markup_paths_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        firewall_props(**overrides)


def test_shipped_dev_lets_the_escape_example_take_markup(stacks):
    markup = [
        r for r in only(stacks["dev"], "aws_wafv2_web_acl")["rule"]
        if r["name"] == "CrossSiteScriptingOutsideMarkupPaths"
    ]  # fmt: skip
    [rule] = markup
    [_, outside] = rule["statement"][0]["and_statement"][0]["statement"]
    regex = outside["not_statement"][0]["statement"][0]["regex_match_statement"][0]
    assert regex["regex_string"] == "^(?:/dev)?(?:/escape|/escape/[^/]+)$"
    assert env_config("dev").waf.markup_paths == ["/escape", "/escape/{name}"]
    prod = {r["name"] for r in only(stacks["prod"], "aws_wafv2_web_acl")["rule"]}
    assert "CrossSiteScriptingOutsideMarkupPaths" not in prod


def test_shipped_rate_limit(stack):
    [rate] = [r for r in only(stack, "aws_wafv2_web_acl")["rule"] if r["name"] == "RateLimitPerIp"]
    assert rate["statement"][0]["rate_based_statement"][0] == {
        "limit": 2000,
        "evaluation_window_sec": 300,
        "aggregate_key_type": "IP",
    }
