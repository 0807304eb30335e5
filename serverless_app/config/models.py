"""The configuration model: every key of an environment file, its default and the rules
across keys. A rule about one value is an `Annotated` type in `rules`; a rule about several
keys is a validator of the smallest model holding them (`VpcConfig._network_rules`,
`StackConfig._zones_in_region`, ...); rules across files are in `UNIQUE_ACROSS_FILES`.
"""

from __future__ import annotations

import ast
import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from serverless_app.config.aws_facts import (
    ALARM_MAX_EVALUATION_SECONDS,
    ALARM_MIN_PERIOD_S,
    API_GATEWAY_TIMEOUT_S,
    API_MAX_BURST_LIMIT,
    API_MAX_LATENCY_MS,
    API_MAX_RATE_LIMIT,
    AWS_REGIONS,
    GREETING_KEY,
    LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY,
    LAMBDA_ENVIRONMENT_MAX_BYTES,
    LAMBDA_MIN_UNRESERVED_CONCURRENCY,
    LAMBDA_PYTHON_RUNTIMES,
    LOG_RETENTION_DAYS,
    MAX_SECRETS_PER_FUNCTION,
    MAX_TAGS,
    RELEASE_STRATEGIES,
    RESOURCE_TAGS,
    S3_BUCKET_NAME_MAX,
    S3_MAX_LIFECYCLE_DAYS,
    SECRET_VARIABLE_PREFIX,
    STACK_TAGS,
    STACK_VARIABLES,
    TERRAFORM_BUCKET_SUFFIX_LENGTH,
    WAF_MAX_RULE_OVERRIDES,
)
from serverless_app.config.rules import (
    ApiName,
    ApiPathPart,
    ApiStageName,
    AvailabilityZone,
    AwsRegion,
    CertificateArn,
    DomainName,
    DynamoDbTableName,
    EmailAddress,
    EnvName,
    HostedZoneId,
    HttpsUrl,
    Ipv4Cidr,
    KmsKeyArn,
    LambdaFunctionName,
    LambdaHandler,
    LambdaVariableName,
    LoadBalancerName,
    Problem,
    S3BucketName,
    S3BucketPrefix,
    SecretName,
    SslPolicy,
    SsmParameterName,
    StackRegion,
    StateKey,
    SubnetKey,
    TagKey,
    TagValue,
    WafName,
    fail,
    not_the_placeholder,
    one_of,
    partition_of,
    raise_problems,
    zones_of,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config"
DEFAULT_REGION = "us-east-1"


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never fall back to a default silently.
    Strict types: "512" is not a number, 1 is not a boolean; inf and nan are not numbers
    (TOML has them; Terraform's JSON does not)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class SubnetConfig(StrictModel):
    cidr: Ipv4Cidr = Field(
        description="IPv4 CIDR /16 to /28, inside `vpc.cidr`, overlapping no other subnet",
        json_schema_extra={"type_text": "string (CIDR)"},
    )
    az: AvailabilityZone = Field(
        description="an AZ of `region`, from a static per-region list (`us-east-1a`...`us-east-1f`)"
    )


NatStrategy = Literal["single", "one_per_az", "none"]


class VpcConfig(StrictModel):
    cidr: Ipv4Cidr = Field(
        default="10.0.0.0/16",
        description="IPv4 CIDR in canonical form, /16 to /28",
        json_schema_extra={"type_text": "string (CIDR)"},
    )
    # Left out: two subnets per tier in AZs a and b of the region (see README).
    public_subnets: dict[SubnetKey, SubnetConfig] = Field(
        default_factory=dict,
        description=(
            "keys 1-16 lowercase letters or digits; subnets in at least two AZs (the load "
            "balancer needs them)"
        ),
        json_schema_extra={
            "type_text": "table `key = { cidr, az }`",
            (
                "default_text"
            ): "`a` = `10.0.1.0/24` in `<region>a`, `b` = `10.0.2.0/24` in `<region>b`",
        },
    )
    private_subnets: dict[SubnetKey, SubnetConfig] = Field(
        default_factory=dict,
        description=(
            "keys as above; at least one subnet; with `one_per_az`, every AZ used here needs a "
            "public subnet"
        ),
        json_schema_extra={
            "type_text": "table `key = { cidr, az }`",
            (
                "default_text"
            ): "`a` = `10.0.11.0/24` in `<region>a`, `b` = `10.0.12.0/24` in `<region>b`",
        },
    )
    nat_gateways: NatStrategy = Field(
        default="single",
        description="NAT strategy; `one_per_az` adds one private route table per AZ",
    )
    # With nat_gateways = "single": the public subnet that holds the NAT gateway.
    # Defaults to the first public subnet key in sorted order.
    nat_subnet: str | None = Field(
        default=None,
        description=(
            "a key of `vpc.public_subnets`, the subnet holding the NAT gateway; only with "
            '`nat_gateways = "single"`'
        ),
        json_schema_extra={"default_text": "first public subnet key in sorted order"},
    )
    flow_logs: bool = Field(default=True, description="VPC flow logs to CloudWatch")

    @model_validator(mode="after")
    def _network_rules(self) -> VpcConfig:
        raise_problems(
            [
                *self._subnets_inside_vpc(),
                *self._subnets_apart(),
                *self._load_balancer_zones(),
                *self._private_subnet_present(),
                *self._nat_zones(),
                *self._nat_subnet(),
            ]
        )
        return self

    def subnets(self) -> Iterator[tuple[str, str, SubnetConfig]]:
        """(tier field, key, subnet) for every subnet, public first, keys in sorted order."""
        for tier in ("public_subnets", "private_subnets"):
            for key, subnet in sorted(getattr(self, tier).items()):
                yield tier, key, subnet

    def _subnets_inside_vpc(self) -> Iterator[Problem]:
        vpc = ipaddress.IPv4Network(self.cidr)
        for tier, key, subnet in self.subnets():
            if not ipaddress.IPv4Network(subnet.cidr).subnet_of(vpc):
                yield Problem((tier, key, "cidr"), f"not inside vpc.cidr {self.cidr}", subnet.cidr)

    def _subnets_apart(self) -> Iterator[Problem]:
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for tier, key, subnet in self.subnets():
            network = ipaddress.IPv4Network(subnet.cidr)
            for name, other in seen:
                if network.overlaps(other):
                    yield Problem((tier, key, "cidr"), f"overlaps {name} ({other})", subnet.cidr)
                    break
            seen.append((f"vpc.{tier}.{key}", network))

    def _load_balancer_zones(self) -> Iterator[Problem]:
        zones = sorted({subnet.az for subnet in self.public_subnets.values()})
        if len(zones) < 2:
            yield Problem(
                ("public_subnets",),
                "the load balancer needs public subnets in at least two availability zones",
                zones,
            )

    def _private_subnet_present(self) -> Iterator[Problem]:
        if not self.private_subnets:
            yield Problem(("private_subnets",), "at least one private subnet is needed", {})

    def _nat_zones(self) -> Iterator[Problem]:
        if self.nat_gateways != "one_per_az":
            return
        public_zones = {subnet.az for subnet in self.public_subnets.values()}
        for key, subnet in sorted(self.private_subnets.items()):
            if subnet.az not in public_zones:
                yield Problem(
                    ("private_subnets", key, "az"),
                    'nat_gateways = "one_per_az" needs a public subnet in this availability '
                    "zone for its NAT gateway",
                    subnet.az,
                )

    def _nat_subnet(self) -> Iterator[Problem]:
        if self.nat_subnet is None:
            return
        if self.nat_gateways != "single":
            yield Problem(
                ("nat_subnet",), 'only used with nat_gateways = "single"', self.nat_subnet
            )
        elif self.nat_subnet not in self.public_subnets:
            keys = ", ".join(sorted(self.public_subnets))
            yield Problem(("nat_subnet",), f"not a public subnet key ({keys})", self.nat_subnet)


class LoadBalancerConfig(StrictModel):
    name: LoadBalancerName | None = Field(
        default=None,
        description=(
            "1-29 lowercase letters, digits or hyphens, not starting or ending with a hyphen, not "
            "starting with `internal-` (the target group `<name>-fn` must fit 32; the name also "
            "prefixes the access-log bucket); unique"
        ),
        json_schema_extra={"default_text": "`<env>-alb`"},
    )
    # With a certificate: HTTPS on 443 and a redirect from 80. Without: plain HTTP on 80,
    # a documented choice for environments without a domain (see README "Security defaults").
    certificate_arn: CertificateArn | None = Field(
        default=None,
        description=(
            "ACM certificate ARN (`arn:aws:acm:REGION:ACCOUNT:certificate/ID`) in `region` and "
            "its partition (`aws`, `aws-cn`, `aws-us-gov`); enables HTTPS on 443 and a redirect "
            "from 80"
        ),
        json_schema_extra={"default_text": "unset: plain HTTP on 80"},
    )
    ssl_policy: SslPolicy = Field(
        default="ELBSecurityPolicy-TLS13-1-2-2021-06",
        description=(
            "an existing ALB security policy (static list in "
            "`serverless_app/config/aws_facts.py`); only with `certificate_arn`"
        ),
    )
    deletion_protection: bool = Field(default=False, description="")
    access_logs: bool = Field(
        default=True, description="access logs to an SSE-S3 bucket `<name>-logs-...`"
    )
    # Access logs are disposable; S3 sets no maximum, 3653 days (10 years) is a sanity bound.
    access_log_expiration_days: Annotated[int, Field(ge=1, le=3653)] = Field(
        default=90,
        description=(
            "S3 sets no maximum; 10 years is a sanity bound: current log objects expire after "
            "this many days, then as noncurrent versions"
        ),
    )

    @model_validator(mode="after")
    def _policy_needs_certificate(self) -> LoadBalancerConfig:
        if "ssl_policy" in self.model_fields_set and self.certificate_arn is None:
            fail(("ssl_policy",), "only used with certificate_arn (HTTPS)", self.ssl_policy)
        return self


class LambdaConfig(StrictModel):
    function_name: LambdaFunctionName | None = Field(
        default=None,
        description=(
            "1-59 letters, digits, `-` or `_` (the role `<name>-role` must fit IAM's 64); unique"
        ),
        json_schema_extra={"default_text": "`<env>-hello`"},
    )
    handler: LambdaHandler = Field(
        default="app.handler",
        description=(
            "`module.function` (dotted packages allowed), at most 128; the module file exists in "
            "`source_dir` and binds the function at top level (read with `ast`, not imported)"
        ),
    )
    runtime: Annotated[str, one_of(LAMBDA_PYTHON_RUNTIMES, "a supported Lambda Python runtime")] = (
        Field(
            default="python3.13",
            description=(
                f"one of {', '.join(LAMBDA_PYTHON_RUNTIMES)} (Lambda, 2026-11-28; `python3.10` "
                f"was deprecated on 2026-10-31)"
            ),
        )
    )
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = Field(default=256, description="")
    timeout_s: Annotated[int, Field(ge=1, le=900)] = Field(
        default=10, description="above 29 a warning (API Gateway stops waiting at 29 s)"
    )
    # Relative paths are relative to the project root (the folder holding main.py).
    source_dir: str = Field(
        default="lambda",
        description="an existing folder, relative to the project root",
        json_schema_extra={"type_text": "string (path)"},
    )
    environment: dict[LambdaVariableName, str] = Field(
        default_factory=dict,
        description=(
            "names `[A-Za-z][A-Za-z0-9_]*`, not reserved by Lambda (`AWS_*`, `_HANDLER`, "
            "`_X_AMZN_TRACE_ID`, `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`, `TZ`), not set by the "
            "stack (`TABLE_NAME`, `BUCKET_NAME`, `GREETING_KEY`); all keys and values with the "
            "stack's three at most 4096 bytes (UTF-8)"
        ),
    )
    # Run in the private subnets (egress through NAT / VPC endpoints only).
    in_vpc: bool = Field(
        default=True,
        description=(
            "run in the private subnets (egress through NAT and the gateway endpoints only)"
        ),
    )
    # Opt-in: unset, the function shares the account's unreserved pool. 0 would stop it.
    reserved_concurrency: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "0 would stop the function; at most `account_concurrency` - 100 (Lambda keeps 100 "
            "unreserved)"
        ),
        json_schema_extra={"default_text": "unset: no reservation (opt-in)"},
    )
    # The account's concurrency quota (Service Quotas: "Concurrent executions"); only used to
    # check reserved_concurrency. No documented maximum: 1,000,000 is a sanity bound.
    account_concurrency: Annotated[
        int, Field(ge=LAMBDA_MIN_UNRESERVED_CONCURRENCY, le=1_000_000)
    ] = Field(
        default=LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY,
        description=(
            'the account\'s "Concurrent executions" quota (Service Quotas; new accounts often have '
            "far less than 1,000; no documented maximum: 1,000,000 is a sanity bound); only "
            "checks `reserved_concurrency`"
        ),
    )

    # Warm execution environments on the `live` alias: paid per hour whether used or not.
    provisioned_concurrency: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "warm environments on the `live` alias (paid while idle); at most "
            "`account_concurrency` - 100 and at most `reserved_concurrency` when that is set"
        ),
        json_schema_extra={"default_text": "unset: none (cold starts possible)"},
    )
    # Secret name -> SSM SecureString parameter (created outside Terraform; its value never
    # enters the configuration or the state).
    secrets: Annotated[
        dict[SecretName, SsmParameterName], Field(max_length=MAX_SECRETS_PER_FUNCTION)
    ] = Field(
        default_factory=dict,
        description=(
            '`name = "/ssm/parameter/name"`: the function gets `SECRET_<NAME>` = the parameter '
            "name and may read exactly those parameters (values stay in SSM, never in the "
            "state); names lower_snake_case 1-64; parameter names at most 2048 characters, 15 "
            "levels, not starting with `aws` or `ssm`"
        ),
        json_schema_extra={"type_text": "table: name = parameter name"},
    )
    secrets_kms_key_arn: KmsKeyArn | None = Field(
        default=None,
        description=(
            "the customer-managed KMS key the parameters are encrypted with, in `region`; only "
            "with `secrets`"
        ),
        json_schema_extra={"default_text": "unset: the AWS-managed `alias/aws/ssm` key"},
    )

    @model_validator(mode="after")
    def _provisioned_fits(self) -> LambdaConfig:
        count = self.provisioned_concurrency
        if count is None:
            return self
        ceiling = self.account_concurrency - LAMBDA_MIN_UNRESERVED_CONCURRENCY
        if self.reserved_concurrency is not None:
            ceiling = min(ceiling, self.reserved_concurrency)
        if count > ceiling:
            fail(
                ("provisioned_concurrency",),
                f"at most {ceiling} (reserved_concurrency, and account_concurrency minus the "
                f"{LAMBDA_MIN_UNRESERVED_CONCURRENCY} Lambda keeps unreserved)",
                count,
            )
        return self

    @model_validator(mode="after")
    def _secret_rules(self) -> LambdaConfig:
        if self.secrets_kms_key_arn is not None and not self.secrets:
            fail(("secrets_kms_key_arn",), "only used with secrets", self.secrets_kms_key_arn)
        raise_problems(
            Problem(("secrets", name), f"its variable {variable} is set in environment", name)
            for name in self.secrets
            if (variable := f"{SECRET_VARIABLE_PREFIX}{name.upper()}") in self.environment
        )
        return self

    @model_validator(mode="after")
    def _reservation_fits_account(self) -> LambdaConfig:
        available = self.account_concurrency - LAMBDA_MIN_UNRESERVED_CONCURRENCY
        if self.reserved_concurrency is not None and self.reserved_concurrency > available:
            fail(
                ("reserved_concurrency",),
                f"at most {available}: Lambda keeps {LAMBDA_MIN_UNRESERVED_CONCURRENCY} of "
                f"account_concurrency = {self.account_concurrency} unreserved",
                self.reserved_concurrency,
            )
        return self

    @property
    def source_path(self) -> Path:
        return (PROJECT_ROOT / self.source_dir).resolve()

    @model_validator(mode="after")
    def _handler_module_exists(self) -> LambdaConfig:
        source = self.source_path
        module = self.handler.rpartition(".")[0].split(".")
        candidates = (
            source.joinpath(*module).with_suffix(".py"),
            source.joinpath(*module, "__init__.py"),
        )
        if not source.is_dir():
            fail(("source_dir",), f"no such folder: {source}", self.source_dir)
        found = [candidate for candidate in candidates if candidate.is_file()]
        if not found:
            expected = candidates[0].relative_to(source)
            fail(
                ("handler",), f"module not found: no {expected} in {self.source_dir}", self.handler
            )
        problem = _function_problem(found[0], self.handler.rpartition(".")[2])
        if problem:
            fail(("handler",), f"{problem} in {found[0].relative_to(source)}", self.handler)
        return self


