"""Explicit creation order between resources that Terraform cannot infer from references."""

from __future__ import annotations

from cdktf import TerraformResource


def address(resource: TerraformResource) -> str:
    """`type.name`, the form `depends_on` takes in the synthesized JSON."""
    return f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"


def add_depends_on(resource: TerraformResource, *others: TerraformResource) -> None:
    """Append to `resource.depends_on` after construction (the constructor only sets it once)."""
    current = list(resource.depends_on or [])
    resource.depends_on = [*current, *(address(other) for other in others)]
