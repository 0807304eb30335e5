"""One environment's stack: wires the constructs together the way the classic modules did."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cdktf import LocalBackend, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.apigw import LambdaRestApi
from constructs_lib.dynamodb import KeyAttribute, Table, TableProps
from constructs_lib.function_url import FunctionUrl, FunctionUrlProps
from constructs_lib.kms import StackKey, StackKeyProps
from constructs_lib.lambda_function import (
    FunctionProps,
    FunctionVpcPlacement,
    ServerlessFunction,
)
from constructs_lib.load_balancer import FunctionLoadBalancer, LoadBalancerProps
from constructs_lib.packaging import PackagingError
from constructs_lib.paths import paths_regex
from constructs_lib.releases import (
    DeploymentGroupProps,
    LiveAlias,
    LiveAliasProps,
    Releases,
    ReleasesProps,
)
from constructs_lib.routes import Route
from constructs_lib.s3 import ExpirationRule, SecureBucket, SecureBucketProps
from constructs_lib.secrets import FunctionSecrets, FunctionSecretsProps
from constructs_lib.user_pool import HostedSignIn, ResourceServer, UserPool, UserPoolProps
from constructs_lib.vpc import FlowLogProps, Network, NetworkProps, Subnet
from constructs_lib.waf import RateLimit, WebFirewall, WebFirewallProps
from serverless_app.account import provider_account
from serverless_app.config import (
    FUNCTION_ROLE_SUFFIX,
    FunctionConfig,
    StackConfig,
    SubnetConfig,
    target_group_name,
)
from serverless_app.config.access import cors_policy
from serverless_app.config.data import (
    BucketConfig,
    TableConfig,
    bucket_id,
    bucket_prefix,
    user_pool_id,
)
from serverless_app.config.derived import cors_variables
from serverless_app.config.terraform import as_terraform_literals
from serverless_app.config.variables import granted_variable
from serverless_app.stack_alarms import watch_stack
from serverless_app.stack_api import build_api, build_domain, point_domain_at_load_balancer
from serverless_app.stack_endpoints import private_endpoints
from serverless_app.stack_eventbridge import add_eventbridge_triggers, watch_eventbridge_triggers
from serverless_app.stack_events import StackEvents, table_stream
from serverless_app.stack_outputs import add_outputs

# S3-native state locking needs 1.10; 2.x may break the JSON syntax.
TERRAFORM_VERSIONS = ">= 1.10, < 2.0.0"


class ServerlessStack(TerraformStack):
    def __init__(self, scope: Construct, config: StackConfig) -> None:
        super().__init__(scope, config.env)
        # From here on, every string from the configuration reaches AWS as the user wrote it.
        self.config = config = as_terraform_literals(config)
        self.add_override("terraform.required_version", TERRAFORM_VERSIONS)
        self._backend()
        AwsProvider(
            self,
            "aws",
            region=config.region,
            default_tags=[AwsProviderDefaultTags(tags={"Env": config.env, **config.tags})],
            **provider_account(config),
        )

        self.key = StackKey(
            self, "key", StackKeyProps(alias=config.name_prefix, region=config.region)
        )
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
        # Under its key at the top level: the table a stack had before tables were declared
        # (`requests`) keeps its Terraform address, and with it its data.
        self.tables = {key: self._table(key, table) for key, table in config.tables.items()}
        self.buckets = {key: self._bucket(key, bucket) for key, bucket in config.buckets.items()}
        self.events = StackEvents(self, config, kms_key_arn=self.key.key_arn)
        self.functions = {
            key: self._deploy_function(key, function_config)
            for key, function_config in config.functions.items()
        }
        self.endpoints = private_endpoints(self)
        self.events.connect(
            {key: deployed.alias.target for key, deployed in self.functions.items()},
            {key: deployed.function for key, deployed in self.functions.items()},
            self.tables,
        )
        self.eventbridge_triggers = add_eventbridge_triggers(self)
        self.user_pools = {
            key: UserPool(
                self,
                user_pool_id(key),
                UserPoolProps(
                    name=f"{config.name_prefix}-{key}",
                    deletion_protection=authorizer.deletion_protection,
                    hosted_sign_in=_hosted_sign_in(config, key),
                ),
            )
            for key, authorizer in config.authorizers.items()
            if authorizer.type == "cognito"
        }
        self.routes = [
            Route(
                route.method,
                route.path,
                self.functions[route.function].alias.target,
                route.authorization,
                route.priority,
                tuple(route.scopes),
            )
            for route in config.routes
        ]
        self.api = build_api(self)
        self.domain = build_domain(self)
        # After the domain: without a certificate of its own, the listener uses the domain's.
        self.load_balancer = self._load_balancer()
        self._route_load_balancer()
        self.load_balancer_host = point_domain_at_load_balancer(self)
        self.firewall = self._firewall()
        self.firewall.protect("load-balancer", self.load_balancer.load_balancer_arn)
        # WAF web ACLs cannot attach to HTTP APIs: there only the load balancer is protected.
        if isinstance(self.api, LambdaRestApi):
            self.firewall.protect("api-stage", self.api.stage.arn)
        self.monitoring, function_alarms = watch_stack(
            self,
            config,
            kms_key_arn=self.key.key_arn,
            functions={key: deployed.function for key, deployed in self.functions.items()},
            api=self.api,
            routes=self.routes,
            load_balancer=self.load_balancer,
        )
        self.event_alarms = self.events.watch(self.monitoring)
        watch_eventbridge_triggers(self.monitoring, self.eventbridge_triggers, config)
        self.releases = Releases(
            self, "releases", ReleasesProps(name=config.name_prefix, region=config.region)
        )
        # What a bad release of a function sets off stops it and rolls its `live` alias back.
        self.deployment_groups = {
            key: self.releases.add_function(
                key,
                deployed.alias,
                DeploymentGroupProps(
                    strategy=config.releases.strategy,
                    rollback_alarms=function_alarms[key],
                    rollback_window_s=config.alarms.period_s * config.alarms.evaluation_periods,
                ),
            )
            for key, deployed in self.functions.items()
        }
        add_outputs(self)

    def _table(self, key: str, table: TableConfig) -> Table:
        return Table(
            self,
            key,
            TableProps(
                table_name=table.name,
                partition_key=KeyAttribute(table.partition_key.name, table.partition_key.type),
                sort_key=KeyAttribute(table.sort_key.name, table.sort_key.type)
                if table.sort_key is not None
                else None,
                kms_key_arn=self.key.key_arn,
                ttl_attribute=table.ttl_attribute,
                stream_view_type=table_stream(self.config, key),
                point_in_time_recovery=table.point_in_time_recovery,
                deletion_protection=table.deletion_protection,
            ),
        )

    def _bucket(self, key: str, bucket: BucketConfig) -> SecureBucket:
        s3 = self.config.s3
        secure = SecureBucket(
            self,
            bucket_id(key),
            SecureBucketProps(
                bucket_name=bucket.name,
                bucket_prefix=bucket_prefix(self.config.name_prefix, key)
                if bucket.name is None
                else None,
                kms_key_arn=self.key.key_arn,
                versioning=bucket.versioning,
                noncurrent_version_expiration_days=bucket.noncurrent_version_expiration_days,
                expiration_days=bucket.expiration_days,
                expiration_rules=[
                    ExpirationRule(rule.prefix, rule.expiration_days) for rule in bucket.lifecycle
                ],
                force_destroy=s3.force_destroy,
                prevent_destroy=s3.prevent_destroy,
            ),
        )
        for object_key, text in bucket.objects.items():
            # Named after the object key (which may hold `/`): removing one key leaves the
            # addresses of the others as they were.
            digest = hashlib.sha256(object_key.encode()).hexdigest()[:16]
            secure.add_text_object(f"object-{digest}", key=object_key, content=text)
        return secure

    def _deploy_function(self, key: str, function_config: FunctionConfig) -> DeployedFunction:
        """The function, its grants, secrets and `live` alias, under one scope per function."""
        scope = Construct(self, f"function-{key}")
        secrets = self._secrets(scope, function_config)
        try:
            function = self._function(scope, key, function_config, secrets)
        except PackagingError as error:
            raise PackagingError(f"functions.{key}: {error}") from error
        # Callers invoke the `live` alias; CodeDeploy moves it from version to version.
        alias = LiveAlias(
            scope,
            "live",
            function,
            LiveAliasProps(
                provisioned_concurrency=function_config.provisioned_concurrency,
                account_concurrency_limit=self.config.account_concurrency,
            ),
        )
        url = function_config.url
        function_url = (
            FunctionUrl(
                scope,
                "url",
                FunctionUrlProps(
                    function_name=function_config.name,
                    qualifier=alias.name,
                    auth=url.auth,
                    invoke_mode=url.invoke_mode,
                    cors=cors_policy(url.cors) if url.cors is not None else None,
                ),
            )
            if url is not None
            else None
        )
        return DeployedFunction(function, alias, secrets, function_url)

    def _backend(self) -> None:
        state = self.config.backend.s3_state()
        if state is None:
            # Relative to the stack folder, where ops run `terraform init`.
            LocalBackend(self, path=f"terraform.{self.config.env}.tfstate")
            return
        S3Backend(
            self, bucket=state.bucket, key=state.key, region=state.region, encrypt=state.encrypt
        )
        # S3-native locking (Terraform >= 1.10); cdktf's S3Backend has no field for it.
        self.add_override("terraform.backend.s3.use_lockfile", state.use_lockfile)

    def _network(self) -> Network:
        config = self.config
        return Network(
            self,
            "network",
            NetworkProps(
                name=config.name_prefix,
                region=config.region,
                cidr=config.vpc.cidr,
                public_subnets=_subnets(config.vpc.public_subnets),
                private_subnets=_subnets(config.vpc.private_subnets),
                nat_gateways=config.vpc.nat_gateways,
                nat_subnet=config.vpc.nat_subnet,
                flow_logs=None
                if config.vpc.flow_logs == "none"
                else FlowLogProps(
                    retention_days=config.logs.retention_days,
                    kms_key_arn=self.key.key_arn,
                    traffic_type=config.vpc.flow_logs,
                ),
            ),
        )

    def _firewall(self) -> WebFirewall:
        waf = self.config.waf
        return WebFirewall(
            self,
            "firewall",
            WebFirewallProps(
                name=self.config.name_prefix,
                log_retention_days=self.config.logs.retention_days,
                kms_key_arn=self.key.key_arn,
                managed_rule_groups=waf.managed_rule_groups,
                count_rules=waf.count_rules,
                rate_limit=RateLimit(waf.rate_limit, waf.rate_limit_window_s),
                # execute-api URLs carry the stage as the first segment; the domain does not.
                markup_path_regex=paths_regex(waf.markup_paths, self.config.api.stage_name)
                if waf.markup_paths
                else None,
            ),
        )

    def _load_balancer(self) -> FunctionLoadBalancer:
        config = self.config.load_balancer
        return FunctionLoadBalancer(
            self,
            "load-balancer",
            LoadBalancerProps(
                name=config.name,
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

    def _route_load_balancer(self) -> None:
        """A target group per function some route sends to the load balancer; a listener
        rule per such route."""
        target_groups: dict[str, LbTargetGroup] = {}
        pairs = []
        for route_config, route in zip(self.config.routes, self.routes, strict=True):
            if not route_config.load_balancer:
                continue
            key = route_config.function
            if key not in target_groups:
                target_groups[key] = self.load_balancer.add_function_target(
                    key, target_group_name(self.config, key), route.target
                )
            pairs.append((route, target_groups[key]))
        self.load_balancer.add_routes(pairs)

    def _function(
        self,
        scope: Construct,
        key: str,
        function_config: FunctionConfig,
        secrets: FunctionSecrets | None,
    ) -> ServerlessFunction:
        config = self.config
        name = function_config.name
        return ServerlessFunction(
            scope,
            "function",
            FunctionProps(
                function_name=name,
                role_name=f"{name}{FUNCTION_ROLE_SUFFIX}",
                source_dir=function_config.source_path,
                dependencies=function_config.dependencies_path,
                architecture=function_config.architecture,
                code_bucket=self.bucket,
                kms_key_arn=self.key.key_arn,
                handler=function_config.handler,
                runtime=function_config.runtime,
                memory_mb=function_config.memory_mb,
                timeout_s=function_config.timeout_s,
                environment={
                    **function_config.environment,
                    **self._granted_variables(key, function_config),
                    **(secrets.environment if secrets is not None else {}),
                },
                reserved_concurrency=function_config.reserved_concurrency,
                publish_versions=True,
                snap_start=function_config.snap_start,
                log_retention_days=config.logs.retention_days,
                vpc=FunctionVpcPlacement(
                    vpc_id=self.network.vpc_id,
                    subnet_ids=self.network.private_subnet_ids,
                    # The default group has no rules (managed empty by the network).
                    replacement_security_group_ids=[self.network.default_security_group_id],
                )
                if function_config.in_vpc
                else None,
            ),
            # Before the function is created: it depends on their policies from the start.
            grants=[lambda function: self._grant(function, function_config, secrets)],
        )

    def _granted_variables(
        self, function_key: str, function_config: FunctionConfig
    ) -> dict[str, str]:
        """TABLE_<KEY>_NAME, BUCKET_<KEY>_NAME, ... for what the function is granted, and the
        API's CORS policy for a function a route reaches."""
        grants = function_config.grants
        return {
            **cors_variables(self.config, function_key),
            **{
                granted_variable("TABLE", key): self.tables[key].table_name for key in grants.tables
            },
            **{
                granted_variable("BUCKET", key): self.buckets[key].bucket_name
                for key in grants.buckets
            },
            **self.events.variables(grants),
        }

    def _grant(
        self,
        function: ServerlessFunction,
        function_config: FunctionConfig,
        secrets: FunctionSecrets | None,
    ) -> None:
        """What the function may do with its tables, buckets, the stack key and its secrets."""
        grants = function_config.grants
        for key, access in grants.tables.items():
            self.tables[key].grant(function, access)
        for key, grant in grants.buckets.items():
            bucket = self.buckets[key]
            if grant.read:
                bucket.grant_read_objects(function, grant.read)
            if grant.write:
                bucket.grant_write_objects(function, grant.write)
        self.events.grant(function, grants)
        # Env vars and the dead-letter queue are encrypted with the stack key; so are the
        # buckets' objects and the tables.
        self.key.grant_encrypt_decrypt(function)
        if secrets is not None:
            secrets.grant_read(function)

    def _secrets(self, scope: Construct, function_config: FunctionConfig) -> FunctionSecrets | None:
        if not function_config.secrets:
            return None
        return FunctionSecrets(
            scope,
            "secrets",
            FunctionSecretsProps(
                region=self.config.region,
                parameters=function_config.secrets,
                kms_key_arn=function_config.secrets_kms_key_arn,
            ),
        )


@dataclass(frozen=True)
class DeployedFunction:
    function: ServerlessFunction
    alias: LiveAlias
    # None: the function reads no secrets.
    secrets: FunctionSecrets | None
    # None: the function has no URL of its own.
    url: FunctionUrl | None = None


def _subnets(subnets: dict[str, SubnetConfig]) -> list[Subnet]:
    return [Subnet(key, subnet.cidr, subnet.az) for key, subnet in subnets.items()]


def _hosted_sign_in(config: StackConfig, key: str) -> HostedSignIn | None:
    """Cognito authorizer `key`'s resource server and hosted sign-in, when it declares one."""
    authorizer = config.authorizers[key]
    server = authorizer.resource_server
    if server is None or authorizer.callback_urls is None:
        return None
    return HostedSignIn(
        ResourceServer(server.identifier, dict(server.scopes)),
        tuple(authorizer.callback_urls),
        config.sign_in_domain_prefix(key),
    )
