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
# IAM quotas, "Role policy size": the inline policies of one role together at most 10,240
# characters, whitespace not counted (IAM/latest/UserGuide/reference_iam-quotas.html, not
# adjustable). Past it the role's PutRolePolicy fails (LimitExceeded) at apply time.
IAM_ROLE_INLINE_POLICIES_MAX_CHARACTERS = 10_240
# A function role's inline policies without its grants and the parameter ARNs it lists: the
# dead-letter queue, the stack key and the scaffolding of the secret statement, as compact
# JSON with the longest names (a 59-character function, ap-southeast-7). Measured as 2,022
# together with a 255-character table's read and write statements and the empty object
# statements, which `estimated_role_policy_characters` counts per grant (1,199 of them):
# 823, rounded up.
FUNCTION_ROLE_FIXED_CHARACTERS = 900
# Stand-ins of the lengths AWS gives the parts nobody knows before the apply.
_ACCOUNT = "1" * 12
_API_ID = "a" * 10
_TARGET_GROUP_ID = "f" * 16


def statement_name(action: str, resource_id: str) -> str:
    """`action` followed by `resource_id` in PascalCase ("ReadItems", "order-items" ->
    "ReadItemsOrderItems"): the name of a grant's statement and inline policy, unique per
    resource. IAM statement ids allow letters and digits only; ids whose hyphens are each
    followed by a letter map to distinct names."""
    return action + "".join(part[:1].upper() + part[1:] for part in resource_id.split("-"))


def api_statement_id(method: str, path: str) -> str:
    """The statement id of route `method path` (letters, digits and `-`, at most 85)."""
    return f"AllowApiGateway-{slug(f'{method} {path}')}"


def api_source_arn(execution_arn: str, method: str, path: str) -> str:
    """`<execution_arn>/<stage>/<method>/<path>`: any stage, this method and path only."""
    return f"{execution_arn}/*/{'*' if method == 'ANY' else method}{wildcard_path(path)}"


def authorizer_statement_id(name: str) -> str:
    """The statement id letting API Gateway run authorizer `name` (a lowercase key)."""
    return f"AllowApiGatewayAuthorizer-{name}"


def authorizer_source_arn(execution_arn: str) -> str:
    """`<execution_arn>/authorizers/*`: the API's authorizers, whose ids the API's document
    import gives them (no other part of the API may invoke the function this way)."""
    return f"{execution_arn}/authorizers/*"


@dataclass(frozen=True)
class RoutedFunction:
    """What decides the size of a function's policy: its name, region, routes and whether
    the load balancer invokes it (through the target group named here)."""

    function_name: str
    region: str
    routes: tuple[tuple[str, str], ...]  # (method, path) on the REST API
    target_group_name: str | None = None
    # The API authorizers it is the function of.
    authorizers: tuple[str, ...] = ()


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
    statements += [
        _statement(
            authorizer_statement_id(name),
            API_GATEWAY_PRINCIPAL,
            f"{arn}:{LIVE_ALIAS}",
            authorizer_source_arn(execution_arn),
        )
        for name in function.authorizers
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


@dataclass(frozen=True)
class GrantStatement:
    """One grant on a table or on a bucket's objects, as its own inline policy of the role."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def table_statement(
    sid: str, actions: tuple[str, ...], region: str, table_name: str
) -> GrantStatement:
    return GrantStatement(
        sid, actions, (f"arn:aws:dynamodb:{region}:{_ACCOUNT}:table/{table_name}",)
    )


def object_statement(
    sid: str, actions: tuple[str, ...], bucket_name: str, keys: Iterable[str]
) -> GrantStatement:
    return GrantStatement(sid, actions, tuple(f"arn:aws:s3:::{bucket_name}/{key}" for key in keys))


@dataclass(frozen=True)
class GrantedResources:
    """What decides the size of a function role's inline policies beyond the fixed part: its
    grants on tables and buckets (names of the lengths they will have) and the SSM parameters
    it may read."""

    region: str
    statements: tuple[GrantStatement, ...]
    parameter_names: tuple[str, ...]


def estimated_role_policy_characters(granted: GrantedResources) -> int:
    """The characters IAM counts for the role's inline policies: the fixed part, each grant's
    policy as compact JSON and each parameter ARN as a JSON string with its comma."""
    grants = sum(
        len(
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": statement.sid,
                            "Effect": "Allow",
                            "Action": list(statement.actions),
                            "Resource": list(statement.resources),
                        }
                    ],
                },
                separators=(",", ":"),
                ensure_ascii=False,
            )
        )
        for statement in granted.statements
    )
    parameters = sum(
        len(json.dumps(f"arn:aws:ssm:{granted.region}:{_ACCOUNT}:parameter/{name.lstrip('/')}")) + 1
        for name in granted.parameter_names
    )
    return FUNCTION_ROLE_FIXED_CHARACTERS + grants + parameters
