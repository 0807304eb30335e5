"""The statements API Gateway and the load balancer need in a function's resource-based policy
(one `aws_lambda_permission` each), and Lambda's limit on that policy's size.

Standard library only: the configuration checks estimate each function's policy from the
routes before anything is built, and the constructs write the statements from the same
formats here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from constructs_lib.paths import slug, wildcard_path

# Lambda quotas, "Function resource-based policy: 20 KB" (lambda/latest/dg/
# gettingstarted-limits.html, not adjustable): past it AddPermission fails with
# PolicyLengthExceededException. The policy of a qualifier (the `live` alias) counts alone.
LAMBDA_POLICY_MAX_BYTES = 20 * 1024
# The alias callers invoke; every permission is granted on it.
LIVE_ALIAS = "live"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
LOAD_BALANCER_PRINCIPAL = "elasticloadbalancing.amazonaws.com"
LOAD_BALANCER_STATEMENT_ID = "AllowExecutionFromLoadBalancer"
INVOKE_ACTION = "lambda:InvokeFunction"
# Stand-ins of the lengths AWS gives the parts nobody knows before the apply.
_ACCOUNT = "1" * 12
_API_ID = "a" * 10
_TARGET_GROUP_ID = "f" * 16


def api_statement_id(method: str, path: str) -> str:
    """The statement id of route `method path` (letters, digits and `-`, at most 85)."""
    return f"AllowApiGateway-{slug(f'{method} {path}')}"


def api_source_arn(execution_arn: str, method: str, path: str) -> str:
    """`<execution_arn>/<stage>/<method>/<path>`: any stage, this method and path only."""
    return f"{execution_arn}/*/{'*' if method == 'ANY' else method}{wildcard_path(path)}"


@dataclass(frozen=True)
class RoutedFunction:
    """What decides the size of a function's policy: its name, region, routes and whether
    the load balancer invokes it (through the target group named here)."""

    function_name: str
    region: str
    routes: tuple[tuple[str, str], ...]  # (method, path) on the REST API
    target_group_name: str | None = None


def estimated_policy_bytes(function: RoutedFunction) -> int:
    """The size of the `live` alias's policy as Lambda stores it (compact JSON), with ids of
    the lengths AWS gives them."""
    arn = f"arn:aws:lambda:{function.region}:{_ACCOUNT}:function:{function.function_name}"
    execution_arn = f"arn:aws:execute-api:{function.region}:{_ACCOUNT}:{_API_ID}"
    statements = [
        _statement(
            api_statement_id(method, path),
            API_GATEWAY_PRINCIPAL,
            f"{arn}:{LIVE_ALIAS}",
            api_source_arn(execution_arn, method, path),
        )
        for method, path in function.routes
    ]
    if function.target_group_name is not None:
        target_group_arn = (
            f"arn:aws:elasticloadbalancing:{function.region}:{_ACCOUNT}:targetgroup/"
            f"{function.target_group_name}/{_TARGET_GROUP_ID}"
        )
        statements.append(
            _statement(
                LOAD_BALANCER_STATEMENT_ID,
                LOAD_BALANCER_PRINCIPAL,
                f"{arn}:{LIVE_ALIAS}",
                target_group_arn,
            )
        )
    return _policy_bytes(statements)


def _statement(sid: str, service: str, resource: str, source_arn: str) -> dict[str, object]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": INVOKE_ACTION,
        "Resource": resource,
        "Condition": {"ArnLike": {"AWS:SourceArn": source_arn}},
    }


def _policy_bytes(statements: Iterable[dict[str, object]]) -> int:
    policy = {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}
    return len(json.dumps(policy, separators=(",", ":")).encode())
