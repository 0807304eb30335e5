"""Secrets outside the code: SSM Parameter Store SecureString parameters a function may read.

The parameters exist already (created with `aws ssm put-parameter --type SecureString`); the
stack only knows their names. Their values are never in the configuration and never in the
Terraform state: no data source reads them, the ARNs are built from partition, region,
account and name. The function gets the names as environment variables
(`SECRET_<NAME>=<parameter name>`) and reads the values itself (lambda/ssm_secrets.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib.iam import stack_account, stack_partition
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.limits import (
    MAX_SECRETS_PER_FUNCTION,
    SECRET_NAME_PATTERN,
    SECRET_VARIABLE_PREFIX,
    ssm_parameter_name_problem,
)


def _check_parameter_name(name: str) -> None:
    problem = ssm_parameter_name_problem(name)
    if problem is not None:
        raise ValueError(f"parameter name {name!r}: {problem}")


@dataclass(frozen=True)
class FunctionSecretsProps:
    region: str
    # Secret name (lower_snake_case, what the handler asks for) -> SSM parameter name.
    parameters: Mapping[str, str] = field(default_factory=dict)
    # The customer-managed key the parameters are encrypted with; None: the AWS-managed
    # `alias/aws/ssm` key (then decrypt is allowed only through SSM in this region).
    kms_key_arn: str | None = None

    def __post_init__(self) -> None:
        if not self.parameters:
            raise ValueError("FunctionSecretsProps needs at least one parameter")
        if len(self.parameters) > MAX_SECRETS_PER_FUNCTION:
            raise ValueError(f"at most {MAX_SECRETS_PER_FUNCTION} secrets per function")
        for secret, parameter in self.parameters.items():
            if not re.fullmatch(SECRET_NAME_PATTERN, secret):
                raise ValueError(f"secret names are lower_snake_case identifiers: {secret!r}")
            _check_parameter_name(parameter)


def environment_variable(secret: str) -> str:
    return f"{SECRET_VARIABLE_PREFIX}{secret.upper()}"


class FunctionSecrets(Construct):
    """The ARNs of a function's parameters; `environment` goes into the function's props,
    `grant_read` gives it exactly those parameters and their key."""

    def __init__(self, scope: Construct, id: str, props: FunctionSecretsProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.partition = stack_partition(self)
        self.account_id = stack_account(self)
        self.parameter_arns = {
            secret: self._parameter_arn(name) for secret, name in props.parameters.items()
        }

    def _parameter_arn(self, name: str) -> str:
        # A hierarchical name keeps its slashes; its leading one is part of "parameter/".
        return (
            f"arn:{self.partition}:ssm:{self.props.region}:{self.account_id}"
            f":parameter/{name.lstrip('/')}"
        )

    @property
    def environment(self) -> dict[str, str]:
        """`SECRET_<NAME>` -> parameter name, for `FunctionProps.environment`."""
        return {environment_variable(s): name for s, name in self.props.parameters.items()}

    def grant_read(self, function: ServerlessFunction) -> IamRolePolicy:
        """`ssm:GetParameter(s)` on the parameters and `kms:Decrypt` for their key, as one
        inline policy the function is created after."""
        statements = [
            DataAwsIamPolicyDocumentStatement(
                sid="ReadSecretParameters",
                effect="Allow",
                actions=["ssm:GetParameter", "ssm:GetParameters"],
                resources=sorted(self.parameter_arns.values()),
            ),
            self._decrypt_statement(),
        ]
        document = DataAwsIamPolicyDocument(self, "read-policy", statement=statements)
        policy = IamRolePolicy(
            self,
            "read-role-policy",
            role=function.role.id,
            name="ReadSecretParameters",
            policy=document.json,
        )
        function.depend_on_policy(policy)
        return policy

    def _decrypt_statement(self) -> DataAwsIamPolicyDocumentStatement:
        if self.props.kms_key_arn is not None:
            return DataAwsIamPolicyDocumentStatement(
                sid="DecryptSecretParameters",
                effect="Allow",
                actions=["kms:Decrypt"],
                resources=[self.props.kms_key_arn],
            )
        # The AWS-managed key's id differs per account and is not needed: any key of this
        # account, but only when SSM in this region asks on the function's behalf.
        return DataAwsIamPolicyDocumentStatement(
            sid="DecryptSecretParametersViaSsm",
            effect="Allow",
            actions=["kms:Decrypt"],
            resources=[f"arn:{self.partition}:kms:{self.props.region}:{self.account_id}:key/*"],
            condition=[
                DataAwsIamPolicyDocumentStatementCondition(
                    test="StringEquals",
                    variable="kms:ViaService",
                    values=[f"ssm.{self.props.region}.amazonaws.com"],
                )
            ],
        )
