"""The picture of one synthesized stack, read from its Terraform JSON: what `scripts.diagram`
draws (`diagram_render`), with no rendering and no files here.

Nothing is hand-listed: every resource in the JSON is drawn. Types with an icon below get their
own node; every other resource is listed on the node of its family that it belongs to (found by
following its references), or on one node per family when it belongs to none. VPCs, public and
private subnets (public = routed to an internet gateway) are the clusters; a resource sits in
the subnets, tier or VPC that its own arguments name.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from diagrams import Node
from diagrams.aws.compute import Lambda
from diagrams.aws.database import DynamodbTable
from diagrams.aws.devtools import Codedeploy
from diagrams.aws.general import General
from diagrams.aws.integration import SNS, SQS
from diagrams.aws.management import Cloudwatch, CloudwatchAlarm, CloudwatchLogs
from diagrams.aws.network import (
    APIGateway,
    ElbApplicationLoadBalancer,
    ElbNetworkLoadBalancer,
    Endpoint,
    InternetGateway,
    Nacl,
    NATGateway,
    PrivateSubnet,
    PublicSubnet,
    Route53,
    RouteTable,
    VPCFlowLogs,
)
from diagrams.aws.security import KMS, WAF, CertificateManager, IAMRole
from diagrams.aws.storage import SimpleStorageServiceS3Bucket

from serverless_app.summary import (
    Resource,
    referenced_addresses,
    stack_resources,
)

CLIENTS = "clients"
VPC_TYPE = "aws_vpc"
SUBNET_TYPE = "aws_subnet"
# cdktf appends an 8-hex-digit hash to every logical id; labels read better without it.
_ID_HASH = re.compile(r"_[0-9A-F]{8}$")
_LABEL_WIDTH = 24


@dataclass(frozen=True)
class Kind:
    icon: type[Node]
    title: str
    entry_point: bool = False  # what clients on the internet call


# Types drawn as their own node. Add a line here to give a new type its own icon; until then
# it is still drawn, listed on a node of its family.
ICONS: dict[str, Kind] = {
    "aws_api_gateway_rest_api": Kind(APIGateway, "REST API", entry_point=True),
    "aws_apigatewayv2_api": Kind(APIGateway, "HTTP API", entry_point=True),
    "aws_lb": Kind(ElbApplicationLoadBalancer, "load balancer", entry_point=True),
    "aws_alb": Kind(ElbApplicationLoadBalancer, "load balancer", entry_point=True),
    "aws_lambda_function": Kind(Lambda, "Lambda function"),
    "aws_internet_gateway": Kind(InternetGateway, "internet gateway"),
    "aws_nat_gateway": Kind(NATGateway, "NAT gateway"),
    "aws_route_table": Kind(RouteTable, "route table"),
    "aws_network_acl": Kind(Nacl, "network ACL"),
    "aws_vpc_endpoint": Kind(Endpoint, "VPC endpoint"),
    "aws_flow_log": Kind(VPCFlowLogs, "flow log"),
    SUBNET_TYPE: Kind(PrivateSubnet, "subnet"),
    "aws_dynamodb_table": Kind(DynamodbTable, "DynamoDB table"),
    "aws_s3_bucket": Kind(SimpleStorageServiceS3Bucket, "S3 bucket"),
    "aws_iam_role": Kind(IAMRole, "IAM role"),
    "aws_wafv2_web_acl": Kind(WAF, "web ACL (WAF)"),
    "aws_kms_key": Kind(KMS, "KMS key"),
    "aws_cloudwatch_log_group": Kind(CloudwatchLogs, "log group"),
    "aws_cloudwatch_metric_alarm": Kind(CloudwatchAlarm, "alarm"),
    "aws_sqs_queue": Kind(SQS, "SQS queue"),
    "aws_sns_topic": Kind(SNS, "SNS topic"),
    "aws_cloudwatch_dashboard": Kind(Cloudwatch, "dashboard"),
    "aws_lambda_alias": Kind(Lambda, "Lambda alias"),
    "aws_codedeploy_app": Kind(Codedeploy, "CodeDeploy application"),
    "aws_codedeploy_deployment_group": Kind(Codedeploy, "deployment group"),
    "aws_acm_certificate": Kind(CertificateManager, "ACM certificate"),
    "aws_api_gateway_domain_name": Kind(APIGateway, "custom domain", entry_point=True),
    "aws_route53_record": Kind(Route53, "Route 53 record"),
}
FAMILY_KIND = Kind(General, "")


@dataclass(frozen=True)
class Place:
    """Where a node sits: the region, a VPC, a subnet tier of that VPC, or one subnet."""

    vpc: str | None = None
    tier: str | None = None
    subnet: str | None = None


@dataclass(frozen=True)
class Vpc:
    address: str | None  # None: subnets of a VPC declared outside this stack
    name: str
    cidr: str

    @property
    def label(self) -> str:
        return f"VPC {self.name} ({self.cidr})" if self.cidr else f"VPC {self.name}"


@dataclass(frozen=True)
class Subnet:
    address: str
    vpc: str | None
    tier: str
    label: str


@dataclass
class PictureNode:
    key: str
    kind: Kind
    family: str
    label: str
    resources: list[str]  # every address this node draws, its own resource first
    place: Place = field(default_factory=Place)


@dataclass(frozen=True)
class PictureEdge:
    tail: str
    head: str
    into_subnet: bool  # placement ("runs in"), not a call or a reference to use


@dataclass
class Picture:
    title: str
    region_label: str
    vpcs: list[Vpc]
    subnets: list[Subnet]
    nodes: list[PictureNode]
    edges: list[PictureEdge]
    entry_points: list[str]

    def node(self, key: str) -> PictureNode:
        return next(node for node in self.nodes if node.key == key)


class _Graph:
    """Resources of one stack and their references, both ways."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.resources = {resource.address: resource for resource in stack_resources(document)}
        declared = set(self.resources)
        self.refs = {
            address: referenced_addresses(resource.body, declared)
            for address, resource in self.resources.items()
        }
        self.referrers: dict[str, set[str]] = {address: set() for address in declared}
        for address, targets in self.refs.items():
            for target in targets:
                self.referrers[target].add(address)

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == resource_type]


