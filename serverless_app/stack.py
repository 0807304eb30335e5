"""One environment's stack: wires the constructs together the way the classic modules did."""

from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.apigw import LambdaRestApi, RestApiProps
from constructs_lib.domain import ApiDomain, ApiDomainProps
from constructs_lib.dynamodb import RequestTable, RequestTableProps
from constructs_lib.endpoints import InterfaceEndpoints, InterfaceEndpointsProps
from constructs_lib.kms import StackKey, StackKeyProps
from constructs_lib.lambda_function import (
    FunctionProps,
    FunctionVpcPlacement,
    ServerlessFunction,
)
from constructs_lib.load_balancer import FunctionLoadBalancer, LoadBalancerProps
from constructs_lib.monitoring import (
    ApiAlarmProps,
    FunctionAlarmProps,
    LoadBalancerAlarmProps,
    Monitoring,
    MonitoringProps,
)
from constructs_lib.releases import (
    DeploymentGroupProps,
    LiveAlias,
    LiveAliasProps,
    Releases,
    ReleasesProps,
)
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from constructs_lib.secrets import FunctionSecrets, FunctionSecretsProps
from constructs_lib.vpc import FlowLogProps, Network, NetworkProps, Subnet
from constructs_lib.waf import WebFirewall, WebFirewallProps
from serverless_app.config import (
    FUNCTION_ROLE_SUFFIX,
    GREETING_KEY,
    TARGET_GROUP_SUFFIX,
    StackConfig,
    SubnetConfig,
)

# Uploaded once so the function finds a template: without s3:ListBucket a missing object
# answers AccessDenied, not NoSuchKey. Edit it in S3; Terraform keeps the edit.
DEFAULT_GREETING = "Hello, {name}!"
# A function without NAT reaches SSM only through an interface endpoint. No `kms` endpoint:
# SSM decrypts SecureString parameters with KMS on the function's behalf.
SECRET_ENDPOINT_SERVICES = ("ssm",)
# S3-native state locking needs 1.10; 2.x may break the JSON syntax.
TERRAFORM_VERSIONS = ">= 1.10, < 2.0.0"


