"""Network: VPC, public/private subnets, internet gateway, NAT, routes, and the public ALB."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
    VpcSecurityGroupEgressRule,
)
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from constructs_lib.config import NatStrategy, SubnetConfig

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class NetworkProps:
    name: str
    cidr: str
    public_subnets: Mapping[str, SubnetConfig]
    private_subnets: Mapping[str, SubnetConfig]
    load_balancer_name: str
    nat_gateways: NatStrategy = "single"
    # Public subnet key for the single NAT gateway; default: the first key in sorted order.
    nat_subnet: str | None = None
    lb_ingress_ports: tuple[int, ...] = field(default=(80, 443))


class Network(Construct):
    """The classic `vpc` module, with the NAT placement taken from configuration."""

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
        self.internet_gateway = InternetGateway(
            self, "igw", vpc_id=self.vpc.id, tags={"Name": props.name}
        )
        self.public_subnets = self._subnets("public", props.public_subnets)
        self.private_subnets = self._subnets("private", props.private_subnets)
        self._public_routing()
        self.nat_gateways = self._nat_gateways()
        self.private_route_tables = self._private_routing()
        self.lb_security_group = self._lb_security_group()
        self.load_balancer = Lb(
            self,
            "alb",
            name=props.load_balancer_name,
            internal=False,
            load_balancer_type="application",
            security_groups=[self.lb_security_group.id],
            subnets=[subnet.id for subnet in self.public_subnets.values()],
        )

    @property
    def vpc_id(self) -> str:
        return self.vpc.id

    @property
    def private_subnet_ids(self) -> list[str]:
        return [subnet.id for subnet in self.private_subnets.values()]

    def _subnets(self, tier: str, specs: Mapping[str, SubnetConfig]) -> dict[str, Subnet]:
        return {
            key: Subnet(
                self,
                f"{tier}-subnet-{key}",
                vpc_id=self.vpc.id,
                cidr_block=spec.cidr,
                availability_zone=spec.az,
                map_public_ip_on_launch=False,
                tags={"Name": f"{self.props.name}-{tier}-{key}", "Tier": tier},
            )
            for key, spec in sorted(specs.items())
        }

    def _public_routing(self) -> None:
        table = RouteTable(
            self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{self.props.name}-public"}
        )
        Route(
            self,
            "public-default-route",
            route_table_id=table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=self.internet_gateway.id,
        )
        for key, subnet in self.public_subnets.items():
            RouteTableAssociation(
                self, f"public-rta-{key}", subnet_id=subnet.id, route_table_id=table.id
            )

    def _nat_placement(self) -> dict[str, str]:
        """Map NAT name -> public subnet key holding it.

        "single": one NAT named "shared" in the configured subnet. "one_per_az": one NAT per
        AZ that has private subnets, in a public subnet of that AZ (named after the AZ).
        """
        strategy = self.props.nat_gateways
        if strategy == "none":
            return {}
        if strategy == "single":
            return {"shared": self.props.nat_subnet or sorted(self.props.public_subnets)[0]}
        public_by_az: dict[str, str] = {}
        for key, spec in sorted(self.props.public_subnets.items()):
            public_by_az.setdefault(spec.az, key)
        private_azs = sorted({spec.az for spec in self.props.private_subnets.values()})
        return {az: public_by_az[az] for az in private_azs}

    def _nat_gateways(self) -> dict[str, NatGateway]:
        gateways: dict[str, NatGateway] = {}
        for name, subnet_key in self._nat_placement().items():
            eip = Eip(
                self,
                f"nat-eip-{name}",
                domain="vpc",
                tags={"Name": f"{self.props.name}-nat-{name}"},
            )
            gateways[name] = NatGateway(
                self,
                f"nat-{name}",
                allocation_id=eip.id,
                subnet_id=self.public_subnets[subnet_key].id,
                tags={"Name": f"{self.props.name}-nat-{name}"},
                depends_on=[self.internet_gateway],
            )
        return gateways

    def _private_routing(self) -> dict[str, RouteTable]:
        """One private route table per NAT (per AZ with "one_per_az"), else one shared table."""
        per_az = self.props.nat_gateways == "one_per_az"
        tables: dict[str, RouteTable] = {}
        for key, spec in sorted(self.props.private_subnets.items()):
            table_name = spec.az if per_az else "shared"
            if table_name not in tables:
                tables[table_name] = self._private_route_table(table_name)
            RouteTableAssociation(
                self,
                f"private-rta-{key}",
                subnet_id=self.private_subnets[key].id,
                route_table_id=tables[table_name].id,
            )
        return tables

    def _private_route_table(self, name: str) -> RouteTable:
        table = RouteTable(
            self,
            f"private-rt-{name}",
            vpc_id=self.vpc.id,
            tags={"Name": f"{self.props.name}-private-{name}"},
        )
        nat = self.nat_gateways.get(name) or self.nat_gateways.get("shared")
        if nat is not None:
            Route(
                self,
                f"private-default-route-{name}",
                route_table_id=table.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nat.id,
            )
        return table

    def _lb_security_group(self) -> SecurityGroup:
        group = SecurityGroup(
            self,
            "lb-sg",
            name=f"{self.props.name}-lb-sg",
            description="Load balancer: HTTP and HTTPS from the internet",
            vpc_id=self.vpc.id,
        )
        for port in self.props.lb_ingress_ports:
            VpcSecurityGroupIngressRule(
                self,
                f"lb-sg-in-{port}",
                security_group_id=group.id,
                description=f"Allow TCP {port} from anywhere",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=ANYWHERE,
            )
        VpcSecurityGroupEgressRule(
            self,
            "lb-sg-out",
            security_group_id=group.id,
            description="Allow all outbound",
            ip_protocol="-1",
            cidr_ipv4=ANYWHERE,
        )
        return group
