"""API Gateway's account-level CloudWatch role: one owner per account (the bootstrap stack).

The setting is per account *and region*, and every stage that logs needs it: without it a
stage with access or execution logs fails to create ("CloudWatch Logs role ARN must be set in
account settings to enable logging"). Managed by an environment stack, destroying that
environment would take the setting away from every other environment.

Three guards around it:

- Provider 6 resets the setting when `aws_api_gateway_account` is destroyed
  (hashicorp/terraform-provider-aws#42226; provider 5 left it unless `reset_on_delete`): each one
  here carries `prevent_destroy`, so no plan silently turns off the logging of every API in the
  region.
- A role someone else already set is not replaced without being asked: the current setting is
  read at plan time (an import into a read-only twin, the provider has no data source for it)
  and a role other than this construct's fails the plan.
- `ApiLoggingRoleCheck` lets an environment stack fail at plan time when the region was never
  set up, instead of at stage creation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.data_aws_ssm_parameters_by_path import DataAwsSsmParametersByPath
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from constructs_lib.iam import attach_managed_policy, service_role, stack_account, stack_partition
from constructs_lib.plan_checks import plan_check

# Lets API Gateway write execution logs; AWS-managed, scoped by AWS to every log group.
PUSH_TO_LOGS_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
LOGGING_ROLE_NAME = "api-gateway-cloudwatch-logs"
# What the bootstrap leaves in every region it set up, once the setting points at its role:
# the role's ARN. Environment stacks look for it at plan time (`ApiLoggingRoleCheck`).
MARKER_PATH = "/account/api-gateway"
MARKER_NAME = f"{MARKER_PATH}/cloudwatch-role-arn"
# The id the provider gives the per-region singleton (`terraform import ... api-gateway-account`).
ACCOUNT_SETTING_ID = "api-gateway-account"


class ApiGatewayLoggingRole(Construct):
    """The role, and `aws_api_gateway_account` pointing at it in each of `regions`.

    Without `take_over`, the plan fails in a region whose setting already names another role;
    `refusal` is the plan's message then, saying how to go on (the construct does not know
    where its caller's switch lives)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        regions: Sequence[str],
        default_region: str,
        take_over: bool,
        refusal: str,
    ) -> None:
        super().__init__(scope, id)
        self.role = service_role(
            self,
            "role",
            name=LOGGING_ROLE_NAME,
            service="apigateway.amazonaws.com",
            # API Gateway does not send aws:SourceAccount when it assumes a role: the
            # condition would lock it out and stop the logging of every API in the region.
            source_account=False,
        )
        push = attach_managed_policy(self, "push-to-logs", self.role, PUSH_TO_LOGS_POLICY)
        # The role's ARN as a Terraform string template known at plan time (the role's `arn`
        # is not, before the first apply), for the check to run before anything changes.
        self._planned_role_arn = (
            f'"arn:${{{stack_partition(self)}}}:iam::${{{stack_account(self)}}}'
            f':role/{LOGGING_ROLE_NAME}"'
        )
        for region in regions:
            provider = self._provider(region, default_region)
            self._current_setting(region, provider, None if take_over else refusal)
            account = ApiGatewayAccount(
                self,
                f"account-{region}",
                cloudwatch_role_arn=self.role.arn,
                provider=provider,
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
                # API Gateway tests the role when it is set: its policy must be attached.
                depends_on=[push],
            )
            SsmParameter(
                self,
                f"marker-{region}",
                name=MARKER_NAME,
                # A role ARN, not a secret (checkov's CKV2_AWS_34 is skipped for it).
                type="String",
                value=self.role.arn,
                description="API Gateway in this region logs through this role (bootstrap stack)",
                provider=provider,
                # Written once the setting points at the role: an environment that finds it
                # can log.
                depends_on=[account],
            )

    def _current_setting(
        self, region: str, provider: AwsProvider | None, refusal: str | None
    ) -> None:
        """The region's setting as it is, imported into a twin that never changes it; with a
        `refusal`, the plan fails when it names a role other than this construct's."""
        current = 'coalesce(self.cloudwatch_role_arn, "-")'
        checks = (
            [
                plan_check(
                    f'contains(["-", {self._planned_role_arn}], {current})',
                    f"API Gateway in {region} already logs through ${{self.cloudwatch_role_arn}}, "
                    f"set outside this stack: {refusal}",
                )
            ]
            if refusal is not None
            else None
        )
        twin = ApiGatewayAccount(
            self,
            f"current-{region}",
            provider=provider,
            lifecycle=TerraformResourceLifecycle(
                ignore_changes="all",
                # Destroying it would reset the setting, like destroying the real one.
                prevent_destroy=True,
                postcondition=checks,
            ),
        )
        twin.import_from(ACCOUNT_SETTING_ID, provider)

    def _provider(self, region: str, default_region: str) -> AwsProvider | None:
        """None (the stack's provider) for its own region, else an aliased one."""
        if region == default_region:
            return None
        return AwsProvider(self, f"aws-{region}", alias=region, region=region)


class ApiLoggingRoleCheck(Construct):
    """In an environment stack: the plan fails when the stack's region has no logging role
    from `ApiGatewayLoggingRole` (its marker parameter is missing), with `remedy` appended."""

    def __init__(self, scope: Construct, id: str, *, region: str, remedy: str) -> None:
        super().__init__(scope, id)
        DataAwsSsmParametersByPath(
            self,
            "marker",
            path=MARKER_PATH,
            with_decryption=False,
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    plan_check(
                        f"contains(self.names, {json.dumps(MARKER_NAME)})",
                        f"API Gateway in {region} has no CloudWatch Logs role from the bootstrap "
                        f"stack (no SSM parameter {MARKER_NAME}), so its stages cannot log and "
                        f"fail to create. {remedy}",
                    )
                ]
            ),
        )
