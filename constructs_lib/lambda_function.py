"""The Lambda function: role, package (zip -> S3 object), logs, DLQ and the function itself."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
    VpcSecurityGroupEgressRule,
)
from constructs import Construct

from constructs_lib.config import FUNCTION_ROLE_SUFFIX
from constructs_lib.iam import add_inline_policy, service_role
from constructs_lib.logs import encrypted_log_group
from constructs_lib.packaging import build_zip
from constructs_lib.s3 import SecureBucket

MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/{}"
BASIC_EXECUTION_POLICY_ARN = MANAGED_POLICY.format("AWSLambdaBasicExecutionRole")
# ENI management for functions in a VPC; AWS scopes it to "*" (no narrower resource exists).
VPC_ACCESS_POLICY_ARN = MANAGED_POLICY.format("AWSLambdaVPCAccessExecutionRole")
# X-Ray segments; PutTraceSegments has no resource-level permissions.
XRAY_WRITE_POLICY_ARN = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class FunctionVpcPlacement:
    vpc_id: str
    subnet_ids: Sequence[str]


@dataclass(frozen=True)
class FunctionProps:
    function_name: str
    source_dir: Path
    code_bucket: SecureBucket
    kms_key_arn: str
    handler: str = "app.handler"
    runtime: str = "python3.13"
    memory_mb: int = 256
    timeout_s: int = 10
    environment: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int = 10
    log_retention_days: int = 365
    # None: the function runs outside any VPC.
    vpc: FunctionVpcPlacement | None = None


class ServerlessFunction(Construct):
    """`aws_lambda_function` deployed from a zip in S3, with its own least-privilege role,
    a log group it does not have to create, X-Ray tracing, an encrypted dead-letter queue and
    KMS-encrypted environment variables."""

    def __init__(self, scope: Construct, id: str, props: FunctionProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.role = service_role(
            self,
            "role",
            name=f"{props.function_name}{FUNCTION_ROLE_SUFFIX}",
            service="lambda.amazonaws.com",
        )
        self._attach_managed_policy("basic-execution", BASIC_EXECUTION_POLICY_ARN)
        self._attach_managed_policy("xray-write", XRAY_WRITE_POLICY_ARN)
        self.log_group = encrypted_log_group(
            self,
            "log-group",
            name=f"/aws/lambda/{props.function_name}",
            retention_days=props.log_retention_days,
            kms_key_arn=props.kms_key_arn,
        )
        self.dead_letter_queue = SqsQueue(
            self,
            "dlq",
            name=f"{props.function_name}-dlq",
            kms_master_key_id=props.kms_key_arn,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
        )
        self.add_to_role_policy(
            "SendToDeadLetterQueue", ["sqs:SendMessage"], [self.dead_letter_queue.arn]
        )
        self.security_group: SecurityGroup | None = None
        vpc_config = self._place_in_vpc(props.vpc) if props.vpc else None
        self.package_hash, package_path = self._package()
        self.code_object = props.code_bucket.add_object(
            "code-object",
            key=f"lambda/{props.function_name}.zip",
            source=package_path,
            source_hash=self.package_hash,
        )
        self.function = LambdaFunction(
            self,
            "function",
            function_name=props.function_name,
            role=self.role.arn,
            handler=props.handler,
            runtime=props.runtime,
            memory_size=props.memory_mb,
            timeout=props.timeout_s,
            s3_bucket=self.code_object.bucket,
            s3_key=self.code_object.key,
            source_code_hash=self.package_hash,
            environment=LambdaFunctionEnvironment(variables=dict(props.environment)),
            kms_key_arn=props.kms_key_arn,
            reserved_concurrent_executions=props.reserved_concurrency,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(
                target_arn=self.dead_letter_queue.arn
            ),
            vpc_config=vpc_config,
            tags={"Name": props.function_name},
            # The log group must exist first, or Lambda creates one without retention.
            depends_on=[self.log_group],
        )

    def _attach_managed_policy(self, id: str, policy_arn: str) -> None:
        IamRolePolicyAttachment(self, id, role=self.role.name, policy_arn=policy_arn)

    def _place_in_vpc(self, vpc: FunctionVpcPlacement) -> LambdaFunctionVpcConfig:
        """Private subnets plus an egress-only security group: the function is called by AWS
        services, never over the network."""
        self._attach_managed_policy("vpc-access", VPC_ACCESS_POLICY_ARN)
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{self.props.function_name}-lambda-sg",
            description="Lambda function: HTTPS out to AWS APIs, nothing in",
            vpc_id=vpc.vpc_id,
        )
        VpcSecurityGroupEgressRule(
            self,
            "https-out",
            security_group_id=self.security_group.id,
            description="HTTPS to AWS APIs (VPC endpoints or NAT)",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )
        return LambdaFunctionVpcConfig(
            subnet_ids=list(vpc.subnet_ids), security_group_ids=[self.security_group.id]
        )

    def _package(self) -> tuple[str, str]:
        """Zip the source now and hand the zip to cdktf as an asset of the stack folder.

        Returns the package's base64 SHA-256 and its path relative to the stack folder, where
        ops run Terraform: nothing is built at plan time, so any machine can apply the plan.
        """
        package = build_zip(self.props.source_dir, _scratch_folder() / "package.zip")
        asset = TerraformAsset(self, "package", path=str(package.path), type=AssetType.FILE)
        return package.base64_sha256, asset.path

    @property
    def function_name(self) -> str:
        return self.function.function_name

    @property
    def function_arn(self) -> str:
        return self.function.arn

    @property
    def invoke_arn(self) -> str:
        return self.function.invoke_arn

    def add_to_role_policy(
        self, sid: str, actions: Sequence[str], resources: Sequence[str]
    ) -> None:
        """Attach one inline Allow statement to the function's role."""
        add_inline_policy(self, self.role, sid, actions, resources)


def _scratch_folder() -> Path:
    """A folder for files cdktf copies when the app synthesizes, so it lives until exit."""
    folder = Path(tempfile.mkdtemp(prefix="lambda-package-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