class ServerlessStack(TerraformStack):
    def __init__(self, scope: Construct, config: StackConfig) -> None:
        super().__init__(scope, config.env)
        self.config = config
        self.add_override("terraform.required_version", TERRAFORM_VERSIONS)
        self._backend()
        AwsProvider(
            self,
            "aws",
            region=config.region,
            default_tags=[AwsProviderDefaultTags(tags={"Env": config.env, **config.tags})],
        )

        self.key = StackKey(self, "key", StackKeyProps(alias=config.env, region=config.region))
        # The alarm topic is encrypted with the stack key: CloudWatch must be able to use it.
        self.key.allow_cloudwatch_alarms()
        self.network = self._network()
        self.bucket = SecureBucket(
            self,
            "artifacts",
            SecureBucketProps(
                bucket_name=config.s3.bucket_name,
                bucket_prefix=config.s3.bucket_prefix,
                kms_key_arn=self.key.key_arn,
                noncurrent_version_expiration_days=config.s3.noncurrent_version_expiration_days,
                force_destroy=config.s3.force_destroy,
                prevent_destroy=config.s3.prevent_destroy,
            ),
        )
        self.table = RequestTable(
            self,
            "requests",
            RequestTableProps(
                table_name=derived(config.dynamodb.table_name),
                kms_key_arn=self.key.key_arn,
                deletion_protection=config.dynamodb.deletion_protection,
            ),
        )
        self.bucket.add_text_object("greeting", key=GREETING_KEY, content=DEFAULT_GREETING)
        self.secrets = self._secrets()
        self.function = self._function()
        self.table.grant_write_items(self.function)
        self.bucket.grant_read_object(self.function, GREETING_KEY)
        # Env vars, the greeting object and the dead-letter queue are encrypted with the key.
        self.key.grant_encrypt_decrypt(self.function)
        if self.secrets is not None:
            self.secrets.grant_read(self.function)
        self.endpoints = self._secret_endpoints()
        # Callers invoke the `live` alias; CodeDeploy moves it from version to version.
        self.alias = LiveAlias(
            self,
            "live",
            self.function,
            LiveAliasProps(
                provisioned_concurrency=config.lambda_.provisioned_concurrency,
                account_concurrency_limit=config.lambda_.account_concurrency,
            ),
        )
        self.api = LambdaRestApi(
            self,
            "api",
            RestApiProps(
                name=derived(config.api.name),
                path_part=config.api.path_part,
                stage_name=derived(config.api.stage_name),
                function=self.function,
                kms_key_arn=self.key.key_arn,
                authorization=config.api.authorization,
                throttling_rate_limit=config.api.throttling_rate_limit,
                throttling_burst_limit=config.api.throttling_burst_limit,
                logging_level=config.api.logging_level,
                log_retention_days=config.logs.retention_days,
                invoke_target=self.alias.target,
            ),
        )
        self.domain = (
            ApiDomain(
                self,
                "domain",
                self.api,
                ApiDomainProps(
                    domain_name=config.domain.name, hosted_zone_id=config.domain.hosted_zone_id
                ),
            )
            if config.domain is not None
            else None
        )
        # After the domain: without a certificate of its own, the listener uses the domain's.
        self.load_balancer = self._load_balancer()
        self.load_balancer.route_to_function(self.function, self.alias.target)
        self.firewall = WebFirewall(
            self,
            "firewall",
            WebFirewallProps(
                name=config.env,
                log_retention_days=config.logs.retention_days,
                kms_key_arn=self.key.key_arn,
                managed_rule_groups=config.waf.managed_rule_groups,
                count_rules=config.waf.count_rules,
            ),
        )
        self.firewall.protect("load-balancer", self.load_balancer.load_balancer.arn)
        self.firewall.protect("api-stage", self.api.stage.arn)
        self.monitoring, function_alarms = self._monitoring()
        self.releases = Releases(self, "releases", ReleasesProps(name=config.env))
        # The function's alarms stop a release and roll `live` back.
        self.deployment_group = self.releases.add_function(
            "function",
            self.alias,
            DeploymentGroupProps(
                strategy=config.releases.strategy,
                rollback_alarm_names=self.monitoring.alarm_names(function_alarms),
            ),
        )
        self._outputs()

    def _backend(self) -> None:
        backend = self.config.backend
        if backend.type == "local":
            # Relative to the stack folder, where ops run `terraform init`.
            LocalBackend(self, path=f"terraform.{self.config.env}.tfstate")
            return
        S3Backend(
            self,
            bucket=derived(backend.bucket),
            key=derived(backend.key),
            region=backend.region,
            encrypt=backend.encrypt,
        )
        # S3-native locking (Terraform >= 1.10); cdktf's S3Backend has no field for it.
        self.add_override("terraform.backend.s3.use_lockfile", backend.use_lockfile)

    def _network(self) -> Network:
        config = self.config
        return Network(
            self,
            "network",
            NetworkProps(
                name=config.env,
                region=config.region,
                cidr=config.vpc.cidr,
                public_subnets=_subnets(config.vpc.public_subnets),
                private_subnets=_subnets(config.vpc.private_subnets),
                nat_gateways=config.vpc.nat_gateways,
                nat_subnet=config.vpc.nat_subnet,
                flow_logs=FlowLogProps(
                    retention_days=config.logs.retention_days, kms_key_arn=self.key.key_arn
                )
                if config.vpc.flow_logs
                else None,
            ),
        )

    def _load_balancer(self) -> FunctionLoadBalancer:
        config = self.config.load_balancer
        return FunctionLoadBalancer(
            self,
            "load-balancer",
            LoadBalancerProps(
                name=derived(config.name),
                target_group_name=f"{config.name}{TARGET_GROUP_SUFFIX}",
                region=self.config.region,
                certificate_arn=config.certificate_arn
                or (self.domain.certificate_arn if self.domain is not None else None),
                ssl_policy=config.ssl_policy,
                deletion_protection=config.deletion_protection,
                access_logs=config.access_logs,
                access_log_expiration_days=config.access_log_expiration_days,
                force_destroy=self.config.s3.force_destroy,
            ),
            vpc_id=self.network.vpc_id,
            subnet_ids=self.network.public_subnet_ids,
            after=self.network.internet_access,
        )

    def _function(self) -> ServerlessFunction:
        config = self.config
        function_config = config.lambda_
        return ServerlessFunction(
            self,
            "function",
            FunctionProps(
                function_name=derived(function_config.function_name),
                role_name=f"{function_config.function_name}{FUNCTION_ROLE_SUFFIX}",
                source_dir=config.source_path,
                code_bucket=self.bucket,
                kms_key_arn=self.key.key_arn,
                handler=function_config.handler,
                runtime=function_config.runtime,
                memory_mb=function_config.memory_mb,
                timeout_s=function_config.timeout_s,
                environment={
                    **function_config.environment,
                    "TABLE_NAME": self.table.table_name,
                    "BUCKET_NAME": self.bucket.bucket_name,
                    "GREETING_KEY": GREETING_KEY,
                    **(self.secrets.environment if self.secrets is not None else {}),
                },
                reserved_concurrency=function_config.reserved_concurrency,
                publish_versions=True,
                log_retention_days=config.logs.retention_days,
                vpc=FunctionVpcPlacement(
                    vpc_id=self.network.vpc_id,
                    subnet_ids=self.network.private_subnet_ids,
                    # The default group has no rules (managed empty by the network).
                    replacement_security_group_ids=[self.network.default_security_group.id],
                )
                if function_config.in_vpc
                else None,
            ),
        )

    def _secrets(self) -> FunctionSecrets | None:
        function_config = self.config.lambda_
        if not function_config.secrets:
            return None
        return FunctionSecrets(
            self,
            "secrets",
            FunctionSecretsProps(
                region=self.config.region,
                parameters=function_config.secrets,
                kms_key_arn=function_config.secrets_kms_key_arn,
            ),
        )

    def _secret_endpoints(self) -> InterfaceEndpoints | None:
        """Without NAT, a function in the VPC reaches SSM only through an interface endpoint."""
        config = self.config
        function_group = self.function.security_group  # None outside the VPC
        if self.secrets is None or function_group is None or config.vpc.nat_gateways != "none":
            return None
        return InterfaceEndpoints(
            self,
            "endpoints",
            InterfaceEndpointsProps(
                name=config.env,
                region=config.region,
                vpc_id=self.network.vpc_id,
                subnet_ids=self.network.private_subnet_ids,
                services=SECRET_ENDPOINT_SERVICES,
                client_security_group_ids=[function_group.id],
            ),
        )

    def _monitoring(self) -> tuple[Monitoring, list[CloudwatchMetricAlarm]]:
        config = self.config
        alarms = config.alarms
        window = {
            "period_s": alarms.period_s,
            "evaluation_periods": alarms.evaluation_periods,
            "datapoints_to_alarm": alarms.datapoints_to_alarm,
        }
        monitoring = Monitoring(
            self,
            "monitoring",
            MonitoringProps(
                name=config.env,
                region=config.region,
                kms_key_arn=self.key.key_arn,
                email_subscribers=alarms.email,
                https_subscribers=alarms.https,
            ),
        )
        function_alarms = monitoring.watch_function(
            self.function,
            FunctionAlarmProps(
                errors_threshold=alarms.function_errors,
                throttles_threshold=alarms.function_throttles,
                duration_p99_timeout_ratio=alarms.duration_p99_timeout_ratio,
                **window,
            ),
        )
        monitoring.watch_api(
            self.api,
            ApiAlarmProps(
                server_error_rate=alarms.api_server_error_rate,
                latency_p99_ms=alarms.api_latency_p99_ms,
                **window,
            ),
        )
        monitoring.watch_load_balancer(
            self.load_balancer,
            LoadBalancerAlarmProps(target_5xx_threshold=alarms.load_balancer_target_5xx, **window),
        )
        return monitoring, function_alarms

    def _outputs(self) -> None:
        outputs = {
            "api_invoke_url": (self.api.invoke_url, self._invoke_url_description()),
            **self._domain_outputs(),
            "load_balancer_dns_name": (
                self.load_balancer.dns_name,
                "Public DNS name of the application load balancer",
            ),
            "bucket_name": (self.bucket.bucket_name, "Bucket holding the Lambda package"),
            "table_name": (self.table.table_name, "DynamoDB table of request records"),
            "function_name": (self.function.function_name, "Lambda function name"),
            "vpc_id": (self.network.vpc_id, "VPC id"),
            "live_alias_arn": (self.alias.arn, "The alias the API and the load balancer invoke"),
            "alarm_topic_arn": (
                self.monitoring.topic_arn,
                "SNS topic of every alarm (subscribe on-call here)",
            ),
            "dashboard_name": (self.monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
            "codedeploy_application": (
                self.releases.application.name,
                "CodeDeploy application: `python -m scripts.release FUNCTION --application APP`",
            ),
            "deployment_group": (
                self.deployment_group.deployment_group_name,
                "CodeDeploy deployment group shifting the live alias",
            ),
        }
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)

    def _domain_outputs(self) -> dict[str, tuple[str, str]]:
        if self.domain is None:
            return {}
        return {
            "api_url": (
                self.domain.url,
                "Stable URL on the custom domain (survives a new API id or stage)",
            )
        }

    def _invoke_url_description(self) -> str:
        if self.config.api.authorization == "NONE":
            return "GET this URL to call the function (public: no authorization)"
        return (
            "GET this URL with a SigV4-signed request (service execute-api, IAM credentials "
            "allowed execute-api:Invoke): `make call` or `python -m scripts.call`; an unsigned "
            "GET gets 403"
        )


def _subnets(subnets: dict[str, SubnetConfig]) -> list[Subnet]:
    return [Subnet(key, subnet.cidr, subnet.az) for key, subnet in subnets.items()]


def derived(value: str | None) -> str:
    """A name the config model fills from `env` (or requires) when a file leaves it out."""
    if value is None:
        raise ValueError("the configuration model left a derived value unset")
    return value
