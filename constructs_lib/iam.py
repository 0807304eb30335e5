"""Least-privilege IAM helpers shared by the constructs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
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


class ServiceRole:
    """An `aws_iam_role` (`resource`) with its attributes read on first use and kept: every
    grant's policy names the role, and every read is a round trip to the jsii kernel that
    answers with a new token for the same reference."""

    def __init__(self, resource: IamRole) -> None:
        self.resource = resource

    @cached_property
    def id(self) -> str:
        return self.resource.id

    @cached_property
    def name(self) -> str:
        return self.resource.name

    @cached_property
    def arn(self) -> str:
        return self.resource.arn


def service_role(scope: Construct, id: str, *, name: str, service: str) -> ServiceRole:
    """An IAM role only `service` (e.g. "lambda.amazonaws.com") may assume."""
    assume = service_assume_role_policy(scope, f"{id}-assume-role", service)
    return ServiceRole(IamRole(scope, id, name=name, assume_role_policy=assume.json))


def add_inline_policy(
    scope: Construct, role: ServiceRole, sid: str, actions: Sequence[str], resources: Sequence[str]
) -> IamRolePolicy:
    """Attach one inline Allow statement, named `sid`, to `role`."""
    document = allow_policy(scope, f"policy-{sid}", sid, actions, resources)
    return IamRolePolicy(scope, f"role-policy-{sid}", role=role.id, name=sid, policy=document.json)


PARTITION_ID = "aws-partition"


# Each stack's partition token, read from node once (each lookup is 3 round trips to jsii),
# and kept for every scope asked about too: finding a scope's stack is a round trip as well.
_PARTITIONS: WeakKeyDictionary[Construct, str] = WeakKeyDictionary()


def stack_partition(scope: Construct) -> str:
    """The `aws`, `aws-cn` or `aws-us-gov` the stack is applied in: one `data "aws_partition"`
    per stack, so hand-built ARNs are right in every partition."""
    if scope not in _PARTITIONS:
        stack = TerraformStack.of(scope)
        if stack not in _PARTITIONS:
            partition = stack.node.try_find_child(PARTITION_ID)
            if not isinstance(partition, DataAwsPartition):
                partition = DataAwsPartition(stack, PARTITION_ID)
            _PARTITIONS[stack] = partition.partition
        _PARTITIONS[scope] = _PARTITIONS[stack]
    return _PARTITIONS[scope]


def managed_policy_arn(scope: Construct, path: str) -> str:
    """The ARN of an AWS-managed policy, e.g. path "service-role/AWSLambdaBasicExecutionRole"."""
    return f"arn:{stack_partition(scope)}:iam::aws:policy/{path}"


def attach_managed_policy(
    scope: Construct, id: str, role: ServiceRole, path: str
) -> IamRolePolicyAttachment:
    """Attach the AWS-managed policy at `path` (see `managed_policy_arn`) to `role`."""
    return IamRolePolicyAttachment(
        scope, id, role=role.name, policy_arn=managed_policy_arn(scope, path)
    )
