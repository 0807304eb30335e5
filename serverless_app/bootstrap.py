"""The `bootstrap` stack: what each AWS account needs once, before any environment: the S3
bucket that holds every environment's Terraform state, API Gateway's CloudWatch role, and
optionally each environment's deployer role (serverless_app/deployer_roles.py).

Applied once with local state (`make bootstrap`, then `terraform apply` in its folder);
the environments then point `[backend] type = "s3"` at the bucket it creates.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.api_account import ApiGatewayLoggingRole
from constructs_lib.deployer_role import (
    DeployerRole,
    GitHubActions,
    Principal,
    github_oidc_provider,
)
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from serverless_app.config import BootstrapConfig
from serverless_app.config.bootstrap import DeployerRoles
from serverless_app.config.terraform import as_terraform_literals
from serverless_app.deployer_roles import EnvironmentRole
from serverless_app.stack import TERRAFORM_VERSIONS

STACK_NAME = "bootstrap"
# The plan's message when a region's API Gateway logging role was set outside this stack.
TAKE_OVER_REFUSAL = (
    "every API in the region logs through that role. To replace it with this stack's role, set "
    "api_logging_take_over = true in the bootstrap configuration; or leave the region out of "
    "api_logging_regions (docs/remote-state.md)"
)


class StateBucketStack(TerraformStack):
    def __init__(
        self,
        scope: Construct,
        config: BootstrapConfig,
        deployer_roles: Sequence[EnvironmentRole] = (),
    ) -> None:
        super().__init__(scope, STACK_NAME)
        # Every string from the configuration reaches AWS as the user wrote it.
        config = as_terraform_literals(config)
        self.add_override("terraform.required_version", TERRAFORM_VERSIONS)
        LocalBackend(self, path=f"terraform.{STACK_NAME}.tfstate")
        AwsProvider(
            self,
            "aws",
            region=config.region,
            default_tags=[
                AwsProviderDefaultTags(tags={"Purpose": "terraform-state", **config.tags})
            ],
        )
        self.state_bucket = SecureBucket(
            self,
            "state",
            SecureBucketProps(
                bucket_name=config.bucket_name,
                # SSE-S3: no key to lose or pay for before the first environment exists.
                kms_key_arn=None,
                noncurrent_version_expiration_days=config.noncurrent_version_expiration_days,
                prevent_destroy=True,
            ),
        )
        ApiGatewayLoggingRole(
            self,
            "api-logging",
            regions=config.logging_regions,
            default_region=config.region,
            take_over=config.api_logging_take_over,
            refusal=TAKE_OVER_REFUSAL,
        )
        if config.deployer is not None:
            self._deployer_roles(config.deployer, deployer_roles)
        TerraformOutput(
            self,
            "state_bucket",
            value=self.state_bucket.bucket_name,
            description='Use as [backend] bucket with type = "s3" in each environment file',
        )

    def _deployer_roles(self, deployer: DeployerRoles, roles: Sequence[EnvironmentRole]) -> None:
        trust: GitHubActions | Principal
        if deployer.github is not None:
            github = deployer.github
            provider_arn = github.oidc_provider_arn or github_oidc_provider(self, "github-oidc")
            trust = GitHubActions(provider_arn, github.repository, github.branch)
        elif deployer.trusted_principal_arn is not None:
            trust = Principal(deployer.trusted_principal_arn)
        else:
            raise ValueError("the configuration model left [deployer] without a trust")
        for role in roles:
            deployed = DeployerRole(
                self, role.role_name, role_name=role.role_name, policies=role.policies, trust=trust
            )
            TerraformOutput(
                self,
                f"{role.role_name}-arn",
                value=deployed.role.arn,
                description="role-to-assume in CI, or [assume_role] role_arn of the environment",
            )