def _function_problem(module: Path, name: str) -> str | None:
    """Whether `module` binds `name` at top level (def, assignment or import), read with `ast`:
    validation must not run the function's code."""
    try:
        tree = ast.parse(module.read_bytes(), filename=str(module))
    except (OSError, SyntaxError, ValueError) as error:
        return f"cannot read the module ({error})"
    if name not in _top_level_names(tree):
        return f"no top-level function {name}"
    return None


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(
                t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)
            )
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


ApiAuthorization = Literal["NONE", "AWS_IAM"]
ApiLoggingLevel = Literal["OFF", "ERROR", "INFO"]


class ApiConfig(StrictModel):
    name: ApiName | None = Field(
        default=None,
        description="1-47 letters, digits, `.`, `-` or `_` (the name is part of a log group name)",
        json_schema_extra={"default_text": "`<env>-hello-api`"},
    )
    path_part: ApiPathPart = Field(
        default="hello",
        description="one path segment: 1-128 letters, digits, `.`, `-` or `_`; `GET /<path_part>`",
    )
    stage_name: ApiStageName | None = Field(
        default=None,
        description="1-128 letters, digits, `-` or `_`",
        json_schema_extra={"default_text": "`<env>`"},
    )
    # "NONE" makes the API public: a deliberate choice, never the default.
    authorization: ApiAuthorization = Field(
        default="AWS_IAM",
        description='`"NONE"` makes the API public: a deliberate choice, never the default',
    )
    throttling_rate_limit: Annotated[float, Field(gt=0, le=API_MAX_RATE_LIMIT)] = Field(
        default=50, description="requests per second (the account's default limit), finite"
    )
    throttling_burst_limit: Annotated[int, Field(ge=1, le=API_MAX_BURST_LIMIT)] = Field(
        default=100, description="the account's default burst"
    )
    logging_level: ApiLoggingLevel = Field(default="ERROR", description="")


