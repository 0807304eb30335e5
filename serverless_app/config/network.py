"""`[vpc]`: the network, its subnets and NAT gateways, and the rules across them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from constructs_lib.limits import FlowLogTraffic
from constructs_lib.zones import mixed_forms
from serverless_app.config.base import StrictModel, rule
from serverless_app.config.problems import Problem
from serverless_app.config.rules import AvailabilityZone, Ipv4Cidr, SubnetKey, listed


class SubnetConfig(StrictModel):
    cidr: Ipv4Cidr = Field(
        description="IPv4 CIDR /16 to /28, inside `vpc.cidr`, overlapping no other subnet",
        json_schema_extra={"type_text": "string (CIDR)"},
    )
    az: AvailabilityZone = Field(
        description=(
            "an AZ of `region`: a name from a static per-region list (`us-east-1a`...`us-east-1f`) "
            "or an AZ id (`use1-az1`: the same physical zone in every account), one form per "
            "file; `terraform plan` fails when the account has no such zone"
        )
    )


NatStrategy = Literal["single", "one_per_az", "none"]
# A flow log's traffic type, or no flow log at all.
FlowLogs = Literal[FlowLogTraffic, "none"]


class VpcConfig(StrictModel):
    cidr: Ipv4Cidr = Field(
        default="10.0.0.0/16",
        description="IPv4 CIDR in canonical form, /16 to /28",
        json_schema_extra={"type_text": "string (CIDR)"},
    )
    # Left out: two subnets per tier in AZs a and b of the region (see docs/config.md).
    public_subnets: dict[SubnetKey, SubnetConfig] = Field(
        default_factory=dict,
        description=(
            "keys 1-16 lowercase letters or digits; subnets in at least two AZs (the load "
            "balancer needs them)"
        ),
        json_schema_extra={
            "type_text": "table `key = { cidr, az }`",
            (
                "default_text"
            ): "`a` = `10.0.1.0/24` in `<region>a`, `b` = `10.0.2.0/24` in `<region>b`",
        },
    )
    private_subnets: dict[SubnetKey, SubnetConfig] = Field(
        default_factory=dict,
        description=(
            "keys as above; at least one subnet; with `one_per_az`, every AZ used here needs a "
            "public subnet"
        ),
        json_schema_extra={
            "type_text": "table `key = { cidr, az }`",
            (
                "default_text"
            ): "`a` = `10.0.11.0/24` in `<region>a`, `b` = `10.0.12.0/24` in `<region>b`",
        },
    )
    nat_gateways: NatStrategy = Field(
        default="single",
        description="NAT strategy; `one_per_az` adds one private route table per AZ",
    )
    # With nat_gateways = "single": the public subnet that holds the NAT gateway.
    # Defaults to the first public subnet key in sorted order.
    nat_subnet: str | None = Field(
        default=None,
        description=(
            "a key of `vpc.public_subnets`, the subnet holding the NAT gateway; only with "
            '`nat_gateways = "single"`'
        ),
        json_schema_extra={"default_text": "first public subnet key in sorted order"},
    )
    flow_logs: FlowLogs = Field(
        default="ALL",
        description=(
            "what the VPC flow log sends to CloudWatch Logs (ingestion billed per GB): every "
            "connection, the accepted or only the rejected ones (scans, blocked egress); "
            '`"none"`: no flow log, and the security gate lets this environment fail '
            "`CKV2_AWS_11`"
        ),
    )

    def subnets(self) -> Iterator[tuple[str, str, SubnetConfig]]:
        """(tier field, key, subnet) for every subnet, public first, keys in sorted order."""
        for tier in ("public_subnets", "private_subnets"):
            for key, subnet in sorted(getattr(self, tier).items()):
                yield tier, key, subnet

    @rule("cidr", "public_subnets", "private_subnets")
    def _subnets_inside_vpc(self) -> Iterator[Problem]:
        vpc = ipaddress.IPv4Network(self.cidr)
        for tier, key, subnet in self.subnets():
            if not ipaddress.IPv4Network(subnet.cidr).subnet_of(vpc):
                yield Problem((tier, key, "cidr"), f"not inside vpc.cidr {self.cidr}", subnet.cidr)

    @rule("public_subnets", "private_subnets")
    def _subnets_apart(self) -> Iterator[Problem]:
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for tier, key, subnet in self.subnets():
            network = ipaddress.IPv4Network(subnet.cidr)
            for name, other in seen:
                if network.overlaps(other):
                    yield Problem((tier, key, "cidr"), f"overlaps {name} ({other})", subnet.cidr)
                    break
            seen.append((f"vpc.{tier}.{key}", network))

    @rule("public_subnets", "private_subnets")
    def _one_zone_form(self) -> Iterator[Problem]:
        """Each subnet whose zone is written in another form than the first subnet's."""
        subnets = list(self.subnets())
        if not mixed_forms(subnet.az for _, _, subnet in subnets):
            return
        first_tier, first_key, first = subnets[0]
        for tier, key, subnet in subnets[1:]:
            if mixed_forms([first.az, subnet.az]):
                yield Problem(
                    (tier, key, "az"),
                    f"vpc.{first_tier}.{first_key}.az is written {first.az!r}: use AZ names or AZ "
                    "ids, not both (which name is which id differs per account)",
                    subnet.az,
                )

    @rule("public_subnets")
    def _load_balancer_zones(self) -> Iterator[Problem]:
        zones = sorted({subnet.az for subnet in self.public_subnets.values()})
        if len(zones) < 2:
            yield Problem(
                ("public_subnets",),
                "the load balancer needs public subnets in at least two availability zones",
                zones,
            )

    @rule("private_subnets")
    def _private_subnet_present(self) -> Iterator[Problem]:
        if not self.private_subnets:
            yield Problem(("private_subnets",), "at least one private subnet is needed", {})

    @rule("nat_gateways", "public_subnets", "private_subnets")
    def _nat_zones(self) -> Iterator[Problem]:
        if self.nat_gateways != "one_per_az":
            return
        public_zones = {subnet.az for subnet in self.public_subnets.values()}
        for key, subnet in sorted(self.private_subnets.items()):
            if subnet.az not in public_zones:
                yield Problem(
                    ("private_subnets", key, "az"),
                    'nat_gateways = "one_per_az" needs a public subnet in this availability '
                    "zone for its NAT gateway",
                    subnet.az,
                )

    @rule("nat_subnet", "nat_gateways", "public_subnets")
    def _nat_subnet(self) -> Iterator[Problem]:
        if self.nat_subnet is None:
            return
        if self.nat_gateways != "single":
            yield Problem(
                ("nat_subnet",), 'only used with nat_gateways = "single"', self.nat_subnet
            )
        elif self.nat_subnet not in self.public_subnets:
            keys = listed(sorted(self.public_subnets))
            yield Problem(("nat_subnet",), f"not a public subnet key ({keys})", self.nat_subnet)
