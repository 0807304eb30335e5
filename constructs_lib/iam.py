"""Least-privilege IAM helpers shared by the constructs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from weakref import WeakKeyDictionary

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct


class Grantable(Protocol):
    """Anything with an IAM role that a `grant_*` helper can add permissions to."""

    def add_to_role_policy(
        self, sid: str, actions: Sequence[str], resources: Sequence[str]
    ) -> None: ...


def service_assume_role_policy(scope: Construct, id: str, service: str) -> DataAwsIamPolicyDocument:
    """`data "aws_iam_policy_document"` letting one AWS service principal assume a role."""
    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRole"],
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(
                        type="Service", identifiers=[service]
                    )
                ],
            )
        ],
    )


def allow_policy(
    scope: Construct, id: str, sid: str, actions: Sequence[str], resources: Sequence[str]
) -> DataAwsIamPolicyDocument:
    """A one-statement Allow policy document. Wildcard actions are refused outright."""
    if any("*" in action for action in actions):
        raise ValueError(f"{sid}: wildcard actions are not allowed: {list(actions)}")
    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid=sid, effect="Allow", actions=list(actions), resources=list(resources)
            )
        ],
    )


def service_role(scope: Construct, id: str, *, name: str, service: str) -> IamRole:
    """An IAM role only `service` (e.g. "lambda.amazonaws.com") may assume."""
    assume = service_assume_role_policy(scope, f"{id}-assume-role", service)
    return IamRole(scope, id, name=name, assume_role_policy=assume.json)


def add_inline_policy(
    scope: Construct, role: IamRole, sid: str, actions: Sequence[str], resources: Sequence[str]
) -> IamRolePolicy:
    """Attach one inline Allow statement, named `sid`, to `role`."""
    document = allow_policy(scope, f"policy-{sid}", sid, actions, resources)
    return IamRolePolicy(scope, f"role-policy-{sid}", role=role.id, name=sid, policy=document.json)


PARTITION_ID = "aws-partition"


# Each stack's partition token, read from node once (each lookup is 3 round trips to jsii).
_PARTITIONS: WeakKeyDictionary[TerraformStack, str] = WeakKeyDictionary()


def stack_partition(scope: Construct) -> str:
    """The `aws`, `aws-cn` or `aws-us-gov` the stack is applied in: one `data "aws_partition"`
    per stack, so hand-built ARNs are right in every partition."""
    stack = TerraformStack.of(scope)
    if stack in _PARTITIONS:
        return _PARTITIONS[stack]
    partition = stack.node.try_find_child(PARTITION_ID)
    if not isinstance(partition, DataAwsPartition):
        partition = DataAwsPartition(stack, PARTITION_ID)
    _PARTITIONS[stack] = partition.partition
    return _PARTITIONS[stack]


def managed_policy_arn(scope: Construct, path: str) -> str:
    """The ARN of an AWS-managed policy, e.g. path "service-role/AWSLambdaBasicExecutionRole"."""
    return f"arn:{stack_partition(scope)}:iam::aws:policy/{path}"


def attach_managed_policy(
    scope: Construct, id: str, role: IamRole, path: str
) -> IamRolePolicyAttachment:
    """Attach the AWS-managed policy at `path` (see `managed_policy_arn`) to `role`."""
    return IamRolePolicyAttachment(
        scope, id, role=role.name, policy_arn=managed_policy_arn(scope, path)
    )