class S3Config(StrictModel):
    bucket_prefix: S3BucketPrefix | None = Field(
        default=None,
        description=(
            "1-37 characters (Terraform appends 26), lowercase letters, digits, `.` or `-`, "
            "starting with a letter or digit, no `..`, not starting with `xn--`, `sthree-`, "
            "`amzn-s3-demo-`; unique"
        ),
        json_schema_extra={"default_text": "`<env>-hello-artifacts-` unless `bucket_name` is set"},
    )
    bucket_name: S3BucketName | None = Field(
        default=None,
        description=(
            "S3 bucket name: 3-63 lowercase letters, digits, `.` or `-`, starting and ending with "
            "a letter or digit, no `..`, not an IP address, none of the reserved prefixes above "
            "nor suffixes `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`; not together "
            "with `bucket_prefix`; unique"
        ),
        json_schema_extra={"default_text": "unset"},
    )
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=S3_MAX_LIFECYCLE_DAYS)] = (
        Field(default=30, description="")
    )
    # `terraform destroy` empties the buckets (all versions) instead of failing: dev.
    force_destroy: bool = Field(
        default=False,
        description=(
            "`terraform destroy` empties the artifact and access-log buckets (every version) "
            "instead of failing with `BucketNotEmpty` (dev)"
        ),
    )
    # Terraform refuses any plan that destroys the artifact bucket: prod.
    prevent_destroy: bool = Field(
        default=False,
        description=(
            "Terraform refuses any plan that destroys the artifact bucket "
            "(`lifecycle.prevent_destroy`); not together with `force_destroy` (prod)"
        ),
    )

    @model_validator(mode="after")
    def _one_naming_mode(self) -> S3Config:
        if self.bucket_prefix and self.bucket_name:
            fail(("bucket_name",), "set bucket_prefix or bucket_name, not both", self.bucket_name)
        return self

    @model_validator(mode="after")
    def _one_destroy_mode(self) -> S3Config:
        if self.force_destroy and self.prevent_destroy:
            fail(("prevent_destroy",), "contradicts force_destroy = true; set one of them")
        return self


