"""`serverless_app.prices`: the always-on monthly cost floor, counted from a stack's JSON."""

import re

import pytest

from serverless_app.prices import cost_floor
from tests.support import REPO_ROOT


def subnets(count):
    return [f"${{aws_subnet.s{index}.id}}" for index in range(count)]


# A small stack with one or more of everything that is billed while idle, and things that
# are free (a gateway endpoint, an internal load balancer's addresses, a log group).
FIXTURE = {
    "resource": {
        "aws_nat_gateway": {"nat": {"subnet_id": "${aws_subnet.s0.id}"}},
        "aws_eip": {"nat": {"domain": "vpc"}},
        "aws_lb": {
            "public": {"internal": False, "subnets": subnets(2)},
            "private": {"internal": True, "subnets": subnets(3)},
        },
        "aws_wafv2_web_acl": {"acl": {"rule": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}},
        "aws_vpc_endpoint": {
            "ssm": {"vpc_endpoint_type": "Interface", "subnet_ids": subnets(2)},
            "s3": {"vpc_endpoint_type": "Gateway"},
        },
        "aws_kms_key": {"key": {}},
        "aws_cloudwatch_metric_alarm": {f"alarm-{index}": {} for index in range(4)},
        "aws_cloudwatch_dashboard": {"board": {}},
        "aws_cloudwatch_log_group": {"logs": {}},
    }
}


def test_fixture_stack_floor_counts_every_priced_item():
    # 32.85 + 3 x 3.65 + 2 x 16.425 + 5 + 3 x 1 + 2 x 7.30 + 1 + 4 x 0.10 + 3 = 103.65
    assert cost_floor(FIXTURE, "us-east-1").describe() == (
        "$103.65/month always on, priced for us-east-1 on 2026-12-06; usage is extra: "
        "NAT gateways 1 x $32.85, public IPv4 3 x $3.65, load balancers 2 x $16.43, "
        "web ACLs 1 x $5.00, WAF rules 3 x $1.00, interface endpoint AZs 2 x $7.30, "
        "KMS keys 1 x $1.00, alarms 4 x $0.10, dashboards 1 x $3.00"
    )


@pytest.mark.parametrize(
    ("resources", "month"),
    [
        ({}, "$0.00"),
        (
            {
                "aws_nat_gateway": {"a": {}, "b": {}, "c": {}},
                "aws_eip": {"a": {}, "b": {}, "c": {}},
            },
            "$109.50",
        ),
        ({"aws_lb": {"alb": {"subnets": subnets(2)}}}, "$23.73"),  # 16.425 + 2 x 3.65
        (
            {
                "aws_vpc_endpoint": {
                    "e": {"vpc_endpoint_type": "Interface", "subnet_ids": subnets(3)}
                }
            },
            "$21.90",
        ),
        ({"aws_wafv2_web_acl": {"acl": {}}}, "$5.00"),
        ({"aws_cloudwatch_metric_alarm": {f"a{i}": {} for i in range(25)}}, "$2.50"),
    ],
)
def test_floor_follows_what_the_stack_contains(resources, month):
    assert (
        cost_floor({"resource": resources}, "us-east-1")
        .describe()
        .startswith(f"{month}/month always on")
    )


def test_nothing_priced_says_so():
    assert cost_floor({"resource": {"aws_s3_bucket": {"b": {}}}}, "us-east-1").describe() == (
        "$0.00/month always on, priced for us-east-1 on 2026-12-06; usage is extra: "
        "nothing always on"
    )


def test_a_stack_elsewhere_is_told_the_prices_are_for_us_east_1():
    described = cost_floor(FIXTURE, "eu-west-1").describe()
    assert described.startswith(
        "$103.65/month always on, priced for us-east-1 (stack in eu-west-1)"
    )


def test_docs_state_the_floor_of_the_shipped_stacks(stacks):
    page = (REPO_ROOT / "docs" / "stack.md").read_text()
    stated = re.search(r"always-on floor they leave[^$]*dev (\$[\d.]+) and\s+prod (\$[\d.]+)", page)
    assert stated, "the Cost defaults section no longer states the floor"
    for env, amount in zip(("dev", "prod"), stated.groups(), strict=True):
        assert cost_floor(stacks[env], "us-east-1").describe().startswith(f"{amount}/month"), env
    # The synth summary's example is dev's line as `make synth` prints it.
    (example,) = re.findall(r"^  cost: +(.+)$", page, flags=re.MULTILINE)
    assert example == cost_floor(stacks["dev"], "us-east-1").describe()
