"""Each function of `make serve` calls moto as its own role, with moto's IAM authorization on.

Per function: a role `<name>-role` trusting Lambda, an inline policy from its grants (the
actions the constructs grant, `constructs_lib.iam_actions`), and temporary credentials from
`sts:AssumeRole`, which its process gets as Lambda gives them (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Then moto authenticates and authorizes every request
(its INITIAL_NO_AUTH_ACTION_COUNT set to 0 through `/moto-api/reset-auth`): an unknown key or a
bad signature is refused, and an action no policy of the caller allows is AccessDenied.

moto's authorization is "very basic" (its docs; moto/iam/access_control.py, moto 5.2), so the
local policy is written for what moto checks, and this is what it does not enforce:

- Resources outside S3: for DynamoDB (and every service but S3, SQS, IAM and STS) moto checks
  the action against the resource "*" only, so a statement naming the table's ARN would never
  match. Table grants are therefore written with Resource "*": locally a function granted a
  table could reach any table. S3 requests are checked against the bucket's and the object's
  ARN, so object grants keep their keys and prefixes and are enforced as in AWS; so are SQS
  requests against the queue's ARN. Topic grants (SNS) are written with Resource "*" too.
- Transactions: AWS authorizes each write of a TransactWriteItems (PutItem, UpdateItem, ...)
  and each read of a TransactGetItems; moto asks for the action of the call itself. A write
  grant therefore also allows `dynamodb:TransactWriteItems` and a read grant
  `dynamodb:TransactGetItems`: locally a transaction with a kind of write the grant lacks
  (a DeleteItem) is allowed.
- Conditions of identity policies, resource-based policies (the bucket policy, with its
  TLS-only statement), KMS key policies, permission boundaries, session policies and SCPs are
  not evaluated; `NotResource` is not understood.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import boto3

from constructs_lib.iam_actions import (
    OBJECT_READ_ACTIONS,
    OBJECT_WRITE_ACTIONS,
    QUEUE_SEND_ACTIONS,
    TABLE_READ_ACTIONS,
    TABLE_WRITE_ACTIONS,
    TOPIC_PUBLISH_ACTIONS,
)

POLICY_VERSION = "2012-10-17"
LAMBDA_TRUST = {
    "Version": POLICY_VERSION,
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# The action moto asks for a transaction, which AWS authorizes item by item (see above).
MOTO_TRANSACTION_ACTIONS = {
    TABLE_WRITE_ACTIONS: "dynamodb:TransactWriteItems",
    TABLE_READ_ACTIONS: "dynamodb:TransactGetItems",
}
TABLE_ACTIONS = {
    "read": (TABLE_READ_ACTIONS,),
    "write": (TABLE_WRITE_ACTIONS,),
    "read_write": (TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS),
}
# A user with every permission, for the server's own calls and for anyone inspecting the data.
ADMIN_USER = "local-admin"


def local_role_policy(
    table_accesses: Iterable[str],
    object_grants: Mapping[str, tuple[Sequence[str], Sequence[str]]],
    queue_arns: Sequence[str] = (),
    publishes: bool = False,
) -> dict[str, Any]:
    """The function's grants as a policy moto can evaluate (see the module docstring): the
    access of each table it is granted (moto checks table actions against "*" only, so the
    tables' names make no difference), and the object keys it may read and write per bucket
    name; `send` on the queues of `queue_arns` (moto checks SQS against the queue's ARN) and,
    when it `publishes` to a topic, `publish` on "*" (moto checks SNS against "*" only)."""
    granted = {actions for access in table_accesses for actions in TABLE_ACTIONS[access]}
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": [*actions, MOTO_TRANSACTION_ACTIONS[actions]],
            "Resource": "*",
        }
        for actions in (TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS)
        if actions in granted
    ]
    for bucket_name, (read, write) in object_grants.items():
        for actions, keys in ((OBJECT_READ_ACTIONS, read), (OBJECT_WRITE_ACTIONS, write)):
            if keys:
                statements.append(
                    {
                        "Effect": "Allow",
                        "Action": list(actions),
                        "Resource": [f"arn:aws:s3:::{bucket_name}/{key}" for key in keys],
                    }
                )
    if queue_arns:
        statements.append(
            {"Effect": "Allow", "Action": list(QUEUE_SEND_ACTIONS), "Resource": list(queue_arns)}
        )
    if publishes:
        statements.append(
            {"Effect": "Allow", "Action": list(TOPIC_PUBLISH_ACTIONS), "Resource": "*"}
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def role_credentials(
    endpoint_url: str, region: str, role_name: str, policy: dict[str, Any]
) -> dict[str, str]:
    """The role with its policy (none when it grants nothing), and the variables holding
    credentials of a session of it."""
    iam = boto3.client("iam", endpoint_url=endpoint_url, region_name=region)
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    if policy["Statement"]:
        iam.put_role_policy(
            RoleName=role_name, PolicyName="grants", PolicyDocument=json.dumps(policy)
        )
    sts = boto3.client("sts", endpoint_url=endpoint_url, region_name=region)
    session = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName=role_name)
    credentials = session["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def admin_credentials(endpoint_url: str, region: str) -> dict[str, str]:
    """A user allowed everything (moto's own Allow * on *), as variables."""
    iam = boto3.client("iam", endpoint_url=endpoint_url, region_name=region)
    iam.create_user(UserName=ADMIN_USER)
    everything = {
        "Version": POLICY_VERSION,
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(everything)
    )
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def enforce_iam(endpoint_url: str) -> None:
    """From now on every request needs a known key, a valid signature and a policy allowing
    its action: moto's INITIAL_NO_AUTH_ACTION_COUNT, in server mode."""
    request = urllib.request.Request(
        endpoint_url + "/moto-api/reset-auth",
        data=b"0",
        # Not urllib's default form type: moto would parse the body as a form and see nothing.
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        reply.read()


def with_credentials(
    environment: Mapping[str, str], credentials: Mapping[str, str]
) -> dict[str, str]:
    """`environment` signing as `credentials` (and without another session's token)."""
    base = {name: value for name, value in environment.items() if name != "AWS_SESSION_TOKEN"}
    return {**base, **credentials}