def _common_prefix_length(first: str, second: str) -> int:
    shared = 0
    for left, right in zip(first.split("_"), second.split("_"), strict=False):
        if left != right:
            break
        shared += 1
    return shared


def _owner(
    graph: _Graph, part: Resource, owners: set[str], neighbours: Callable[[str], set[str]]
) -> str | None:
    """The nearest owner of the part's family, walking through other parts of that family."""
    seen = {part.address}
    frontier = [part.address]
    while frontier:
        reached = sorted(
            {n for address in frontier for n in neighbours(address)} - seen,
        )
        seen.update(reached)
        # A VPC is a cluster, not a part: walking through it would reach every network resource.
        same_family = [
            a
            for a in reached
            if graph.resources[a].family == part.family and graph.resources[a].type != VPC_TYPE
        ]
        candidates = [a for a in same_family if a in owners]
        if candidates:
            # A route belongs to its route table rather than to the gateway it points at.
            return min(candidates, key=lambda a: (-_common_prefix_length(part.type, a), a))
        frontier = [a for a in same_family if a not in owners]
    return None


def _assign_parts(graph: _Graph, owners: set[str], parts: list[Resource]) -> dict[str, str | None]:
    """Each part's owner: first along the references it makes (a listener names its load
    balancer), then along references in either direction (a NAT gateway names its EIP)."""

    def either_way(address: str) -> set[str]:
        return graph.refs[address] | graph.referrers[address]

    assignment: dict[str, str | None] = {}
    for part in parts:
        assignment[part.address] = _owner(
            graph, part, owners, lambda address: graph.refs[address]
        ) or _owner(graph, part, owners, either_way)
    return assignment


def _display_name(resource: Resource) -> str:
    body = resource.body
    names = ("name", "function_name", "alarm_name", "dashboard_name", "deployment_group_name")
    for key in (*names, "domain_name", "bucket", "bucket_prefix"):
        value = body.get(key)
        if isinstance(value, str) and "${" not in value:
            return value + ("*" if key == "bucket_prefix" else "")
    tag_name = (body.get("tags") or {}).get("Name")
    if isinstance(tag_name, str) and "${" not in tag_name:
        return tag_name
    return _ID_HASH.sub("", resource.name)


def _title(resource: Resource, kind: Kind) -> str:
    body = resource.body
    if resource.type in ("aws_lb", "aws_alb"):
        internal = " (internal)" if body.get("internal") is True else ""
        return f"{body.get('load_balancer_type', 'application')} {kind.title}{internal}"
    if resource.type == "aws_vpc_endpoint":
        return f"{kind.title} ({body.get('vpc_endpoint_type', 'Gateway')})"
    return kind.title