class WafConfig(StrictModel):
    # AWS managed rule groups (vendor AWS), evaluated in this order.
    managed_rule_groups: Annotated[list[WafName], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAnonymousIpList",
        ],
        description=(
            "AWS managed rule group names (vendor AWS, 1-128 letters, digits, `-`, `_`), "
            "evaluated in this order: common exploits, known bad inputs (Log4Shell), anonymizing "
            "services"
        ),
    )
    # Group -> rules that only count (log) instead of blocking. HostingProviderIPList blocks
    # every request from EC2, CloudShell and CI runners: counted unless configured otherwise.
    count_rules: dict[
        WafName, Annotated[list[WafName], Field(max_length=WAF_MAX_RULE_OVERRIDES)]
    ] = Field(
        default_factory=lambda: {"AWSManagedRulesAnonymousIpList": ["HostingProviderIPList"]},
        description=(
            "rules that only count (`rule_action_override` count) instead of blocking; groups "
            "must be in `managed_rule_groups`; at most 100 rules per group. HostingProviderIPList "
            "would block EC2, CloudShell and CI runners"
        ),
        json_schema_extra={"type_text": "table: group = list of rule names"},
    )

    @model_validator(mode="after")
    def _counted_groups_are_used(self) -> WafConfig:
        raise_problems(
            Problem(("count_rules", group), "not in managed_rule_groups", group)
            for group in self.count_rules
            if group not in self.managed_rule_groups
        )
        return self


