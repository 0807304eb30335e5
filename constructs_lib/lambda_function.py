"""The Lambda function: role, package (zip -> S3 object), logs, DLQ and the function itself."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

from cdktf import AssetType, TerraformAsset, TerraformResource
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionSnapStart,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.s3_object import S3Object
from cdktf_cdktf_provider_aws.security_group import SecurityGroup, SecurityGroupTimeouts
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
    VpcSecurityGroupEgressRule,
)
from constructs import Construct

from constructs_lib.dependencies import Target
from constructs_lib.function_package import build_function_package
from constructs_lib.iam import add_inline_policy, attach_managed_policy, service_role
from constructs_lib.limits import snap_start_runtime_problem
from constructs_lib.logs import encrypted_log_group
from constructs_lib.names import function_dead_letter_queue_name
from constructs_lib.ordering import add_depends_on

# AWS-managed policies by path; `iam.managed_policy_arn` adds the stack's partition.
BASIC_EXECUTION_POLICY = "service-role/AWSLambdaBasicExecutionRole"
# ENI management for functions in a VPC; AWS scopes it to "*" (no narrower resource exists).
VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"
# X-Ray segments; PutTraceSegments has no resource-level permissions.
XRAY_WRITE_POLICY = "AWSXRayDaemonWriteAccess"
# Lambda's VPC network interfaces can take 20-40 minutes to be released after the function is
# gone; until then the security group cannot be deleted (AWS provider default: 15 minutes).
ENI_RELEASE_TIMEOUT = "45m"
UNRESERVED = -1
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class FunctionVpcPlacement:
    vpc_id: str
    subnet_ids: Sequence[str]
    # Swapped in before the function is destroyed, so the function's own group is free to go;
    # empty: the VPC's default security group.
    replacement_security_group_ids: Sequence[str] = ()


class CodeStore(Protocol):
    """Where the function's package is uploaded: a bucket-like that adds an object from a
    local file (`s3.SecureBucket`)."""

    def add_object(self, id: str, *, key: str, source: str, source_hash: str) -> S3Object: ...


@dataclass(frozen=True)
class FunctionProps:
    """What a function needs; every other setting has the default documented beside it (the
    defaults of aws-cdk-lib's `lambda.Function` where it has one)."""

    function_name: str
    role_name: str
    # The folder packaged as the code.
    source_dir: Path
    code_bucket: CodeStore
    # Encrypts the environment, the log group and the dead-letter queue.
    kms_key_arn: str
    # `module.function` in `source_dir`.
    handler: str
    # A Lambda Python runtime, e.g. "python3.13".
    runtime: str
    # Default 128 MB, Lambda's smallest.
    memory_mb: int = 128
    # Default 3 s.
    timeout_s: int = 3
    # Default none.
    environment: Mapping[str, str] = field(default_factory=dict)
    # Default None: no reservation; the function shares the account's unreserved pool.
    reserved_concurrency: int | None = None
    # Default a year (CloudWatch Logs' 365; the security gate refuses less).
    log_retention_days: int = 365
    # Default None: the function runs outside any VPC.
    vpc: FunctionVpcPlacement | None = None
    # A pinned requirements.txt, uv.lock or pyproject.toml; None: standard library and the
    # runtime's boto3 only.
    dependencies: Path | None = None
    # "x86_64" or "arm64"; dependencies are installed from wheels for it.
    architecture: str = "x86_64"
    # Publish a numbered version on every code or configuration change (`releases.LiveAlias`
    # points callers at one of them).
    publish_versions: bool = False
    # Lambda snapshots each published version once initialized and resumes new execution
    # environments from the snapshot (see constructs_lib.limits for where it applies).
    snap_start: bool = False

    def __post_init__(self) -> None:
        if not self.snap_start:
            return
        problem = snap_start_runtime_problem(self.runtime)
        if problem is not None:
            raise ValueError(f"{self.function_name}: {problem}")
        if not self.publish_versions:
            raise ValueError(
                f"{self.function_name}: SnapStart applies to published versions only: "
                "set publish_versions=True"
            )


class ServerlessFunction(Construct):
    """`aws_lambda_function` deployed from a zip in S3, with its own least-privilege role,
    a log group it does not have to create, X-Ray tracing, an encrypted dead-letter queue and
    KMS-encrypted environment variables.

    `grants` are called with this construct before the `aws_lambda_function` exists, to add
    to its role (`add_to_role_policy`, `depend_on_policy`; the function cannot be read yet):
    the function is created depending on their policies. A policy granted after construction
    is appended to its `depends_on`, read back and rewritten through the jsii kernel.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: FunctionProps,
        *,
        grants: Sequence[Callable[[ServerlessFunction], object]] = (),
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        # Every policy of the role: the function is created (and first invoked) only after them.
        self._role_policies: list[TerraformResource] = []
        self.function: LambdaFunction | None = None
        self.role = service_role(
            self,
            "role",
            name=props.role_name,
            service="lambda.amazonaws.com",
        )
        self._attach_managed_policy("basic-execution", BASIC_EXECUTION_POLICY)
        self._attach_managed_policy("xray-write", XRAY_WRITE_POLICY)
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
            name=function_dead_letter_queue_name(props.function_name),
            kms_master_key_id=props.kms_key_arn,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
        )
        dead_letter_queue_arn = self.dead_letter_queue.arn
        self.add_to_role_policy(
            "SendToDeadLetterQueue", ["sqs:SendMessage"], [dead_letter_queue_arn]
        )
        # Both None: the function runs outside any VPC.
        self.security_group: SecurityGroup | None = None
        self.security_group_id: str | None = None
        vpc_config = self._place_in_vpc(props.vpc) if props.vpc else None
        self.package_hash, package_path = self._package()
        self.code_object = props.code_bucket.add_object(
            f"code-object-{props.function_name}",
            key=f"lambda/{props.function_name}.zip",
            source=package_path,
            source_hash=self.package_hash,
        )
        for grant in grants:
            grant(self)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=props.function_name,
            role=self.role.arn,
            handler=props.handler,
            runtime=props.runtime,
            architectures=[props.architecture],
            memory_size=props.memory_mb,
            timeout=props.timeout_s,
            s3_bucket=self.code_object.bucket,
            s3_key=self.code_object.key,
            source_code_hash=self.package_hash,
            # None without variables: AWS reports an empty environment as none, and an empty
            # block would be a change (and a new version) on every plan.
            environment=LambdaFunctionEnvironment(variables=dict(props.environment))
            if props.environment
            else None,
            # The key encrypts the environment only: without one it would be a state mismatch.
            kms_key_arn=props.kms_key_arn if props.environment else None,
            # -1 is the provider's explicit "unreserved" (its default): the function shares
            # the account's pool unless a reservation is configured.
            reserved_concurrent_executions=UNRESERVED
            if props.reserved_concurrency is None
            else props.reserved_concurrency,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=dead_letter_queue_arn),
            vpc_config=vpc_config,
            replace_security_groups_on_destroy=True if props.vpc else None,
            replacement_security_group_ids=list(props.vpc.replacement_security_group_ids)
            if props.vpc and props.vpc.replacement_security_group_ids
            else None,
            tags={"Name": props.function_name},
            publish=True if props.publish_versions else None,
            snap_start=LambdaFunctionSnapStart(apply_on="PublishedVersions")
            if props.snap_start
            else None,
            # The log group must exist first, or Lambda creates one without retention.
            depends_on=[self.log_group, *self._role_policies],
        )

    def _attach_managed_policy(self, id: str, path: str) -> None:
        self._role_policies.append(attach_managed_policy(self, id, self.role, path))

    def _place_in_vpc(self, vpc: FunctionVpcPlacement) -> LambdaFunctionVpcConfig:
        """Private subnets plus an egress-only security group: the function is called by AWS
        services, never over the network."""
        self._attach_managed_policy("vpc-access", VPC_ACCESS_POLICY)
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{self.props.function_name}-lambda-sg",
            description="Lambda function: HTTPS out to AWS APIs, nothing in",
            vpc_id=vpc.vpc_id,
            timeouts=SecurityGroupTimeouts(delete=ENI_RELEASE_TIMEOUT),
        )
        security_group_id = self.security_group.id
        self.security_group_id = security_group_id
        VpcSecurityGroupEgressRule(
            self,
            "https-out",
            security_group_id=security_group_id,
            description="HTTPS to AWS APIs (VPC endpoints or NAT)",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )
        return LambdaFunctionVpcConfig(
            subnet_ids=list(vpc.subnet_ids), security_group_ids=[security_group_id]
        )

    def _package(self) -> tuple[str, str]:
        """Zip the source now and hand the zip to cdktf as an asset of the stack folder.

        Returns the package's base64 SHA-256 and its path relative to the stack folder, where
        ops run Terraform: nothing is built at plan time, so any machine can apply the plan.
        `bytecode_skipped` is then None, or why the package has no byte-code.
        """
        package = build_function_package(
            self.props.source_dir,
            _scratch_folder() / "package.zip",
            dependencies=self.props.dependencies,
            target=Target(runtime=self.props.runtime, architecture=self.props.architecture),
        )
        self.bytecode_skipped = package.bytecode_skipped
        asset = TerraformAsset(self, "package", path=str(package.path), type=AssetType.FILE)
        return package.base64_sha256, asset.path

    # The function's attributes, read once: each read is a round trip to the jsii kernel, and
    # the token it returns stands for the same reference every time.
    @cached_property
    def function_name(self) -> str:
        return self.created_function.function_name

    @cached_property
    def function_arn(self) -> str:
        return self.created_function.arn

    @cached_property
    def invoke_arn(self) -> str:
        return self.created_function.invoke_arn

    @property
    def created_function(self) -> LambdaFunction:
        # None only while the constructor adds the role's policies, before the function.
        if self.function is None:
            raise RuntimeError(f"{self.node.path}: the function is not created yet")
        return self.function

    def add_to_role_policy(
        self, sid: str, actions: Sequence[str], resources: Sequence[str]
    ) -> None:
        """Attach one inline Allow statement to the function's role."""
        self.depend_on_policy(add_inline_policy(self, self.role, sid, actions, resources))

    def depend_on_policy(self, policy: TerraformResource) -> None:
        """Create the function after `policy`, one of its role's (it may be invoked as soon as
        it exists): in its `depends_on` from the start, or appended once it exists."""
        self._role_policies.append(policy)
        if self.function is not None:  # granted after construction, not through `grants`
            add_depends_on(self.function, policy)


def _scratch_folder() -> Path:
    """A folder for files cdktf copies when the app synthesizes, so it lives until exit."""
    folder = Path(tempfile.mkdtemp(prefix="lambda-package-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
