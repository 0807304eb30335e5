"""A role that deploys a stack: it holds managed policies (documents given as dicts) and trusts
either GitHub Actions' OIDC tokens of one repository and branch, or one IAM principal.

The trust's conditions are literal strings in the JSON document: IAM compares the token's
`aud` and `sub` claims with them exactly (StringEquals), so no other repository, branch, pull
request or environment of the repository can assume the role.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_CLAIMS = "token.actions.githubusercontent.com"
# The audience aws-actions/configure-aws-credentials asks GitHub's token for.
STS_AUDIENCE = "sts.amazonaws.com"


def github_oidc_provider(scope: Construct, construct_id: str) -> str:
    """GitHub Actions' identity provider (one per account: IAM allows one per URL); its ARN.
    No thumbprint: IAM trusts GitHub's certificate authority itself."""
    provider = IamOpenidConnectProvider(
        scope, construct_id, url=GITHUB_OIDC_URL, client_id_list=[STS_AUDIENCE]
    )
    return provider.arn


@dataclass(frozen=True)
class GitHubActions:
    provider_arn: str
    repository: str
    branch: str

    def statement(self) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Principal": {"Federated": self.provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB_OIDC_CLAIMS}:aud": STS_AUDIENCE,
                    f"{GITHUB_OIDC_CLAIMS}:sub": (
                        f"repo:{self.repository}:ref:refs/heads/{self.branch}"
                    ),
                }
            },
        }


@dataclass(frozen=True)
class Principal:
    arn: str

    def statement(self) -> dict[str, Any]:
        return {"Effect": "Allow", "Principal": {"AWS": self.arn}, "Action": "sts:AssumeRole"}


class DeployerRole(Construct):
    """`role_name` holding one managed policy per document, named `<role_name>-<n>`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        policies: Sequence[dict[str, Any]],
        trust: GitHubActions | Principal,
    ) -> None:
        super().__init__(scope, construct_id)
        trust_policy = {"Version": "2012-10-17", "Statement": [trust.statement()]}
        self.role = IamRole(
            self, "role", name=role_name, assume_role_policy=json.dumps(trust_policy)
        )
        for number, document in enumerate(policies, start=1):
            policy = IamPolicy(
                self, f"policy-{number}", name=f"{role_name}-{number}", policy=json.dumps(document)
            )
            IamRolePolicyAttachment(
                self, f"attachment-{number}", role=self.role.name, policy_arn=policy.arn
            )