class DynamoDbConfig(StrictModel):
    table_name: DynamoDbTableName | None = Field(
        default=None,
        description="3-255 letters, digits, `_`, `.` or `-`; unique",
        json_schema_extra={"default_text": "`<env>-requests`"},
    )
    deletion_protection: bool = Field(default=False, description="")


class LogsConfig(StrictModel):
    # Applies to every log group the stack creates (function, API access, VPC flow logs).
    retention_days: Annotated[int, one_of(LOG_RETENTION_DAYS, "a CloudWatch Logs retention")] = (
        Field(
            default=365,
            description=(
                f"for every log group the stack creates (function, API access, VPC flow logs); "
                f"one of CloudWatch's values: {', '.join(map(str, LOG_RETENTION_DAYS))}"
            ),
        )
    )


class AlarmsConfig(StrictModel):
    """CloudWatch alarms on the function, the API and the load balancer, sent (ALARM and OK)
    to one encrypted SNS topic `<env>-alarms`, plus a dashboard `<env>`."""

    email: list[EmailAddress] = Field(
        default_factory=list,
        description="addresses subscribed to the topic; each must confirm by email first",
    )
    https: list[HttpsUrl] = Field(
        default_factory=list,
        description="https:// endpoints (an incident tool's webhook); each must confirm first",
    )
    period_s: Annotated[int, Field(ge=ALARM_MIN_PERIOD_S, le=ALARM_MAX_EVALUATION_SECONDS)] = Field(
        default=60,
        description="a multiple of 60 (the metrics are published every minute)",
    )
    evaluation_periods: Annotated[
        int, Field(ge=1, le=ALARM_MAX_EVALUATION_SECONDS // ALARM_MIN_PERIOD_S)
    ] = Field(default=5, description="`period_s` x this at most one day (CloudWatch)")
    datapoints_to_alarm: Annotated[int, Field(ge=1)] = Field(
        default=3, description="of the evaluation periods, how many must breach (M of N)"
    )
    # Counts per period; CloudWatch sets no maximum: 1,000,000 is a sanity bound.
    function_errors: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1, description="function errors per period (sanity bound 1,000,000)"
    )
    function_throttles: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1, description="throttled invocations per period (sanity bound 1,000,000)"
    )
    duration_p99_timeout_ratio: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.8, description="p99 duration as a share of `lambda.timeout_s`"
    )
    api_server_error_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.05, description="share of API answers that are 5XX"
    )
    api_latency_p99_ms: Annotated[int, Field(ge=1, le=API_MAX_LATENCY_MS)] = Field(
        default=3000, description="API p99 latency; API Gateway gives up at 29 s"
    )
    load_balancer_target_5xx: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=5, description="5XX answers of the function per period (sanity bound 1,000,000)"
    )

    @model_validator(mode="after")
    def _window(self) -> AlarmsConfig:
        if self.period_s % ALARM_MIN_PERIOD_S:
            fail(("period_s",), f"must be a multiple of {ALARM_MIN_PERIOD_S}", self.period_s)
        if self.period_s * self.evaluation_periods > ALARM_MAX_EVALUATION_SECONDS:
            message = f"period_s x evaluation_periods exceeds {ALARM_MAX_EVALUATION_SECONDS} s"
            fail(("evaluation_periods",), message, self.evaluation_periods)
        if self.datapoints_to_alarm > self.evaluation_periods:
            message = "at most evaluation_periods"
            fail(("datapoints_to_alarm",), message, self.datapoints_to_alarm)
        return self


