"""What Terraform's AWS provider calls for each resource type and data source the stacks hold,
as IAM actions on resources: the table the deployer policy (serverless_app/deployer_policy.py)
is generated from, kept as one table per family of AWS services (network, compute, data, api,
monitoring). A new type is a new entry in its family's table; a type no table holds makes the
generator refuse the stack, whose policy would be incomplete.

Resources are ARN templates (grants.py) scoped to the stack's name prefix, region and account
wherever AWS supports resource-level permissions for the action, `*` only where it does not
(Describe/List calls, creating a KMS key or a certificate).
"""

from __future__ import annotations

from collections.abc import Mapping

from serverless_app.deployer_permissions import api, compute, data, monitoring, network
from serverless_app.deployer_permissions.grants import Grant


def joined(*families: Mapping[str, tuple[Grant, ...]]) -> dict[str, tuple[Grant, ...]]:
    """The families' tables as one; a type in two of them would have one entry silently lost."""
    table: dict[str, tuple[Grant, ...]] = {}
    for family in families:
        twice = sorted(table.keys() & family.keys())
        if twice:
            raise ValueError(f"deployer permissions listed twice: {', '.join(twice)}")
        table.update(family)
    return table


PERMISSIONS = joined(
    network.PERMISSIONS,
    compute.PERMISSIONS,
    data.PERMISSIONS,
    api.PERMISSIONS,
    monitoring.PERMISSIONS,
)

# The attribute holding the literal name a `{name}` template is filled with, per type.
NAME_ATTRIBUTES = {
    "aws_cloudwatch_log_group": "name",
    "aws_ssm_parameter": "name",
    "data.aws_ssm_parameters_by_path": "path",
    "aws_route53_record": "zone_id",
    "data.aws_route53_zone": "zone_id",
}
