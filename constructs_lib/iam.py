"""Least-privilege IAM helpers shared by the constructs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Protocol, TypeVar
from weakref import WeakKeyDictionary

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
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


def service_assume_role_policy(
    scope: Construct,
    id: str,
    service: str,
    *,
    source_account: bool = True,
    source_arn: str | None = None,
) -> DataAwsIamPolicyDocument:
    """`data "aws_iam_policy_document"` letting one AWS service principal assume a role, for
    this account's resources only (cross-service confused deputy prevention): the service must
    act for this account (`aws:SourceAccount`) and, with `source_arn`, for a resource matching
    it (`aws:SourceArn`, wildcards allowed)."""
    conditions = []
    if source_account:
        conditions.append(
            DataAwsIamPolicyDocumentStatementCondition(
                test="StringEquals", variable="aws:SourceAccount", values=[stack_account(scope)]
            )
        )
    if source_arn is not None:
        conditions.append(
            DataAwsIamPolicyDocumentStatementCondition(
                test="ArnLike", variable="aws:SourceArn", values=[source_arn]
            )
        )
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
                condition=conditions or None,
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


def service_role(
    scope: Construct,
    id: str,
    *,
    name: str,
    service: str,
    source_account: bool = True,
    source_arn: str | None = None,
) -> ServiceRole:
    """An IAM role only `service` (e.g. "lambda.amazonaws.com") may assume, and only on behalf
    of this account (see `service_assume_role_policy`). `source_account=False` is for a service
    that does not send `aws:SourceAccount` when it assumes a role: the condition would lock it
    out. `source_arn`: the resources of that service the role serves, where the service sends
    their ARN."""
    assume = service_assume_role_policy(
        scope,
        f"{id}-assume-role",
        service,
        source_account=source_account,
        source_arn=source_arn,
    )
    return ServiceRole(IamRole(scope, id, name=name, assume_role_policy=assume.json))


def add_inline_policy(
    scope: Construct, role: ServiceRole, sid: str, actions: Sequence[str], resources: Sequence[str]
) -> IamRolePolicy:
    """Attach one inline Allow statement, named `sid`, to `role`."""
    document = allow_policy(scope, f"policy-{sid}", sid, actions, resources)
    return IamRolePolicy(scope, f"role-policy-{sid}", role=role.id, name=sid, policy=document.json)


PARTITION_ID = "aws-partition"
ACCOUNT_ID = "aws-account"


class _StackData:
    """A stack's `data "aws_partition"` and `data "aws_caller_identity"`, each created on
    first use and its attribute read once: every lookup is a round trip to the jsii kernel."""

    def __init__(self, stack: TerraformStack) -> None:
        self.stack = stack
        self.node = stack.node

    @cached_property
    def partition(self) -> str:
        return self._data(PARTITION_ID, DataAwsPartition).partition

    @cached_property
    def account(self) -> str:
        return self._data(ACCOUNT_ID, DataAwsCallerIdentity).account_id

    def _data(self, id: str, kind: type[DataSource]) -> DataSource:
        found = self.node.try_find_child(id)
        return found if isinstance(found, kind) else kind(self.stack, id)


DataSource = TypeVar("DataSource", DataAwsPartition, DataAwsCallerIdentity)
# Each scope asked about -> its stack's data: finding a scope's stack is a round trip as well.
_STACK_DATA: WeakKeyDictionary[Construct, _StackData] = WeakKeyDictionary()


def _stack_data(scope: Construct) -> _StackData:
    if scope not in _STACK_DATA:
        stack = TerraformStack.of(scope)
        if stack not in _STACK_DATA:
            _STACK_DATA[stack] = _StackData(stack)
        _STACK_DATA[scope] = _STACK_DATA[stack]
    return _STACK_DATA[scope]


def stack_partition(scope: Construct) -> str:
    """The `aws`, `aws-cn` or `aws-us-gov` the stack is applied in: one `data "aws_partition"`
    per stack, so hand-built ARNs are right in every partition."""
    return _stack_data(scope).partition


def stack_account(scope: Construct) -> str:
    """The account id the stack is applied in: one `data "aws_caller_identity"` per stack."""
    return _stack_data(scope).account


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