class ReleasesConfig(StrictModel):
    """How CodeDeploy shifts the `live` alias to a new version (`scripts/release.py`)."""

    strategy: Annotated[str, one_of(RELEASE_STRATEGIES, "a CodeDeploy Lambda strategy")] = Field(
        default="Canary10Percent5Minutes",
        description=(
            f"one of {', '.join(RELEASE_STRATEGIES)}; the function's alarms stop a release "
            "and roll it back"
        ),
    )


class DomainConfig(StrictModel):
    """A custom domain for the API (and the load balancer's certificate)."""

    name: DomainName = Field(
        description=(
            "the API's host name, e.g. `api.example.com`: an ACM certificate (DNS-validated) and "
            "an A alias record are created; the load balancer's HTTPS listener uses the same "
            "certificate unless `load_balancer.certificate_arn` is set"
        )
    )
    hosted_zone_id: HostedZoneId = Field(
        description="the existing Route 53 public hosted zone holding `name`"
    )


BackendType = Literal["local", "s3"]
S3_BACKEND_KEYS = ("bucket", "key", "region", "use_lockfile", "encrypt")


class BackendConfig(StrictModel):
    """Where Terraform keeps state. "local": `terraform.<env>.tfstate` in the stack folder."""

    type: BackendType = Field(
        default="local", description="`local`: `terraform.<env>.tfstate` in the stack folder"
    )
    # The keys below apply to type = "s3" only.
    bucket: S3BucketName | None = Field(
        default=None,
        description='required with `type = "s3"`; S3 bucket name rules',
        json_schema_extra={"default_text": "—"},
    )
    key: StateKey | None = Field(
        default=None,
        description="not empty, not starting or ending with `/`, no `//`; bucket + key unique",
        json_schema_extra={"default_text": "`<env>/terraform.tfstate`"},
    )
    region: AwsRegion | None = Field(
        default=None, description="an AWS region", json_schema_extra={"default_text": "`region`"}
    )
    use_lockfile: bool = Field(default=True, description="S3-native locking (Terraform >= 1.10)")
    encrypt: bool = Field(default=True, description="")

    @model_validator(mode="after")
    def _keys_match_type(self) -> BackendConfig:
        if self.type == "s3" and not self.bucket:
            fail(("bucket",), 'required with type = "s3"')
        if self.type == "local":
            raise_problems(
                Problem((key,), 'only used with type = "s3"', getattr(self, key))
                for key in S3_BACKEND_KEYS
                if key in self.model_fields_set
            )
        return self


