"""One environment's stack: wires the constructs together the way the classic modules did."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_archive.provider import ArchiveProvider
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.apigw import LambdaRestApi, RestApiProps
from constructs_lib.config import StackConfig
from constructs_lib.dynamodb import RequestTable, RequestTableProps
from constructs_lib.lambda_function import FunctionProps, ServerlessFunction
from constructs_lib.s3 import ArtifactBucket, ArtifactBucketProps
from constructs_lib.vpc import Network, NetworkProps

GREETING_KEY = "greeting.txt"
# S3-native state locking (issue: remote state) needs 1.10; 2.x may break the JSON syntax.
TERRAFORM_VERSIONS = ">= 1.10, < 2.0.0"


class ServerlessStack(TerraformStack):
    def __init__(self, scope: Construct, config: StackConfig) -> None:
        super().__init__(scope, config.env)
        self.config = config
        self.add_override("terraform.required_version", TERRAFORM_VERSIONS)
        # Relative to the stack folder, where ops run `terraform init`.
        LocalBackend(self, path=f"terraform.{config.env}.tfstate")
        AwsProvider(
            self,
            "aws",
            region=config.region,
            default_tags=[AwsProviderDefaultTags(tags={"Env": config.env, **config.tags})],
        )
        ArchiveProvider(self, "archive")

        self.network = Network(
            self,
            "network",
            NetworkProps(
                name=config.env,
                cidr=config.vpc.cidr,
                public_subnets=config.vpc.public_subnets,
                private_subnets=config.vpc.private_subnets,
                nat_gateways=config.vpc.nat_gateways,
                nat_subnet=config.vpc.nat_subnet,
                load_balancer_name=config.load_balancer.name,
            ),
        )
        self.bucket = ArtifactBucket(
            self,
            "artifacts",
            ArtifactBucketProps(
                bucket_name=config.s3.bucket_name, bucket_prefix=config.s3.bucket_prefix
            ),
        )
        self.table = RequestTable(
            self, "requests", RequestTableProps(table_name=config.dynamodb.table_name)
        )
        function_config = config.lambda_
        self.function = ServerlessFunction(
            self,
            "function",
            FunctionProps(
                function_name=function_config.function_name,
                source_dir=config.source_path,
                code_bucket=self.bucket,
                handler=function_config.handler,
                runtime=function_config.runtime,
                memory_mb=function_config.memory_mb,
                timeout_s=function_config.timeout_s,
                environment={
                    **function_config.environment,
                    "TABLE_NAME": self.table.table_name,
                    "BUCKET_NAME": self.bucket.bucket_name,
                    "GREETING_KEY": GREETING_KEY,
                },
            ),
        )
        self.table.grant_write_items(self.function)
        self.bucket.grant_read_object(self.function, GREETING_KEY)
        self.api = LambdaRestApi(
            self,
            "api",
            RestApiProps(
                name=config.api.name,
                path_part=config.api.path_part,
                stage_name=config.api.stage_name,
                function=self.function,
            ),
        )
        self._outputs()

    def _outputs(self) -> None:
        outputs = {
            "api_invoke_url": (self.api.invoke_url, "GET this URL to call the function"),
            "load_balancer_dns_name": (
                self.network.load_balancer.dns_name,
                "Public DNS name of the application load balancer",
            ),
            "bucket_name": (self.bucket.bucket_name, "Bucket holding the Lambda package"),
            "table_name": (self.table.table_name, "DynamoDB table of request records"),
            "function_name": (self.function.function_name, "Lambda function name"),
            "vpc_id": (self.network.vpc_id, "VPC id"),
        }
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)
