"""Safe releases: a `live` alias per function and CodeDeploy shifting traffic onto new versions.

How a release flows (docs/operating.md has the whole story):

1. `terraform apply` uploads the new package; the function has `publish = true`, so Lambda
   publishes a new numbered version. The `live` alias does *not* move: Terraform ignores its
   `function_version` after creation, because CodeDeploy owns it from then on.
2. `scripts/release.py` (or `aws deploy create-deployment` with the AppSpec it prints) asks
   CodeDeploy to move `live` from its current version to the newest one with the group's
   strategy (all at once, canary or linear). The function's alarms stop the deployment and
   CodeDeploy shifts `live` back to the old version by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.codedeploy_app import CodedeployApp
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import (
    CodedeployDeploymentGroup,
    CodedeployDeploymentGroupAlarmConfiguration,
    CodedeployDeploymentGroupAutoRollbackConfiguration,
    CodedeployDeploymentGroupDeploymentStyle,
)
from cdktf_cdktf_provider_aws.lambda_alias import LambdaAlias
from cdktf_cdktf_provider_aws.lambda_provisioned_concurrency_config import (
    LambdaProvisionedConcurrencyConfig,
)
from constructs import Construct

from constructs_lib.concurrency import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    MIN_ACCOUNT_CONCURRENCY,
    provisioned_within_reserved_problem,
    reservable,
    why_reservable,
)
from constructs_lib.iam import attach_managed_policy, service_role, stack_account, stack_partition
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.limits import (
    DEPLOYMENT_GROUP_MAX_ALARMS,
    RELEASE_STRATEGIES,
    alarm_window_problem,
    deployment_config_name,
    snap_start_concurrency_problem,
)
from constructs_lib.permissions import LIVE_ALIAS

# The narrow AWS-managed policy for CodeDeploy on Lambda (aws-cdk-lib's choice too): get and
# update aliases, read provisioned concurrency and alarms, invoke only `CodeDeployHook_*`
# functions. The broad `AWSCodeDeployRoleForLambda` adds invoking any function and publishing
# to any SNS topic, which these deployment groups (no hooks, no triggers) never do.
CODEDEPLOY_LAMBDA_POLICY = "service-role/AWSCodeDeployRoleForLambdaLimited"
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")


@dataclass(frozen=True)
class InvokeTarget:
    """What API Gateway and the load balancer invoke: a function, optionally at a qualifier.

    Permissions (`aws_lambda_permission`) must carry the same qualifier, or the alias answers
    "not authorized" while the unqualified function would have been allowed.
    """

    function_name: str
    arn: str
    invoke_arn: str
    qualifier: str | None = None


@dataclass(frozen=True)
class LiveAliasProps:
    # None: no provisioned concurrency (cold starts possible, nothing paid while idle).
    provisioned_concurrency: int | None = None
    # The account's concurrency quota in the region (raise it with Service Quotas first).
    account_concurrency_limit: int = DEFAULT_ACCOUNT_CONCURRENCY

    def __post_init__(self) -> None:
        account = self.account_concurrency_limit
        if account < MIN_ACCOUNT_CONCURRENCY:
            raise ValueError(
                f"account_concurrency_limit must be at least {MIN_ACCOUNT_CONCURRENCY}, "
                f"got {account}"
            )
        ceiling = reservable(account)
        count = self.provisioned_concurrency
        if count is not None and not 1 <= count <= ceiling:
            raise ValueError(
                f"provisioned_concurrency must be between 1 and {ceiling} "
                f"({why_reservable(account)}), got {count}"
            )


class LiveAlias(Construct):
    """The `live` alias of a function that publishes versions; what callers invoke."""

    def __init__(
        self, scope: Construct, id: str, function: ServerlessFunction, props: LiveAliasProps
    ) -> None:
        super().__init__(scope, id)
        if not function.props.publish_versions:
            raise ValueError(
                f"{function.props.function_name}: the live alias needs publish_versions=True"
            )
        if function.props.snap_start:
            snap_start_problem = snap_start_concurrency_problem(props.provisioned_concurrency)
            if snap_start_problem is not None:
                raise ValueError(f"{function.props.function_name}: {snap_start_problem}")
        count = props.provisioned_concurrency
        problem = provisioned_within_reserved_problem(count, function.props.reserved_concurrency)
        if problem is not None:
            raise ValueError(f"provisioned_concurrency {count}: {problem}")
        self.function = function
        self.alias = LambdaAlias(
            self,
            "alias",
            name=LIVE_ALIAS,
            description="What the API and the load balancer invoke; CodeDeploy moves it",
            function_name=function.function_name,
            # The version published by the first apply; later ones are shifted by CodeDeploy,
            # which Terraform must not undo on the next plan.
            function_version=function.created_function.version,
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=["function_version", "routing_config"]
            ),
        )
        self.provisioned_concurrency = (
            LambdaProvisionedConcurrencyConfig(
                self,
                "provisioned-concurrency",
                function_name=function.function_name,
                qualifier=self.name,
                provisioned_concurrent_executions=count,
            )
            if count is not None
            else None
        )

    # The alias's attributes, read once: each read is a round trip to the jsii kernel, and the
    # token it returns stands for the same reference every time.
    @cached_property
    def name(self) -> str:
        return self.alias.name

    @cached_property
    def arn(self) -> str:
        return self.alias.arn

    @cached_property
    def invoke_arn(self) -> str:
        return self.alias.invoke_arn

    @cached_property
    def target(self) -> InvokeTarget:
        """The alias as an invoke target: qualified ARN, alias invoke ARN and qualifier."""
        return InvokeTarget(
            function_name=self.function.function_name,
            arn=self.arn,
            invoke_arn=self.invoke_arn,
            qualifier=self.name,
        )


@dataclass(frozen=True)
class ReleasesProps:
    # CodeDeploy application name; the service role is "<name>-codedeploy".
    name: str
    # The region the deployment groups live in: the service role serves only them.
    region: str


class Alarm(Protocol):
    """An alarm a deployment group can watch: a CloudWatch alarm resource, or anything else
    with its name."""

    @property
    def alarm_name(self) -> str: ...


@dataclass(frozen=True)
class DeploymentGroupProps:
    # One of `limits.RELEASE_STRATEGIES`.
    strategy: str
    # Default none: the alarms that stop a deployment and roll it back (at most 10).
    rollback_alarms: Sequence[Alarm] = ()
    # Their window, period x evaluation periods: it must fit in the time the strategy watches
    # them (`limits.alarm_window_problem`).
    rollback_window_s: int | None = None

    def __post_init__(self) -> None:
        if self.strategy not in RELEASE_STRATEGIES:
            raise ValueError(f"strategy must be one of {RELEASE_STRATEGIES}, got {self.strategy!r}")
        if self.rollback_alarms:
            if self.rollback_window_s is None:
                raise ValueError("rollback_window_s is needed with rollback_alarms")
            problem = alarm_window_problem(self.strategy, self.rollback_window_s)
            if problem is not None:
                raise ValueError(problem)
        if (count := len(self.rollback_alarms)) > DEPLOYMENT_GROUP_MAX_ALARMS:
            limit = DEPLOYMENT_GROUP_MAX_ALARMS
            raise ValueError(f"CodeDeploy takes at most {limit} alarms per group, got {count}")


class Releases(Construct):
    """One CodeDeploy application (compute platform Lambda) and its service role; one
    deployment group per function alias (`add_function`)."""

    def __init__(self, scope: Construct, id: str, props: ReleasesProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.application = CodedeployApp(
            self, "application", name=props.name, compute_platform="Lambda"
        )
        # A reference, read once: every deployment group and the stack's output name it.
        self.application_name: str = self.application.name
        self.role = service_role(
            self,
            "role",
            name=f"{props.name}-codedeploy",
            service="codedeploy.amazonaws.com",
            # This application's deployment groups only (CodeDeploy User Guide, "Cross-service
            # confused deputy prevention").
            source_arn=(
                f"arn:{stack_partition(self)}:codedeploy:{props.region}:{stack_account(self)}"
                f":deploymentgroup:{props.name}/*"
            ),
        )
        self._policy = attach_managed_policy(
            self, "role-policy", self.role, CODEDEPLOY_LAMBDA_POLICY
        )
        self.deployment_groups: dict[str, CodedeployDeploymentGroup] = {}

    def add_function(
        self, id: str, alias: LiveAlias, props: DeploymentGroupProps
    ) -> CodedeployDeploymentGroup:
        """A deployment group named after the function, shifting `alias` with the strategy
        and rolling back on failure or on any of the alarms."""
        # Each name read once: every read is a round trip to the jsii kernel.
        alarms = [alarm.alarm_name for alarm in props.rollback_alarms]
        group = CodedeployDeploymentGroup(
            self,
            f"{id}-deployment-group",
            app_name=self.application_name,
            deployment_group_name=alias.function.props.function_name,
            service_role_arn=self.role.arn,
            deployment_config_name=deployment_config_name(props.strategy),
            deployment_style=CodedeployDeploymentGroupDeploymentStyle(
                deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN"
            ),
            auto_rollback_configuration=CodedeployDeploymentGroupAutoRollbackConfiguration(
                enabled=True,
                events=list(ROLLBACK_EVENTS if alarms else ROLLBACK_EVENTS[:1]),
            ),
            alarm_configuration=CodedeployDeploymentGroupAlarmConfiguration(
                enabled=True, alarms=alarms
            )
            if alarms
            else None,
            # CodeDeploy checks its role when the group is created.
            depends_on=[self._policy],
        )
        self.deployment_groups[id] = group
        return group
