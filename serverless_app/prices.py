"""The always-on monthly cost floor of a synthesized stack, from a dated list-price table.

Only what is billed while the stack sits idle: hours of NAT gateways, public IPv4 addresses,
load balancers and interface endpoints, and the monthly fees of web ACLs and their rules, KMS
keys, alarms and dashboards. Requests, data processed, log ingestion, Lambda and DynamoDB
usage are extra and not estimated. The counts are read from the synthesized JSON, so the
floor follows whatever the configuration turned on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# On-demand list prices in US dollars, without free tier, for PRICED_REGION, from the pages
# aws.amazon.com/{vpc,elasticloadbalancing,waf,privatelink,kms,cloudwatch}/pricing/;
# PRICED_ON is the day the table was written. Other regions differ. Review the values against
# those pages and move the date with them.
PRICED_REGION = "us-east-1"
PRICED_ON = "2026-12-06"
# AWS bills hourly items for 730 hours a month (8,760 / 12).
HOURS_PER_MONTH = 730
# Decimal: 0.0225 x 730 is exactly 16.425, which a float would print as 16.42.
NAT_GATEWAY_HOUR = Decimal("0.045")
PUBLIC_IPV4_HOUR = Decimal("0.005")
LOAD_BALANCER_HOUR = Decimal("0.0225")
INTERFACE_ENDPOINT_AZ_HOUR = Decimal("0.01")
WEB_ACL_MONTH = Decimal("5.00")
WEB_ACL_RULE_MONTH = Decimal("1.00")
KMS_KEY_MONTH = Decimal("1.00")
# A standard-resolution alarm on one metric.
ALARM_MONTH = Decimal("0.10")
DASHBOARD_MONTH = Decimal("3.00")


def dollars(amount: Decimal) -> str:
    """`$16.43` for 16.425: cents rounded half up, as a bill does."""
    return f"${amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


@dataclass(frozen=True)
class CostItem:
    """One line of the floor: what is counted, how many, and the monthly price of one."""

    label: str
    count: int
    unit_month: Decimal

    @property
    def month(self) -> Decimal:
        return self.count * self.unit_month


@dataclass(frozen=True)
class CostFloor:
    region: str
    items: tuple[CostItem, ...]

    @property
    def month(self) -> Decimal:
        return sum((item.month for item in self.items), Decimal(0))

    def describe(self) -> str:
        """`$X.XX/month always on, priced for us-east-1 on DATE; usage is extra: ...`"""
        region_note = "" if self.region == PRICED_REGION else f" (stack in {self.region})"
        parts = ", ".join(
            f"{item.label} {item.count} x {dollars(item.unit_month)}"
            for item in self.items
            if item.count
        )
        return (
            f"{dollars(self.month)}/month always on, priced for {PRICED_REGION}{region_note} on "
            f"{PRICED_ON}; usage is extra: {parts or 'nothing always on'}"
        )


def _resources(document: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return list(document.get("resource", {}).get(resource_type, {}).values())


def _count(resource_type: str) -> Callable[[dict[str, Any]], int]:
    return lambda document: len(_resources(document, resource_type))


def _public_ipv4_addresses(document: dict[str, Any]) -> int:
    """Elastic IPs plus one address per subnet of each internet-facing load balancer."""
    load_balancer_nodes = sum(
        len(body.get("subnets", []))
        for body in _resources(document, "aws_lb")
        if not body.get("internal", False)
    )
    return len(_resources(document, "aws_eip")) + load_balancer_nodes


def _web_acl_rules(document: dict[str, Any]) -> int:
    return sum(len(body.get("rule", [])) for body in _resources(document, "aws_wafv2_web_acl"))


def _interface_endpoint_zones(document: dict[str, Any]) -> int:
    """Interface endpoints are billed per endpoint and availability zone (one per subnet)."""
    return sum(
        len(body.get("subnet_ids", []))
        for body in _resources(document, "aws_vpc_endpoint")
        if body.get("vpc_endpoint_type") == "Interface"
    )


# (label, counter, monthly price of one), in the order the summary prints them.
_PRICED: tuple[tuple[str, Callable[[dict[str, Any]], int], Decimal], ...] = (
    ("NAT gateways", _count("aws_nat_gateway"), NAT_GATEWAY_HOUR * HOURS_PER_MONTH),
    ("public IPv4", _public_ipv4_addresses, PUBLIC_IPV4_HOUR * HOURS_PER_MONTH),
    ("load balancers", _count("aws_lb"), LOAD_BALANCER_HOUR * HOURS_PER_MONTH),
    ("web ACLs", _count("aws_wafv2_web_acl"), WEB_ACL_MONTH),
    ("WAF rules", _web_acl_rules, WEB_ACL_RULE_MONTH),
    (
        "interface endpoint AZs",
        _interface_endpoint_zones,
        INTERFACE_ENDPOINT_AZ_HOUR * HOURS_PER_MONTH,
    ),
    ("KMS keys", _count("aws_kms_key"), KMS_KEY_MONTH),
    ("alarms", _count("aws_cloudwatch_metric_alarm"), ALARM_MONTH),
    ("dashboards", _count("aws_cloudwatch_dashboard"), DASHBOARD_MONTH),
)


def cost_floor(document: dict[str, Any], region: str) -> CostFloor:
    """What the stack in `document` costs a month while nobody uses it."""
    return CostFloor(
        region=region,
        items=tuple(
            CostItem(label, count(document), unit_month) for label, count, unit_month in _PRICED
        ),
    )
