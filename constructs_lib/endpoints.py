"""Interface VPC endpoints: AWS APIs reachable from private subnets without a NAT gateway.

A function in a VPC without NAT (`nat_gateways = "none"`) reaches S3 and DynamoDB through the
free gateway endpoints, but nothing else: reading an SSM parameter needs the `ssm` interface
endpoint (SSM decrypts with KMS on the function's behalf, so no `kms` endpoint is needed for
that). Each interface endpoint costs per hour and per availability zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

# Service short names as in `com.amazonaws.<region>.<service>`: "ssm", "kms", "secretsmanager",
# "logs", "sts", "ecr.api", ...
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
# VPC quota: 50 interface endpoints per VPC by default; a security group takes 60 inbound
# rules by default.
MAX_INTERFACE_ENDPOINTS = 50
MAX_CLIENT_GROUPS = 60
# S3 and DynamoDB have gateway endpoints (free, in vpc.py); DynamoDB has no private DNS for
# interface endpoints at all.
GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})


@dataclass(frozen=True)
class InterfaceEndpointsProps:
    # Prefix of the security group's name.
    name: str
    region: str
    vpc_id: str
    # One endpoint network interface per subnet (one per availability zone at most).
    subnet_ids: Sequence[str]
    services: Sequence[str]
    # The security groups (e.g. the function's) allowed to reach the endpoints on 443.
    client_security_group_ids: Sequence[str]

    def __post_init__(self) -> None:
        if not self.services:
            raise ValueError("InterfaceEndpointsProps needs at least one service")
        if len(set(self.services)) != len(self.services):
            raise ValueError(f"services listed twice: {list(self.services)}")
        if len(self.services) > MAX_INTERFACE_ENDPOINTS:
            raise ValueError(f"at most {MAX_INTERFACE_ENDPOINTS} interface endpoints per VPC")
        for service in self.services:
            if not _SERVICE.match(service):
                raise ValueError(f"not an AWS service endpoint name: {service!r}")
            if service in GATEWAY_SERVICES:
                raise ValueError(f"{service} uses the VPC's gateway endpoint, not an interface")
        if not self.subnet_ids:
            raise ValueError("InterfaceEndpointsProps needs at least one subnet")
        if not 1 <= len(self.client_security_group_ids) <= MAX_CLIENT_GROUPS:
            raise ValueError(f"1 to {MAX_CLIENT_GROUPS} client security groups are needed")


class InterfaceEndpoints(Construct):
    """One interface endpoint with private DNS per service, behind a security group that
    lets in HTTPS from the client groups only."""

    def __init__(self, scope: Construct, id: str, props: InterfaceEndpointsProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{props.name}-endpoints-sg",
            # No egress rule: endpoints answer on the connection they receive.
            description="Interface endpoints: HTTPS from the functions only",
            vpc_id=props.vpc_id,
        )
        # Read once for every rule and endpoint: each read is a round trip to the jsii kernel.
        security_group_id = self.security_group.id
        for index, group_id in enumerate(props.client_security_group_ids):
            VpcSecurityGroupIngressRule(
                self,
                f"https-in-{index}",
                security_group_id=security_group_id,
                description="HTTPS from a client security group",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                referenced_security_group_id=group_id,
            )
        self.endpoints = {
            service: VpcEndpoint(
                self,
                f"endpoint-{service.replace('.', '-')}",
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Interface",
                # The service's usual host name resolves to the endpoint inside the VPC, so
                # SDKs need no endpoint configuration.
                private_dns_enabled=True,
                subnet_ids=list(props.subnet_ids),
                security_group_ids=[security_group_id],
                tags={"Name": f"{props.name}-{service}"},
            )
            for service in props.services
        }
