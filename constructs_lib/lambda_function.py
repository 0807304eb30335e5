"""The Lambda function: role, package (zip -> S3 object) and the function itself."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_archive.data_archive_file import DataArchiveFile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
)
from constructs import Construct

from constructs_lib.iam import allow_policy, service_assume_role_policy
from constructs_lib.s3 import ArtifactBucket

BASIC_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# Never packaged: byte-code caches would make the asset hash depend on who ran the tests.
PACKAGE_EXCLUDES = ("__pycache__", "*.pyc", ".pytest_cache")


@dataclass(frozen=True)
class FunctionProps:
    function_name: str
    source_dir: Path
    code_bucket: ArtifactBucket
    handler: str = "app.handler"
    runtime: str = "python3.13"
    memory_mb: int = 256
    timeout_s: int = 10
    environment: Mapping[str, str] = field(default_factory=dict)


class ServerlessFunction(Construct):
    """`aws_lambda_function` deployed from a zip in S3, with its own least-privilege role."""

    def __init__(self, scope: Construct, id: str, props: FunctionProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.role = IamRole(
            self,
            "role",
            name=f"{props.function_name}-role",
            assume_role_policy=service_assume_role_policy(
                self, "assume-role", "lambda.amazonaws.com"
            ).json,
        )
        IamRolePolicyAttachment(
            self, "basic-execution", role=self.role.name, policy_arn=BASIC_EXECUTION_POLICY_ARN
        )
        self.package = self._package()
        self.code_object = props.code_bucket.add_object(
            "code-object",
            key=f"lambda/{props.function_name}.zip",
            source=self.package.output_path,
            source_hash=self.package.output_base64_sha256,
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
            source_code_hash=self.package.output_base64_sha256,
            environment=LambdaFunctionEnvironment(variables=dict(props.environment)),
            tags={"Name": props.function_name},
        )

    def _package(self) -> DataArchiveFile:
        """Copy the source into the stack folder as an asset, then zip it in `build/`.

        The asset makes the synthesized stack folder self-contained; the zip lands outside
        the folder it zips so a second `terraform plan` never packages its own output.
        """
        asset = TerraformAsset(
            self,
            "source",
            path=str(_staged_source(self.props.source_dir)),
            type=AssetType.DIRECTORY,
        )
        return DataArchiveFile(
            self,
            "package",
            type="zip",
            source_dir=asset.path,
            output_path=f"${{path.module}}/build/{self.props.function_name}.zip",
        )

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
        document = allow_policy(self, f"policy-{sid}", sid, actions, resources)
        IamRolePolicy(self, f"role-policy-{sid}", role=self.role.id, name=sid, policy=document.json)


def _staged_source(source_dir: Path) -> Path:
    """A clean copy of `source_dir` without caches; cdktf copies it when the app synthesizes,
    so it has to live until the process exits."""
    staging = Path(tempfile.mkdtemp(prefix="lambda-src-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    target = staging / source_dir.name
    shutil.copytree(source_dir, target, ignore=shutil.ignore_patterns(*PACKAGE_EXCLUDES))
    return target