def _kind(resource: Resource) -> Kind:
    kind = ICONS[resource.type]
    if resource.type in ("aws_lb", "aws_alb"):
        icon = (
            ElbNetworkLoadBalancer
            if resource.body.get("load_balancer_type") == "network"
            else ElbApplicationLoadBalancer
        )
        return Kind(icon, kind.title, entry_point=resource.body.get("internal") is not True)
    return kind


def _short_type(resource_type: str, relative_to: str) -> str:
    """`aws_api_gateway_stage` next to `aws_api_gateway_rest_api` -> `stage`."""
    words = resource_type.split("_")
    shared = _common_prefix_length(resource_type, relative_to)
    rest = words[shared:] if shared < len(words) else words[1:]
    return " ".join(rest)


def _wrap(text: str, width: int = _LABEL_WIDTH) -> list[str]:
    """Lines of at most `width` characters, broken after spaces, hyphens and slashes."""
    lines = [""]
    for token in re.findall(r"[\s/-]*[^\s/-]+[\s/-]*", text):
        if lines[-1] and len(lines[-1].rstrip()) + len(token.rstrip()) > width:
            lines.append("")
        lines[-1] += token
    return [line.rstrip() for line in lines]


def _type_counts(types: Iterable[str], relative_to: str) -> list[str]:
    counts = Counter(_short_type(t, relative_to) for t in types)
    return [f"{n}x {name}" if n > 1 else name for name, n in sorted(counts.items())]


