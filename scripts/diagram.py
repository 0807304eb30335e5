"""Draw one architecture picture per stack from the synthesized Terraform JSON.

Usage: python -m scripts.diagram [--synth-dir cdktf.out] [--outdir docs] [STACK ...]
Reads <synth-dir>/stacks/<stack>/cdk.tf.json (run `make synth` first), writes <outdir>/<stack>.png.

A picture is rewritten only when what it shows changed: each PNG carries the SHA-256 of its
Graphviz source (without the machine's install path) and of the icon set's version, so a
fresh clone on another machine, whose Graphviz or fonts would give other pixels, leaves the
committed pictures as they are.

Nothing is hand-listed: every resource in the JSON is drawn. Types with an icon below get their
own node; every other resource is listed on the node of its family that it belongs to (found by
following its references), or on one node per family when it belongs to none. VPCs, public and
private subnets (public = routed to an internet gateway) are the clusters; a resource sits in
the subnets, tier or VPC that its own arguments name.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import re
import shutil
import struct
import sys
import tempfile
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagrams import Cluster, Diagram, Edge, Node
from diagrams.aws.compute import Lambda
from diagrams.aws.database import DynamodbTable
from diagrams.aws.devtools import Codedeploy
from diagrams.aws.general import General, Users
from diagrams.aws.integration import SNS, SQS, EventbridgeRule, EventbridgeScheduler
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
    synthesized_stacks,
)

EXIT_BAD_INPUT = 2
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
    "aws_scheduler_schedule": Kind(EventbridgeScheduler, "EventBridge schedule"),
    "aws_cloudwatch_event_rule": Kind(EventbridgeRule, "EventBridge rule"),
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


def _tooltip(node: PictureNode) -> str:
    return f"family: {node.family}; resources: {', '.join(node.resources)}"


def _draw_nodes(picture: Picture, place: Place, drawn: dict[str, Node]) -> None:
    for node in picture.nodes:
        if node.place == place:
            drawn[node.key] = node.kind.icon(node.label, nodeid=node.key, tooltip=_tooltip(node))


def _draw_vpc(picture: Picture, vpc: Vpc, drawn: dict[str, Node]) -> None:
    # Graphviz names a cluster after its label: tier labels carry the VPC name to stay unique.
    with Cluster(vpc.label, graph_attr={"fontsize": "14"}):
        _draw_nodes(picture, Place(vpc.address), drawn)
        subnets = [s for s in picture.subnets if s.vpc == vpc.address]
        for tier in sorted({s.tier for s in subnets}):
            with Cluster(f"{tier} subnets of {vpc.name}"):
                _draw_nodes(picture, Place(vpc.address, tier), drawn)
                for subnet in (s for s in subnets if s.tier == tier):
                    with Cluster(subnet.label):
                        _draw_nodes(picture, Place(vpc.address, tier, subnet.address), drawn)


GRAPH_ATTRIBUTES = {
    "pad": "0.4",
    "nodesep": "0.9",
    "ranksep": "1.0",
    "fontsize": "20",
    "splines": "spline",
    "labelloc": "t",
}


def render(picture: Picture, png_path: Path) -> str:
    """Write the PNG; return the Graphviz source it was drawn from (labels, clusters, edges)."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, Node] = {}
    with Diagram(
        picture.title,
        filename=str(png_path.with_suffix("")),
        outformat="png",
        show=False,
        direction="TB",
        graph_attr=GRAPH_ATTRIBUTES,
    ) as diagram:
        drawn[CLIENTS] = Users("clients (internet)", nodeid=CLIENTS)
        with Cluster(picture.region_label, graph_attr={"fontsize": "16"}):
            _draw_nodes(picture, Place(), drawn)
            for vpc in picture.vpcs:
                _draw_vpc(picture, vpc, drawn)
        for edge in picture.edges:
            tail, head = drawn[edge.tail], drawn[edge.head]
            # Into a subnet: a dotted line without arrow ("runs in"), not a call.
            style = {"style": "dotted"} if edge.into_subnet else {}
            tail.connect(head, Edge(tail, forward=not edge.into_subnet, **style))
        source: str = diagram.dot.source
    return source


# A PNG text chunk (keyword, NUL, text) holding the digest of what the picture shows.
DIGEST_KEYWORD = b"diagram-source-sha256"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Icons are files inside the installed `diagrams` package: the folder differs between machines.
_ICON_INSTALL_FOLDER = re.compile(r'image="[^"]*/resources/')


def source_digest(source: str) -> str:
    """What a picture shows: its Graphviz source, icons named without the folder the package
    is installed in, and the version of the package the icons come from."""
    portable = _ICON_INSTALL_FOLDER.sub('image="resources/', source)
    icons = f"diagrams {importlib.metadata.version('diagrams')}"
    return hashlib.sha256(f"{icons}\n{portable}".encode()).hexdigest()


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, data) of each chunk of a PNG."""
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        yield data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        offset += 12 + length


def recorded_digest(png_path: Path) -> str | None:
    """The digest a picture was drawn with, or None (no file, not a PNG, drawn without one)."""
    try:
        data = png_path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.startswith(PNG_SIGNATURE):
        return None
    for kind, content in png_chunks(data):
        keyword, _, text = content.partition(b"\0")
        if kind == b"tEXt" and keyword == DIGEST_KEYWORD:
            return text.decode("latin-1")
    return None


def with_digest(png: bytes, digest: str) -> bytes:
    """The PNG with a text chunk holding `digest`, right after its header chunk."""
    content = DIGEST_KEYWORD + b"\0" + digest.encode("latin-1")
    chunk = struct.pack(">I", len(content)) + b"tEXt" + content
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + content))
    (header_length,) = struct.unpack(">I", png[8:12])
    end_of_header = len(PNG_SIGNATURE) + 12 + header_length
    return png[:end_of_header] + chunk + png[end_of_header:]


def draw(picture: Picture, png_path: Path) -> bool:
    """Write `png_path` unless it already shows this picture; True when it was written."""
    with tempfile.TemporaryDirectory() as scratch:
        drawn = Path(scratch) / png_path.name
        digest = source_digest(render(picture, drawn))
        if recorded_digest(png_path) == digest:
            return False
        png_path.parent.mkdir(parents=True, exist_ok=True)
        # Staged next to the picture: a rename within one folder replaces it in one step.
        staged = png_path.with_name(f".{png_path.name}.staged")
        staged.write_bytes(with_digest(drawn.read_bytes(), digest))
        os.replace(staged, png_path)
    return True


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="*", help="stack names (default: every synthesized stack)")
    parser.add_argument("--synth-dir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--outdir", type=Path, default=Path("docs"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if shutil.which("dot") is None:
        print("Graphviz `dot` not found on PATH: apt-get install graphviz", file=sys.stderr)
        return EXIT_BAD_INPUT
    manifest = args.synth_dir / "manifest.json"
    if not manifest.is_file():
        print(f"{manifest}: not found; run `make synth` first", file=sys.stderr)
        return EXIT_BAD_INPUT
    stacks = {stack.name: stack for stack in synthesized_stacks(args.synth_dir)}
    unknown = [name for name in args.stacks if name not in stacks]
    if unknown:
        print(
            f"{manifest}: stacks: no stack named {', '.join(unknown)} (found: {', '.join(stacks)})",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    for name in args.stacks or list(stacks):
        png = args.outdir / f"{name}.png"
        written = draw(build_picture(name, stacks[name].document), png)
        print(f"wrote {png}" if written else f"{png}: unchanged (it shows this stack)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
