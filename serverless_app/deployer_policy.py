"""The least-privilege IAM policy of the principal that runs `terraform plan`, `apply` (a first
apply and a change) and `destroy` on one synthesized stack, generated from the stack's JSON.

The table `PERMISSIONS` (serverless_app/deployer_permissions/) says for each resource type and
data source what Terraform's AWS provider calls for it, as IAM actions on ARN templates; here
they are filled with the stack's name prefix, region and account, merged into statements and
split into managed policies within IAM's size. A stack holding a type the table does not know
is refused: the policy would be incomplete. Standard library only: the policy is generated from
the JSON, not from the app.

`iam:PassRole` is granted for the stack's own roles only (their literal names in the JSON),
each to the services its trust policy names (`iam:PassedToService`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from serverless_app.deployer_permissions import NAME_ATTRIBUTES, PERMISSIONS

POLICY_VERSION = "2012-10-17"
# IAM quotas: a managed policy holds at most 6,144 characters (whitespace not counted); a role
# has at most 10 managed policies attached (the default quota; it can be raised to 20).
MANAGED_POLICY_MAX_CHARACTERS = 6144
MANAGED_POLICIES_PER_ROLE = 10
# Terraform interpolations in a literal name: `${aws_api_gateway_rest_api.x.id}`.
INTERPOLATION = re.compile(r"\$\{[^}]*\}")
# Which service takes each role, by the principal its trust policy names.
PASS_ROLE_ACTION = "iam:PassRole"


class UnknownTypes(ValueError):
    """The stack holds types the table does not know: the policy would be incomplete."""

    def __init__(self, types: list[str]) -> None:
        super().__init__(
            f"no deployer permissions known for {', '.join(types)}: add them to "
            "their family's table in serverless_app/deployer_permissions/"
        )
        self.types = types


@dataclass(frozen=True)
class Scope:
    partition: str
    region: str
    account: str
    prefix: str


def stack_types(stack: Mapping[str, Any]) -> list[str]:
    """Every resource type and data source (`data.<type>`) of a synthesized stack."""
    resources = list(stack.get("resource", {}))
    return sorted(resources + [f"data.{kind}" for kind in stack.get("data", {})])


def unknown_types(stack: Mapping[str, Any]) -> list[str]:
    return [kind for kind in stack_types(stack) if kind not in PERMISSIONS]


def deployer_policies(stack: Mapping[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """The managed policy documents (each within IAM's size) that together allow plan, apply,
    change and destroy of `stack`."""
    documents: list[list[dict[str, Any]]] = [[]]
    for statement in deployer_statements(stack, scope):
        if policy_characters(documents[-1] + [statement]) > MANAGED_POLICY_MAX_CHARACTERS:
            documents.append([])
        documents[-1].append(statement)
    if len(documents) > MANAGED_POLICIES_PER_ROLE:
        raise ValueError(
            f"the deployer policy needs {len(documents)} managed policies; a role takes "
            f"{MANAGED_POLICIES_PER_ROLE} (IAM's default quota)"
        )
    return [policy_document(statements) for statements in documents]


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}


def policy_characters(statements: list[dict[str, Any]]) -> int:
    """What IAM counts against the size quota: the document without whitespace."""
    return len(json.dumps(policy_document(statements), separators=(",", ":")))


def deployer_statements(stack: Mapping[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """Every statement plan, apply, change and destroy of `stack` need."""
    missing = unknown_types(stack)
    if missing:
        raise UnknownTypes(missing)
    by_resources: dict[tuple[str, ...], set[str]] = {}
    for kind in stack_types(stack):
        names = literal_names(stack, kind)
        for item in PERMISSIONS[kind]:
            resources = tuple(sorted(set(_filled(item.resources, scope, names))))
            if resources:
                by_resources.setdefault(resources, set()).update(item.actions)
    statements = [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)}
        for resources, actions in _merged(by_resources)
    ]
    statements += pass_role_statements(stack, scope)
    for number, statement in enumerate(statements, start=1):
        statement["Sid"] = f"Deploy{number}"
    return statements


def _merged(
    by_resources: dict[tuple[str, ...], set[str]],
) -> list[tuple[tuple[str, ...], set[str]]]:
    """One statement per set of resources, and resource sets with equal actions joined."""
    by_actions: dict[tuple[str, ...], set[str]] = {}
    for resources, actions in by_resources.items():
        by_actions.setdefault(tuple(sorted(actions)), set()).update(resources)
    return sorted(
        (tuple(sorted(resources)), set(actions)) for actions, resources in by_actions.items()
    )


def _filled(templates: Iterable[str], scope: Scope, names: list[str]) -> Iterator[str]:
    for template in templates:
        values = {
            "partition": scope.partition,
            "region": scope.region,
            "account": scope.account,
            "prefix": scope.prefix,
        }
        if "{name}" not in template:
            yield template.format(**values)
            continue
        for name in names:
            yield template.format(**values, name=name)


def literal_names(stack: Mapping[str, Any], kind: str) -> list[str]:
    """The names the stack gives items of `kind`, interpolations as `*`."""
    attribute = NAME_ATTRIBUTES.get(kind)
    if attribute is None:
        return []
    section, _, type_name = kind.rpartition(".")
    items = stack.get("data" if section == "data" else "resource", {}).get(type_name, {})
    return sorted(
        {
            INTERPOLATION.sub("*", str(body[attribute]))
            for body in items.values()
            if attribute in body
        }
    )


def pass_role_statements(stack: Mapping[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """`iam:PassRole` on each of the stack's roles, to the services its trust policy names."""
    statements = []
    for body in stack.get("resource", {}).get("aws_iam_role", {}).values():
        services = trusted_services(stack, body.get("assume_role_policy", ""))
        name = body.get("name")
        if not services or name is None or INTERPOLATION.search(name):
            continue
        arn = f"arn:{scope.partition}:iam::{scope.account}:role/{body.get('path', '/')}{name}"
        statements.append(
            {
                "Effect": "Allow",
                "Action": [PASS_ROLE_ACTION],
                "Resource": [arn.replace("role//", "role/")],
                "Condition": {"StringEquals": {"iam:PassedToService": services}},
            }
        )
    return sorted(statements, key=lambda statement: statement["Resource"])


def trusted_services(stack: Mapping[str, Any], assume_role_policy: str) -> list[str]:
    """The service principals of a trust policy: a JSON document, or a reference to a
    `data.aws_iam_policy_document` of the stack."""
    reference = re.fullmatch(
        r"\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}", assume_role_policy
    )
    if reference is not None:
        document = stack["data"]["aws_iam_policy_document"][reference.group(1)]
        principals = [
            principal
            for statement in document.get("statement", [])
            for principal in statement.get("principals", [])
        ]
        identifiers = [p["identifiers"] for p in principals if p.get("type") == "Service"]
        return sorted({service for group in identifiers for service in group})
    try:
        document = json.loads(assume_role_policy)
    except ValueError:
        return []
    services: set[str] = set()
    for statement in document.get("Statement", []):
        service = statement.get("Principal", {}).get("Service", [])
        services.update([service] if isinstance(service, str) else service)
    return sorted(services)
