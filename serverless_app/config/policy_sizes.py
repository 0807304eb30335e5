"""The size checks of each function's policies, estimated from the configuration before any
Terraform runs: its role's inline policies (IAM) and its resource-based policy (Lambda)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from constructs_lib.permissions import (
    IAM_ROLE_INLINE_POLICIES_MAX_CHARACTERS,
    LAMBDA_POLICY_MAX_BYTES,
    GrantedResources,
    RoutedFunction,
    estimated_policy_bytes,
    estimated_role_policy_characters,
)
from serverless_app.config.data import grant_statements
from serverless_app.config.derived import target_group_name
from serverless_app.config.problems import Problem

if TYPE_CHECKING:
    from serverless_app.config.environment import StackConfig


def role_policy_problems(config: StackConfig) -> Iterator[Problem]:
    """Each granted object key and secret parameter is an ARN in the function role's inline
    policies, which IAM limits to 10,240 characters per role."""
    for key, function in config.functions.items():
        statements = tuple(
            grant_statements(
                config.region, config.name_prefix, function.grants, config.tables, config.buckets
            )
        )
        granted = GrantedResources(
            region=config.region,
            statements=statements,
            parameter_names=tuple(function.secrets.values()),
        )
        size = estimated_role_policy_characters(granted)
        if size > IAM_ROLE_INLINE_POLICIES_MAX_CHARACTERS:
            message = (
                "its role's inline policies would be too long, each granted object key and "
                f"secret parameter an ARN in them; IAM allows "
                f"{IAM_ROLE_INLINE_POLICIES_MAX_CHARACTERS:,} characters per role: grant a prefix "
                "(`reports/*`) instead of many keys"
            )
            # Reported on the side that lists more: object keys or secret parameters.
            objects = sum(len(arn) for each in statements for arn in each.resources)
            larger = "grants" if objects >= sum(map(len, granted.parameter_names)) else "secrets"
            yield Problem(("functions", key, larger), message, size)


def resource_policy_problems(config: StackConfig) -> Iterator[Problem]:
    """Each route adds a permission to its function's resource-based policy, which Lambda
    limits to 20 KB."""
    for key, function in config.functions.items():
        routes = config.routes_of(key)
        routed = RoutedFunction(
            function_name=function.name,
            region=config.region,
            routes=tuple((route.method, route.path) for route in routes),
            target_group_name=(
                target_group_name(config, key)
                if any(route.load_balancer for route in routes)
                else None
            ),
            authorizers=tuple(
                name
                for name, authorizer in config.authorizers.items()
                if authorizer.function == key
            ),
        )
        size = estimated_policy_bytes(routed)
        if size > LAMBDA_POLICY_MAX_BYTES:
            message = (
                f"its resource-based policy would be about {size:,} bytes, one permission per "
                f"route; Lambda allows {LAMBDA_POLICY_MAX_BYTES:,}: send fewer routes to it (one "
                "greedy {proxy+} route serves many paths)"
            )
            yield Problem(("functions", key), message, len(routes))
