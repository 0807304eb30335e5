"""Read a synthesized `cdktf.out/` back: resource families, references, a short summary per stack.

Plain JSON reading, no cdktf import: `main.py` prints `synth_summary(outdir)` after synthesizing,
and `scripts/diagram_model.py` reads its pictures from the same families and references.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serverless_app.prices import cost_floor

# Families that span several type prefixes or whose name is not the type's second word.
# Every other type falls back to that word (`aws_sqs_queue` -> `sqs`), so a new resource type
# always has a family without touching this table.
_FAMILY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("aws_api_gateway_", "api gateway"),
    ("aws_apigatewayv2_", "api gateway"),
    ("aws_lb", "load balancer"),
    ("aws_alb", "load balancer"),
    ("aws_vpc", "network"),
    ("aws_subnet", "network"),
    ("aws_route", "network"),
    ("aws_route53_", "route53"),  # DNS, not the VPC's route tables
    ("aws_main_route_table_association", "network"),
    ("aws_default_route_table", "network"),
    ("aws_internet_gateway", "network"),
    ("aws_egress_only_internet_gateway", "network"),
    ("aws_nat_gateway", "network"),
    ("aws_eip", "network"),
    ("aws_network_acl", "network"),
    ("aws_default_network_acl", "network"),
    ("aws_flow_log", "network"),
    ("aws_security_group", "security group"),
    ("aws_vpc_security_group_", "security group"),
    ("aws_default_security_group", "security group"),
    ("aws_cloudwatch_log_", "logs"),
    ("aws_wafv2_", "waf"),
)
# `type.name` as written in `${...}` expressions and `depends_on`; not preceded by `data.` etc.
_ADDRESS = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*\.[A-Za-z_][\w-]*)")


def resource_family(resource_type: str) -> str:
    """`aws_route_table` -> `network`, `aws_sqs_queue` -> `sqs`, `random_id` -> `random`."""
    matches = [
        (len(prefix), family)
        for prefix, family in _FAMILY_PREFIXES
        if resource_type.startswith(prefix)
    ]
    if matches:
        return max(matches)[1]
    provider, _, rest = resource_type.partition("_")
    return rest.split("_")[0] if provider == "aws" and rest else provider


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    @property
    def family(self) -> str:
        return resource_family(self.type)


def stack_resources(document: dict[str, Any]) -> list[Resource]:
    """Every managed resource of a synthesized stack (data sources create nothing), by address."""
    found = [
        Resource(resource_type, name, body)
        for resource_type, items in document.get("resource", {}).items()
        for name, body in items.items()
    ]
    return sorted(found, key=lambda resource: resource.address)


def json_strings(node: Any) -> Iterator[str]:
    """Every string value anywhere in a JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from json_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from json_strings(value)


def referenced_addresses(body: dict[str, Any], declared: set[str]) -> set[str]:
    """The declared resource addresses that a resource body mentions (expressions, depends_on)."""
    return {
        address
        for text in json_strings(body)
        for address in _ADDRESS.findall(text)
        if address in declared
    }


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    directory: Path
    document: dict[str, Any]


def synthesized_stacks(outdir: Path) -> list[SynthesizedStack]:
    """The stacks listed in `<outdir>/manifest.json`, in manifest order."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return [
        SynthesizedStack(
            name=name,
            directory=outdir / entry["workingDirectory"],
            document=json.loads((outdir / entry["synthesizedStackPath"]).read_text()),
        )
        for name, entry in manifest["stacks"].items()
    ]


def family_counts(resources: list[Resource]) -> list[tuple[str, int]]:
    """Resource count per family, largest first (ties by name)."""
    counts = Counter(resource.family for resource in resources)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def backend_description(document: dict[str, Any]) -> str:
    backends = document.get("terraform", {}).get("backend", {})
    if not backends:
        return "local (terraform.tfstate, Terraform's default)"
    kind: str
    kind, settings = next(iter(backends.items()))
    if kind == "local":
        return f"local ({settings.get('path', 'terraform.tfstate')})"
    if kind == "s3":
        return f"s3 (s3://{settings.get('bucket')}/{settings.get('key')}, {settings.get('region')})"
    return kind


def stack_region(document: dict[str, Any]) -> str:
    """The region of the stack's default (unaliased) AWS provider."""
    providers = document.get("provider", {}).get("aws", [])
    return next((block["region"] for block in providers if "alias" not in block), "unknown")


def stack_summary(stack: SynthesizedStack) -> str:
    resources = stack_resources(stack.document)
    families = ", ".join(f"{family} {count}" for family, count in family_counts(resources))
    outputs = ", ".join(sorted(stack.document.get("output", {}))) or "none"
    return "\n".join(
        (
            f"{stack.name}: {len(resources)} resources in {stack.directory}",
            f"  families: {families}",
            f"  outputs:  {outputs}",
            f"  backend:  {backend_description(stack.document)}",
            f"  cost:     {cost_floor(stack.document, stack_region(stack.document)).describe()}",
        )
    )


def synth_summary(outdir: Path) -> str:
    """What `make synth` prints: one short block per synthesized stack."""
    return "\n".join(stack_summary(stack) for stack in synthesized_stacks(outdir))