class StackConfig(StrictModel):
    """One environment. Every key but `env` has a default derived from `env` and `region`."""

    env: EnvName = Field(
        description=(
            "1-20 lowercase letters, digits or hyphens, starting with a letter, ending with a "
            "letter or digit; stack name, name prefix and `Env` tag; unique"
        )
    )
    region: StackRegion = Field(
        default=DEFAULT_REGION,
        description=(
            "a region of the `aws` partition (list checked 2026-11-28); `cn-*` (aws-cn) and "
            "`us-gov-*` (aws-us-gov) are refused with a message: service principals and WAF "
            "managed rules differ there and the stack is not tested there"
        ),
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        description=(
            "extra tags on every resource. Key 1-128, value 0-256 characters: letters, digits, "
            "spaces, `+ - = . _ : / @`; key not starting with `aws:`, not `Env` (set by the "
            "stack); at most 47 tags (AWS allows 50; the stack adds `Env`, `Name`, `Tier`)"
        ),
    )
    vpc: VpcConfig = Field(default_factory=VpcConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    lambda_: LambdaConfig = Field(default_factory=LambdaConfig, alias="lambda")
    api: ApiConfig = Field(default_factory=ApiConfig)
    s3: S3Config = Field(default_factory=S3Config)
    dynamodb: DynamoDbConfig = Field(default_factory=DynamoDbConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    waf: WafConfig = Field(default_factory=WafConfig)
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)
    releases: ReleasesConfig = Field(default_factory=ReleasesConfig)
    domain: DomainConfig | None = Field(
        default=None,
        description="a custom domain for the API",
        json_schema_extra={"type_text": "table", "default_text": "unset: the execute-api URL only"},
    )
    backend: BackendConfig = Field(default_factory=BackendConfig)

    @model_validator(mode="before")
    @classmethod
    def _fill_derived_defaults(cls, data: Any) -> Any:
        """Fill the subnets and names derived from `region` and `env` *before* validation, so
        the rules check the values the stack will use, not only the ones in the file.

        Every section becomes a table here, even an empty one, so that pydantic validates it
        at its own key path rather than building it from a default factory."""
        if not isinstance(data, dict):
            return data
        defaults = _zone_defaults(data)
        if _is_env_name(data.get("env")):  # else the env problem is reported; names would be noise
            defaults |= _name_defaults(data)
        filled = dict(data)
        for name, field in cls.model_fields.items():
            if _is_section(field.default_factory):
                section = field.alias or name
                given = filled.setdefault(section, {})
                if isinstance(given, dict):
                    filled[section] = {**defaults.get(section, {}), **given}
        return filled

    @field_validator("tags")
    @classmethod
    def _tag_budget(cls, tags: dict[str, str]) -> dict[str, str]:
        budget = MAX_TAGS - len((STACK_TAGS | RESOURCE_TAGS) - tags.keys())
        if len(tags) > budget:
            added = ", ".join(sorted(STACK_TAGS | RESOURCE_TAGS))
            message = f"at most {budget} tags: AWS allows {MAX_TAGS} and the stack adds {added}"
            fail((), message, len(tags))
        return tags

    @field_validator("vpc")
    @classmethod
    def _zones_in_region(cls, vpc: VpcConfig, info: ValidationInfo) -> VpcConfig:
        region = info.data.get("region")  # absent when the region itself is invalid
        if region is not None:
            raise_problems(
                Problem(
                    (tier, key, "az"),
                    f"not an availability zone of {region} ({', '.join(zones_of(region))})",
                    subnet.az,
                )
                for tier, key, subnet in vpc.subnets()
                if subnet.az not in zones_of(region)
            )
        return vpc

    @field_validator("load_balancer")
    @classmethod
    def _certificate_in_region(
        cls, load_balancer: LoadBalancerConfig, info: ValidationInfo
    ) -> LoadBalancerConfig:
        region, arn = info.data.get("region"), load_balancer.certificate_arn
        if region is None or arn is None:
            return load_balancer
        partition, arn_region = arn.split(":")[1], arn.split(":")[3]
        if (partition, arn_region) != (partition_of(region), region):
            message = f"the certificate must be in {region} (partition {partition_of(region)})"
            fail(("certificate_arn",), message, arn)
        return load_balancer

    @field_validator("lambda_")
    @classmethod
    def _secrets_key_in_region(cls, lambda_: LambdaConfig, info: ValidationInfo) -> LambdaConfig:
        region, arn = info.data.get("region"), lambda_.secrets_kms_key_arn
        if region is None or arn is None:
            return lambda_
        if arn.split(":")[3] != region:
            message = f"the key must be in {region}: SSM decrypts with a key of its region"
            fail(("secrets_kms_key_arn",), message, arn)
        return lambda_

    @model_validator(mode="after")
    def _environment_size(self) -> StackConfig:
        size = environment_bytes(self)
        if size > LAMBDA_ENVIRONMENT_MAX_BYTES:
            added = ", ".join(sorted(STACK_VARIABLES))
            message = (
                f"keys and values total more than Lambda's {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes "
                f"(counting {added}, which the stack adds)"
            )
            fail(("lambda", "environment"), message, size)
        return self

    @property
    def source_path(self) -> Path:
        return self.lambda_.source_path


def environment_bytes(config: StackConfig) -> int:
    """The size Lambda counts: every key and value in UTF-8, the stack's variables included."""
    bucket = config.s3.bucket_name or "x" * (
        len(config.s3.bucket_prefix or "") + TERRAFORM_BUCKET_SUFFIX_LENGTH
    )
    variables = {
        **config.lambda_.environment,
        **{
            f"{SECRET_VARIABLE_PREFIX}{name.upper()}": p
            for name, p in config.lambda_.secrets.items()
        },
        "TABLE_NAME": config.dynamodb.table_name or "",
        "BUCKET_NAME": bucket[:S3_BUCKET_NAME_MAX],
        "GREETING_KEY": GREETING_KEY,
    }
    return sum(len(key.encode()) + len(value.encode()) for key, value in variables.items())


def _is_section(default_factory: object) -> bool:
    """True for the fields holding a table of keys: vpc, lambda, api, ..."""
    return isinstance(default_factory, type) and issubclass(default_factory, StrictModel)


_ENV_NAME = TypeAdapter(EnvName)


def _is_env_name(value: Any) -> bool:
    try:
        _ENV_NAME.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _known_region(data: dict[str, Any]) -> str | None:
    region = data.get("region", DEFAULT_REGION)
    return region if isinstance(region, str) and region in AWS_REGIONS else None


def _zone_defaults(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Two subnets per tier, in zones a and b of the region (documented in the README)."""
    # With an unknown region (reported on its own) the subnets still get valid-looking zones.
    region = _known_region(data) or DEFAULT_REGION
    return {
        "vpc": {
            "public_subnets": {
                "a": {"cidr": "10.0.1.0/24", "az": f"{region}a"},
                "b": {"cidr": "10.0.2.0/24", "az": f"{region}b"},
            },
            "private_subnets": {
                "a": {"cidr": "10.0.11.0/24", "az": f"{region}a"},
                "b": {"cidr": "10.0.12.0/24", "az": f"{region}b"},
            },
        }
    }


def _name_defaults(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per section, the names a file leaves out (documented in the README)."""
    env = data["env"]
    defaults: dict[str, dict[str, Any]] = {
        "load_balancer": {"name": f"{env}-alb"},
        "lambda": {"function_name": f"{env}-hello"},
        "api": {"name": f"{env}-hello-api", "stage_name": env},
        "dynamodb": {"table_name": f"{env}-requests"},
    }
    s3 = data.get("s3", {})
    if isinstance(s3, dict) and "bucket_name" not in s3:
        defaults["s3"] = {"bucket_prefix": f"{env}-hello-artifacts-"}
    backend = data.get("backend", {})
    if isinstance(backend, dict) and backend.get("type") == "s3":
        defaults["backend"] = {"key": f"{env}/terraform.tfstate"}
        region = _known_region(data)
        if region:
            defaults["backend"]["region"] = region
    return defaults


def warnings_of(config: StackConfig) -> Iterator[Problem]:
    """Allowed but probably unintended: reported on stderr, the run goes on."""
    timeout = config.lambda_.timeout_s
    if timeout > API_GATEWAY_TIMEOUT_S:
        yield Problem(
            ("lambda", "timeout_s"),
            f"API Gateway stops waiting after {API_GATEWAY_TIMEOUT_S} s: callers get a 504 "
            "while the function keeps running",
            timeout,
        )


# Names two environments may not share: stacks are named after env, and the rest are unique
# per account and region (bucket names worldwide), so a second environment would fail to
# create them or, worse, adopt the first one's. Same prefix: the buckets could not be told apart.
UNIQUE_ACROSS_FILES: tuple[tuple[str, Callable[[StackConfig], object]], ...] = (
    ("env", lambda config: config.env),
    ("lambda.function_name", lambda config: config.lambda_.function_name),
    ("dynamodb.table_name", lambda config: config.dynamodb.table_name),
    ("s3.bucket_name", lambda config: config.s3.bucket_name),
    ("s3.bucket_prefix", lambda config: config.s3.bucket_prefix),
    ("load_balancer.name", lambda config: config.load_balancer.name),
    # Two environments writing one state object would overwrite each other's state.
    (
        "backend.key",
        lambda config: (
            f"s3://{config.backend.bucket}/{config.backend.key}"
            if config.backend.type == "s3"
            else None
        ),
    ),
)


Model = TypeVar("Model", bound=StrictModel)


class BootstrapConfig(StrictModel):
    """The `bootstrap` stack: the S3 bucket for remote state (`python main.py --bootstrap`)."""

    region: StackRegion = Field(
        default=DEFAULT_REGION, description="a region of the `aws` partition"
    )
    bucket_name: Annotated[S3BucketName, AfterValidator(not_the_placeholder)] = Field(
        description=(
            "the state bucket; S3 bucket name rules (globally unique); the shipped placeholder "
            "`example-org-hello-terraform-state` is refused (exit 2)"
        )
    )
    tags: dict[TagKey, TagValue] = Field(default_factory=dict, description="tag rules as above")
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=S3_MAX_LIFECYCLE_DAYS)] = (
        Field(default=90, description="old state versions are kept this long")
    )
    # API Gateway's CloudWatch role is an account setting per region: set here, once, for
    # every region an environment runs in (default: this stack's region).
    api_logging_regions: list[StackRegion] = Field(
        default_factory=list,
        description=(
            "regions (of the `aws` partition) whose API Gateway account setting points at the "
            "logging role: every region an environment runs in"
        ),
        json_schema_extra={"default_text": "`[region]`"},
    )

    @property
    def logging_regions(self) -> list[str]:
        return sorted(set(self.api_logging_regions)) or [self.region]
