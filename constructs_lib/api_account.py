"""API Gateway's account-level CloudWatch role: one owner per account (the bootstrap stack).

The setting is per account *and region*, and every stage that logs needs it. Managed by an
environment stack, destroying that environment would delete the role the account still points
at, breaking the logging of every other environment.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.iam import attach_managed_policy, service_role

# Lets API Gateway write execution logs; AWS-managed, scoped by AWS to every log group.
PUSH_TO_LOGS_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
LOGGING_ROLE_NAME = "api-gateway-cloudwatch-logs"


class ApiGatewayLoggingRole(Construct):
    """The role, and `aws_api_gateway_account` pointing at it in each of `regions`."""

    def __init__(
        self, scope: Construct, id: str, *, regions: Sequence[str], default_region: str
    ) -> None:
        super().__init__(scope, id)
        self.role = service_role(
            self, "role", name=LOGGING_ROLE_NAME, service="apigateway.amazonaws.com"
        )
        push = attach_managed_policy(self, "push-to-logs", self.role, PUSH_TO_LOGS_POLICY)
        for region in regions:
            ApiGatewayAccount(
                self,
                f"account-{region}",
                cloudwatch_role_arn=self.role.arn,
                provider=self._provider(region, default_region),
                # API Gateway tests the role when it is set: its policy must be attached.
                depends_on=[push],
            )

    def _provider(self, region: str, default_region: str) -> AwsProvider | None:
        """None (the stack's provider) for its own region, else an aliased one."""
        if region == default_region:
            return None
        return AwsProvider(self, f"aws-{region}", alias=region, region=region)
