"""Checks Terraform makes at plan time on what only the account knows (which zones it has,
whether a hosted zone is public, ...): postconditions of data sources, failing `terraform plan`
with a message that says what to change, before anything is created."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import Postcondition


def plan_check(condition: str, message: str) -> Postcondition:
    """A postcondition: `condition` is a Terraform expression (without `${}`) that may use
    `self`, the object's attributes; `message` may interpolate expressions (`${...}`)."""
    return Postcondition(condition=f"${{{condition}}}", error_message=message)


def hcl_strings(values: Sequence[str]) -> str:
    """A list of string literals in Terraform's expression syntax (the same escapes as JSON)."""
    return json.dumps(list(values))
