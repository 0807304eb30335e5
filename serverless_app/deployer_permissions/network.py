"""The network and the load balancer: EC2 (VPC, subnets, gateways, routes, network ACLs,
security groups, endpoints, flow logs) and Elastic Load Balancing."""

from __future__ import annotations

from serverless_app.deployer_permissions.grants import (
    ANY,
    EC2,
    EC2_READ,
    EC2_TAGS,
    LISTENER_RULES,
    LISTENERS,
    LOAD_BALANCERS,
    TARGET_GROUPS,
    Grant,
    grant,
)

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # --- EC2: the network --------------------------------------------------------------
    "aws_vpc": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateVpc ec2:DeleteVpc ec2:ModifyVpcAttribute", EC2),
    ),
    "aws_subnet": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateSubnet ec2:DeleteSubnet ec2:ModifySubnetAttribute", EC2),
    ),
    "aws_internet_gateway": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:CreateInternetGateway ec2:AttachInternetGateway ec2:DetachInternetGateway "
            "ec2:DeleteInternetGateway",
            EC2,
        ),
    ),
    "aws_eip": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:AllocateAddress ec2:ReleaseAddress ec2:DisassociateAddress", EC2),
    ),
    "aws_nat_gateway": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateNatGateway ec2:DeleteNatGateway", EC2),
    ),
    "aws_route_table": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateRouteTable ec2:DeleteRouteTable", EC2),
    ),
    "aws_route": (EC2_READ, grant("ec2:CreateRoute ec2:ReplaceRoute ec2:DeleteRoute", EC2)),
    "aws_route_table_association": (
        EC2_READ,
        grant(
            "ec2:AssociateRouteTable ec2:DisassociateRouteTable ec2:ReplaceRouteTableAssociation",
            EC2,
        ),
    ),
    "aws_network_acl": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:CreateNetworkAcl ec2:DeleteNetworkAcl ec2:ReplaceNetworkAclAssociation "
            "ec2:CreateNetworkAclEntry ec2:DeleteNetworkAclEntry",
            EC2,
        ),
    ),
    "aws_network_acl_rule": (
        EC2_READ,
        grant(
            "ec2:CreateNetworkAclEntry ec2:ReplaceNetworkAclEntry ec2:DeleteNetworkAclEntry", EC2
        ),
    ),
    "aws_default_security_group": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:AuthorizeSecurityGroupIngress ec2:AuthorizeSecurityGroupEgress "
            "ec2:RevokeSecurityGroupIngress ec2:RevokeSecurityGroupEgress",
            EC2,
        ),
    ),
    # Deleting a group a function used waits for (and removes) Lambda's network interfaces.
    "aws_security_group": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:CreateSecurityGroup ec2:DeleteSecurityGroup ec2:RevokeSecurityGroupEgress "
            "ec2:RevokeSecurityGroupIngress ec2:DeleteNetworkInterface",
            EC2,
        ),
    ),
    "aws_vpc_security_group_ingress_rule": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:AuthorizeSecurityGroupIngress ec2:RevokeSecurityGroupIngress "
            "ec2:ModifySecurityGroupRules ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            EC2,
        ),
    ),
    "aws_vpc_security_group_egress_rule": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:AuthorizeSecurityGroupEgress ec2:RevokeSecurityGroupEgress "
            "ec2:ModifySecurityGroupRules ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            EC2,
        ),
    ),
    "aws_vpc_endpoint": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:DescribeVpcEndpointServices", ANY),
        grant("ec2:CreateVpcEndpoint ec2:ModifyVpcEndpoint ec2:DeleteVpcEndpoints", EC2),
    ),
    "aws_flow_log": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateFlowLogs ec2:DeleteFlowLogs", EC2),
        # CloudWatch Logs delivery on behalf of the caller (EC2 user guide, flow logs IAM).
        grant("logs:CreateLogDelivery logs:DeleteLogDelivery", ANY),
    ),
    "data.aws_availability_zones": (grant("ec2:DescribeAvailabilityZones", ANY),),
    # --- Load balancing -----------------------------------------------------------------
    "aws_lb": (
        EC2_READ,
        grant(
            "elasticloadbalancing:DescribeLoadBalancers "
            "elasticloadbalancing:DescribeLoadBalancerAttributes "
            "elasticloadbalancing:DescribeTags elasticloadbalancing:DescribeCapacityReservation",
            ANY,
        ),
        grant(
            "elasticloadbalancing:CreateLoadBalancer elasticloadbalancing:DeleteLoadBalancer "
            "elasticloadbalancing:ModifyLoadBalancerAttributes "
            "elasticloadbalancing:ModifyCapacityReservation "
            "elasticloadbalancing:SetSecurityGroups elasticloadbalancing:SetSubnets "
            "elasticloadbalancing:SetIpAddressType elasticloadbalancing:AddTags "
            "elasticloadbalancing:RemoveTags",
            *LOAD_BALANCERS,
        ),
    ),
    "aws_lb_target_group": (
        grant(
            "elasticloadbalancing:DescribeTargetGroups "
            "elasticloadbalancing:DescribeTargetGroupAttributes elasticloadbalancing:DescribeTags",
            ANY,
        ),
        grant(
            "elasticloadbalancing:CreateTargetGroup elasticloadbalancing:DeleteTargetGroup "
            "elasticloadbalancing:ModifyTargetGroup "
            "elasticloadbalancing:ModifyTargetGroupAttributes elasticloadbalancing:AddTags "
            "elasticloadbalancing:RemoveTags",
            *TARGET_GROUPS,
        ),
    ),
    "aws_lb_target_group_attachment": (
        grant("elasticloadbalancing:DescribeTargetHealth", ANY),
        grant(
            "elasticloadbalancing:RegisterTargets elasticloadbalancing:DeregisterTargets",
            *TARGET_GROUPS,
        ),
    ),
    "aws_lb_listener": (
        grant(
            "elasticloadbalancing:DescribeListeners "
            "elasticloadbalancing:DescribeListenerAttributes elasticloadbalancing:DescribeTags",
            ANY,
        ),
        grant(
            "elasticloadbalancing:CreateListener elasticloadbalancing:DeleteListener "
            "elasticloadbalancing:ModifyListener elasticloadbalancing:ModifyListenerAttributes "
            "elasticloadbalancing:AddTags elasticloadbalancing:RemoveTags",
            *LISTENERS,
            *LOAD_BALANCERS,
            *TARGET_GROUPS,
        ),
    ),
    "aws_lb_listener_rule": (
        grant("elasticloadbalancing:DescribeRules elasticloadbalancing:DescribeTags", ANY),
        grant(
            "elasticloadbalancing:CreateRule elasticloadbalancing:DeleteRule "
            "elasticloadbalancing:ModifyRule elasticloadbalancing:SetRulePriorities "
            "elasticloadbalancing:AddTags elasticloadbalancing:RemoveTags",
            *LISTENER_RULES,
            *LISTENERS,
            *TARGET_GROUPS,
        ),
    ),
    # The account's ELB principal for access logs: a static table in the provider, no call.
    "data.aws_elb_service_account": (),
}
