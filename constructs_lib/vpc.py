"""Network: VPC, subnets, internet gateway, NAT, routes, ACLs, flow logs and gateway
endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.network_acl import NetworkAcl
from cdktf_cdktf_provider_aws.network_acl_rule import NetworkAclRule
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet as AwsSubnet
from cdktf_cdktf_provider_aws.subnet import SubnetTimeouts
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from constructs_lib.iam import add_inline_policy, service_role, stack_account, stack_partition
from constructs_lib.lambda_function import ENI_RELEASE_TIMEOUT
from constructs_lib.limits import FlowLogTraffic
from constructs_lib.logs import encrypted_log_group
from constructs_lib.plan_checks import hcl_strings, plan_check
from constructs_lib.zones import is_zone_id, mixed_forms

ANYWHERE = "0.0.0.0/0"
# Return traffic ports, with RDP's 3389 carved out so no ACL ever admits it from anywhere.
EPHEMERAL_PORT_RANGES = ((1024, 3388), (3390, 65535))
# Gateway endpoints are free and keep S3/DynamoDB traffic off the NAT and the internet.
GATEWAY_ENDPOINT_SERVICES = ("s3", "dynamodb")
# What the flow-log role needs, as AWS documents it ("IAM role for publishing flow logs to
# CloudWatch Logs"), limited to the stack's log group.
FLOW_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
)


# "single": one NAT gateway for every private subnet; "one_per_az": one per availability zone
# holding private subnets (survives the loss of a zone); "none": no internet access out.
NatStrategy = Literal["single", "one_per_az", "none"]


@dataclass(frozen=True)
class Subnet:
    """One subnet: `key` names its resources and tags (`<name>-<tier>-<key>`); `az` is an
    availability zone name (`us-east-1a`) or id (`use1-az1`), see `constructs_lib.zones`."""

    key: str
    cidr: str
    az: str


@dataclass(frozen=True)
class FlowLogProps:
    retention_days: int
    kms_key_arn: str
    traffic_type: FlowLogTraffic = "ALL"

    def __post_init__(self) -> None:
        if self.traffic_type not in get_args(FlowLogTraffic):
            raise ValueError(
                f"traffic_type {self.traffic_type!r}: one of {', '.join(get_args(FlowLogTraffic))}"
            )


@dataclass(frozen=True)
class NetworkProps:
    name: str
    region: str
    cidr: str
    public_subnets: Sequence[Subnet]
    private_subnets: Sequence[Subnet]
    nat_gateways: NatStrategy
    # Public subnet key for the single NAT gateway; None: the first key in sorted order.
    nat_subnet: str | None
    # None: no VPC flow logs.
    flow_logs: FlowLogProps | None

    def __post_init__(self) -> None:
        zones = [subnet.az for subnet in (*self.public_subnets, *self.private_subnets)]
        if mixed_forms(zones):
            raise ValueError(
                f"subnet zones mix AZ names and AZ ids ({', '.join(sorted(set(zones)))}): use "
                "one form, which name is which id differs per account"
            )


class Network(Construct):
    """The classic `vpc` module, with the NAT placement taken from configuration and the
    defaults a security review expects.

    Each id (`vpc.id`, `subnet.id`, ...) is read once and kept: every read is a round trip to
    the jsii kernel, and the token it returns stands for the same reference every time."""

    def __init__(self, scope: Construct, id: str, props: NetworkProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": props.name},
        )
        self.vpc_id: str = self.vpc.id
        self._zones_exist()
        # Managed with no rules: nothing may use the default group by accident.
        self.default_security_group = DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc_id)
        self.internet_gateway = InternetGateway(
            self, "igw", vpc_id=self.vpc_id, tags={"Name": props.name}
        )
        self.public_subnets = self._subnets("public", props.public_subnets)
        self.private_subnets = self._subnets("private", props.private_subnets)
        self._subnet_ids = {
            tier: {key: subnet.id for key, subnet in subnets.items()}
            for tier, subnets in (
                ("public", self.public_subnets),
                ("private", self.private_subnets),
            )
        }
        self.public_default_route = self._public_routing()
        self.nat_gateways = self._nat_gateways()
        self.private_route_tables = self._private_routing()
        self._gateway_endpoints()
        self._network_acls()
        if props.flow_logs is not None:
            self._flow_logs(props.flow_logs)

    @cached_property
    def default_security_group_id(self) -> str:
        """Read once: every function in the VPC names it (`replacement_security_group_ids`)."""
        return self.default_security_group.id

    @property
    def public_subnet_ids(self) -> list[str]:
        return list(self._subnet_ids["public"].values())

    @property
    def private_subnet_ids(self) -> list[str]:
        return list(self._subnet_ids["private"].values())

    @property
    def internet_access(self) -> list[TerraformResource]:
        """What an internet-facing resource in the public subnets must be created after: the
        internet gateway, attached and routed."""
        return [self.internet_gateway, self.public_default_route]

    def _zones_exist(self) -> None:
        """Plan fails, naming them, when a subnet's zone is not one of the account's: zone
        names and the zones an account sees differ per account, so only the account knows."""
        props = self.props
        zones = sorted({subnet.az for subnet in (*props.public_subnets, *props.private_subnets)})
        # One form per network (NetworkProps): the filter asks for exactly these zones.
        by_id = is_zone_id(zones[0])
        found = "self.zone_ids" if by_id else "self.names"
        missing = f"setsubtract({hcl_strings(zones)}, {found})"
        DataAwsAvailabilityZones(
            self,
            "zones",
            filter=[
                DataAwsAvailabilityZonesFilter(
                    name="zone-id" if by_id else "zone-name", values=zones
                )
            ],
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    plan_check(
                        f"length({missing}) == 0",
                        f'Availability zone(s) ${{join(", ", {missing})}} not found in '
                        f"{props.region} for this account: choose subnet zones among those "
                        f"`aws ec2 describe-availability-zones --region {props.region}` lists",
                    )
                ]
            ),
        )

    def _subnets(self, tier: str, specs: Sequence[Subnet]) -> dict[str, AwsSubnet]:
        return {
            spec.key: AwsSubnet(
                self,
                f"{tier}-subnet-{spec.key}",
                vpc_id=self.vpc_id,
                cidr_block=spec.cidr,
                # An id names the same physical zone in every account; a name, this account's.
                availability_zone=None if is_zone_id(spec.az) else spec.az,
                availability_zone_id=spec.az if is_zone_id(spec.az) else None,
                map_public_ip_on_launch=False,
                tags={"Name": f"{self.props.name}-{tier}-{spec.key}", "Tier": tier},
                # Private subnets hold the function's network interfaces, released slowly.
                timeouts=SubnetTimeouts(delete=ENI_RELEASE_TIMEOUT) if tier == "private" else None,
            )
            for spec in sorted(specs, key=lambda subnet: subnet.key)
        }

    def _public_routing(self) -> Route:
        table = RouteTable(
            self, "public-rt", vpc_id=self.vpc_id, tags={"Name": f"{self.props.name}-public"}
        )
        table_id = table.id
        route = Route(
            self,
            "public-default-route",
            route_table_id=table_id,
            destination_cidr_block=ANYWHERE,
            gateway_id=self.internet_gateway.id,
        )
        for key, subnet_id in self._subnet_ids["public"].items():
            RouteTableAssociation(
                self, f"public-rta-{key}", subnet_id=subnet_id, route_table_id=table_id
            )
        return route

    def _nat_placement(self) -> dict[str, str]:
        """Map NAT name -> public subnet key holding it.

        "single": one NAT named "shared" in the configured subnet. "one_per_az": one NAT per
        AZ that has private subnets, in a public subnet of that AZ (named after the AZ).
        """
        strategy = self.props.nat_gateways
        if strategy == "none":
            return {}
        if strategy == "single":
            return {"shared": self.props.nat_subnet or sorted(self.public_subnets)[0]}
        public_by_az: dict[str, str] = {}
        for spec in sorted(self.props.public_subnets, key=lambda subnet: subnet.key):
            public_by_az.setdefault(spec.az, spec.key)
        private_azs = sorted({spec.az for spec in self.props.private_subnets})
        return {az: public_by_az[az] for az in private_azs}

    def _nat_gateways(self) -> dict[str, NatGateway]:
        gateways: dict[str, NatGateway] = {}
        for name, subnet_key in self._nat_placement().items():
            tags = {"Name": f"{self.props.name}-nat-{name}"}
            eip = Eip(self, f"nat-eip-{name}", domain="vpc", tags=tags)
            gateways[name] = NatGateway(
                self,
                f"nat-{name}",
                allocation_id=eip.id,
                subnet_id=self._subnet_ids["public"][subnet_key],
                tags=tags,
                depends_on=[self.internet_gateway],
            )
        return gateways

    def _private_routing(self) -> dict[str, RouteTable]:
        """One private route table per NAT (per AZ with "one_per_az"), else one shared table."""
        per_az = self.props.nat_gateways == "one_per_az"
        tables: dict[str, RouteTable] = {}
        self._private_route_table_ids: dict[str, str] = {}
        for spec in sorted(self.props.private_subnets, key=lambda subnet: subnet.key):
            key = spec.key
            table_name = spec.az if per_az else "shared"
            if table_name not in tables:
                table, table_id = self._private_route_table(table_name)
                tables[table_name] = table
                self._private_route_table_ids[table_name] = table_id
            RouteTableAssociation(
                self,
                f"private-rta-{key}",
                subnet_id=self._subnet_ids["private"][key],
                route_table_id=self._private_route_table_ids[table_name],
            )
        return tables

    def _private_route_table(self, name: str) -> tuple[RouteTable, str]:
        """The table, with its default route through the NAT if there is one, and its id."""
        table = RouteTable(
            self,
            f"private-rt-{name}",
            vpc_id=self.vpc_id,
            tags={"Name": f"{self.props.name}-private-{name}"},
        )
        table_id = table.id
        nat = self.nat_gateways.get(name) or self.nat_gateways.get("shared")
        if nat is not None:
            Route(
                self,
                f"private-default-route-{name}",
                route_table_id=table_id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nat.id,
            )
        return table, table_id

    def _gateway_endpoints(self) -> None:
        for service in GATEWAY_ENDPOINT_SERVICES:
            VpcEndpoint(
                self,
                f"endpoint-{service}",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{self.props.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=list(self._private_route_table_ids.values()),
                tags={"Name": f"{self.props.name}-{service}"},
            )

    def _network_acls(self) -> None:
        """Stateless subnet firewalls. Public: web ports and return traffic in. Private:
        anything from inside the VPC and return traffic (through NAT / endpoints) in."""
        public = self._network_acl("public")
        public_ports = ((80, 80), (443, 443), *EPHEMERAL_PORT_RANGES)
        for number, (from_port, to_port) in enumerate(public_ports):
            self._acl_rule(public, f"public-in-{from_port}", 100 + 10 * number, from_port, to_port)
        private = self._network_acl("private")
        # HTTPS from inside the VPC (interface endpoints, if ever added).
        self._acl_rule(private, "private-in-https", 100, 443, 443, source=self.props.cidr)
        for number, (from_port, to_port) in enumerate(EPHEMERAL_PORT_RANGES):
            self._acl_rule(
                private, f"private-in-return-{from_port}", 110 + 10 * number, from_port, to_port
            )
        for tier, acl_id in (("public", public), ("private", private)):
            NetworkAclRule(
                self,
                f"{tier}-out-all",
                network_acl_id=acl_id,
                rule_number=100,
                egress=True,
                protocol="-1",
                rule_action="allow",
                cidr_block=ANYWHERE,
            )

    def _network_acl(self, tier: str) -> str:
        """The id of a new network ACL for the subnets of `tier`."""
        return NetworkAcl(
            self,
            f"{tier}-acl",
            vpc_id=self.vpc_id,
            subnet_ids=list(self._subnet_ids[tier].values()),
            tags={"Name": f"{self.props.name}-{tier}"},
        ).id

    def _acl_rule(
        self,
        acl_id: str,
        id: str,
        number: int,
        from_port: int,
        to_port: int,
        source: str = ANYWHERE,
    ) -> NetworkAclRule:
        """Inbound TCP on a port range."""
        return NetworkAclRule(
            self,
            id,
            network_acl_id=acl_id,
            rule_number=number,
            egress=False,
            protocol="tcp",
            rule_action="allow",
            cidr_block=source,
            from_port=from_port,
            to_port=to_port,
        )

    def _flow_logs(self, props: FlowLogProps) -> None:
        log_group = encrypted_log_group(
            self,
            "flow-log-group",
            name=f"/aws/vpc/{self.props.name}/flow-logs",
            retention_days=props.retention_days,
            kms_key_arn=props.kms_key_arn,
        )
        log_group_arn = log_group.arn
        region, account = self.props.region, stack_account(self)
        role = service_role(
            self,
            "flow-log-role",
            name=f"{self.props.name}-vpc-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            # The flow logs of this account and region (VPC User Guide, "IAM role for
            # publishing flow logs to CloudWatch Logs").
            source_arn=f"arn:{stack_partition(self)}:ec2:{region}:{account}:vpc-flow-log/*",
        )
        policy = add_inline_policy(
            self,
            role,
            "DeliverFlowLogs",
            FLOW_LOG_ACTIONS,
            [log_group_arn, f"{log_group_arn}:*"],
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc_id,
            traffic_type=props.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=log_group_arn,
            iam_role_arn=role.arn,
            # Delivery starts with the flow log: created before the role may write to the
            # group, it reports an access error (DeliverLogsErrorMessage) instead of logging.
            depends_on=[policy],
        )