def _node_key(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", address)


def _subnet_tier(graph: _Graph, subnet: str) -> str:
    """`public` when a route table of the subnet routes to an internet gateway."""
    route_tables = {
        target
        for referrer in graph.referrers[subnet]
        for target in graph.refs[referrer]
        if graph.resources[target].type == "aws_route_table"
    }
    routing = route_tables | {
        referrer for table in route_tables for referrer in graph.referrers[table]
    }
    reaches_internet = any(
        target.startswith("aws_internet_gateway.")
        for address in routing
        for target in graph.refs[address]
    )
    return "public" if reaches_internet else "private"


def _subnets(graph: _Graph) -> list[Subnet]:
    found = []
    for resource in graph.of_type(SUBNET_TYPE):
        vpcs = sorted(a for a in graph.refs[resource.address] if a.startswith(f"{VPC_TYPE}."))
        body = resource.body
        zone = body.get("availability_zone") or body.get("availability_zone_id") or "any AZ"
        found.append(
            Subnet(
                address=resource.address,
                vpc=vpcs[0] if vpcs else None,
                tier=_subnet_tier(graph, resource.address),
                label=f"{_display_name(resource)} ({zone})",
            )
        )
    return found


def _place(refs: set[str], subnets: dict[str, Subnet]) -> Place:
    named_subnets = sorted(refs & subnets.keys())
    if len(named_subnets) == 1:
        subnet = subnets[named_subnets[0]]
        return Place(subnet.vpc, subnet.tier, subnet.address)
    if named_subnets:
        return _common_place([_place({address}, subnets) for address in named_subnets])
    vpcs = sorted(a for a in refs if a.startswith(f"{VPC_TYPE}."))
    return Place(vpcs[0]) if len(vpcs) == 1 else Place()


def _common_place(places: list[Place]) -> Place:
    """The innermost cluster that holds all of the places."""
    vpc, tier, subnet = places[0].vpc, places[0].tier, places[0].subnet
    for place in places[1:]:
        if place.vpc != vpc:
            return Place()
        if place.tier != tier:
            tier, subnet = None, None
        elif place.subnet != subnet:
            subnet = None
    return Place(vpc, tier, subnet)


def _cidr_label(resource: Resource) -> str:
    cidr = resource.body.get("cidr_block")
    return cidr if isinstance(cidr, str) and "${" not in cidr else ""


def _owner_node(
    graph: _Graph, address: str, owned: list[str], subnets: dict[str, Subnet]
) -> PictureNode:
    resource = graph.resources[address]
    if resource.type == SUBNET_TYPE:
        subnet = subnets[address]
        kind = Kind(PublicSubnet if subnet.tier == "public" else PrivateSubnet, "subnet")
        lines = [_cidr_label(resource) or _display_name(resource)]
        place = Place(subnet.vpc, subnet.tier, address)
    else:
        kind = _kind(resource)
        lines = [*_wrap(_display_name(resource)), _title(resource, kind)]
        place = _place(graph.refs[address], subnets)
    if owned:
        parts = _type_counts((graph.resources[a].type for a in owned), resource.type)
        lines += _wrap("+ " + ", ".join(parts))
    return PictureNode(
        _node_key(address), kind, resource.family, "\n".join(lines), [address, *owned], place
    )


def _family_node(
    graph: _Graph, family: str, members: list[str], subnets: dict[str, Subnet]
) -> PictureNode:
    """One node for the resources of a family that belong to no drawn resource."""
    types = [graph.resources[a].type for a in members]
    label = "\n".join([family, *_wrap(", ".join(_type_counts(types, "aws")))])
    # Members that name no VPC or subnet (a security group rule names only its group) must not
    # pull the node out of the VPC the others are in.
    places = [p for p in (_place(graph.refs[a], subnets) for a in members) if p != Place()]
    place = _common_place(places) if places else Place()
    return PictureNode(f"family_{_node_key(family)}", FAMILY_KIND, family, label, members, place)


def _nodes(graph: _Graph, subnets: dict[str, Subnet]) -> list[PictureNode]:
    owners = {a for a, r in graph.resources.items() if r.type in ICONS}
    parts = [r for a, r in graph.resources.items() if a not in owners and r.type != VPC_TYPE]
    assignment = _assign_parts(graph, owners, parts)
    nodes = [
        _owner_node(
            graph, owner, [a for a in sorted(assignment) if assignment[a] == owner], subnets
        )
        for owner in sorted(owners)
    ]
    orphans = sorted(a for a, owner in assignment.items() if owner is None)
    for family in sorted({graph.resources[a].family for a in orphans}):
        members = [a for a in orphans if graph.resources[a].family == family]
        nodes.append(_family_node(graph, family, members, subnets))
    return nodes


def _edges(graph: _Graph, nodes: list[PictureNode], entry_points: list[str]) -> list[PictureEdge]:
    node_of = {address: node.key for node in nodes for address in node.resources}
    subnet_nodes = {node.key for node in nodes if node.resources[0].startswith(f"{SUBNET_TYPE}.")}
    links = {
        (node_of[source], node_of[target])
        for source, targets in graph.refs.items()
        if source in node_of
        for target in targets
        if target in node_of and node_of[source] != node_of[target]
    }
    depth = _depths(entry_points, links)
    kept = {
        (tail, head)
        for tail, head in links
        # A permission names its caller: keep one arrow, pointing away from the clients.
        if (head, tail) not in links
        or (depth.get(tail, len(nodes)), tail) < (depth.get(head, len(nodes)), head)
    }
    edges = [PictureEdge(CLIENTS, key, into_subnet=False) for key in entry_points]
    edges += [PictureEdge(t, h, into_subnet=h in subnet_nodes) for t, h in sorted(kept)]
    return edges


def _depths(starts: list[str], links: set[tuple[str, str]]) -> dict[str, int]:
    depth = dict.fromkeys(starts, 0)
    queue = deque(starts)
    while queue:
        current = queue.popleft()
        for tail, head in sorted(links):
            if tail == current and head not in depth:
                depth[head] = depth[current] + 1
                queue.append(head)
    return depth


def build_picture(stack_name: str, document: dict[str, Any]) -> Picture:
    """Everything to draw for one synthesized stack; no rendering, no files."""
    graph = _Graph(document)
    subnets = {subnet.address: subnet for subnet in _subnets(graph)}
    nodes = _nodes(graph, subnets)
    entry_points = [node.key for node in nodes if node.kind.entry_point]
    providers = document.get("provider", {}).get("aws", [{}])
    region = providers[0].get("region", "region from the environment")
    vpcs = [
        Vpc(vpc.address, _display_name(vpc), _cidr_label(vpc)) for vpc in graph.of_type(VPC_TYPE)
    ]
    if any(subnet.vpc is None for subnet in subnets.values()):
        vpcs.append(Vpc(None, "declared outside this stack", ""))
    return Picture(
        title=f"{stack_name}: {len(graph.resources)} resources",
        region_label=f"AWS {region}",
        vpcs=vpcs,
        subnets=sorted(subnets.values(), key=lambda s: (s.vpc or "", s.tier, s.label)),
        nodes=nodes,
        edges=_edges(graph, nodes, entry_points),
        entry_points=entry_points,
    )
