"""The configuration model: every key of an environment file, its default and the rules
across keys. A rule about one value is an `Annotated` type in `rules`; a rule about several
keys is a validator of the smallest model holding them (`VpcConfig._network_rules`,
`StackConfig._zones_in_region`, ...); rules across files are in `UNIQUE_ACROSS_FILES`.
"""

from __future__ import annotations

import ast
import functools
import ipaddress
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from constructs_lib.concurrency import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    MAX_ACCOUNT_CONCURRENCY,
    reservable,
    why_reservable,
)
from constructs_lib.dependencies import dependency_file_problem
from constructs_lib.limits import (
    ALARM_MAX_EVALUATION_SECONDS,
    ALARM_MAX_METRICS,
    ALARM_MIN_PERIOD_S,
    DEPLOYMENT_GROUP_MAX_ALARMS,
    WAF_COMMON_RULE_SET,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
    WAF_RATE_WINDOWS_S,
    WAF_REGEX_MAX_LENGTH,
    alarm_window_problem,
    metric_alarms_needed,
)
from constructs_lib.names import access_log_bucket_prefix
from constructs_lib.paths import (
    MAX_API_RESOURCES,
    MAX_LISTENER_PRIORITY,
    MAX_WILDCARDS_PER_RULE,
    MIN_LISTENER_PRIORITY,
    paths_regex,
    resource_paths,
    rule_priority,
    segments,
    wildcard_count,
)
from constructs_lib.permissions import (
    IAM_ROLE_INLINE_POLICIES_MAX_CHARACTERS,
    LAMBDA_POLICY_MAX_BYTES,
    GrantedResources,
    RoutedFunction,
    estimated_policy_bytes,
    estimated_role_policy_characters,
)
from constructs_lib.storage import S3_MAX_LIFECYCLE_DAYS
from constructs_lib.zones import mixed_forms
from serverless_app.config.aws_facts import (
    ALB_MAX_LISTENER_RULES,
    ALB_MAX_TARGET_GROUPS,
    API_GATEWAY_TIMEOUT_S,
    API_MAX_BURST_LIMIT,
    API_MAX_LATENCY_MS,
    API_MAX_RATE_LIMIT,
    ARTIFACTS_BUCKET_SUFFIX,
    AWS_REGIONS,
    LAMBDA_ENVIRONMENT_MAX_BYTES,
    LAMBDA_PYTHON_RUNTIMES,
    LOG_RETENTION_DAYS,
    MAX_SECRETS_PER_FUNCTION,
    MAX_TAGS,
    NAME_PREFIX_MAX,
    RELEASE_STRATEGIES,
    RESOURCE_TAGS,
    SECRET_VARIABLE_PREFIX,
    STACK_TAGS,
    TARGET_GROUP_NAME_MAX,
    WAF_MAX_RULE_OVERRIDES,
)
from serverless_app.config.data import (
    BucketConfig,
    BucketKey,
    FunctionGrants,
    TableConfig,
    TableKey,
    bucket_prefix_problems,
    grant_statements,
    granted_variables,
    reference_problems,
    table_name_defaults,
)
from serverless_app.config.rules import (
    NO_VALUE,
    ApiName,
    ApiStageName,
    AvailabilityZone,
    AwsRegion,
    CertificateArn,
    DomainName,
    EmailAddress,
    EnvName,
    FunctionKey,
    HostedZoneId,
    HttpsUrl,
    Ipv4Cidr,
    KmsKeyArn,
    LambdaFunctionName,
    LambdaHandler,
    LambdaVariableName,
    LoadBalancerName,
    LocalPath,
    Problem,
    ProjectName,
    RoutePath,
    S3BucketName,
    S3BucketPrefix,
    SecretName,
    SnsTopicName,
    SslPolicy,
    SsmParameterName,
    StackRegion,
    StateKey,
    SubnetKey,
    TagKey,
    TagValue,
    WafGroup,
    WafName,
    did_you_mean,
    fail,
    listed,
    not_the_placeholder,
    one_of,
    partition_of,
    raise_problems,
    zone_problem,
)
from serverless_app.config.strict import StrictModel

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config"
DEFAULT_REGION = "us-east-1"


class SubnetConfig(StrictModel):
    cidr: Ipv4Cidr = Field(
        description="IPv4 CIDR /16 to /28, inside `vpc.cidr`, overlapping no other subnet",
        json_schema_extra={"type_text": "string (CIDR)"},
    )
    az: AvailabilityZone = Field(
        description=(
            "an AZ of `region`: a name from a static per-region list (`us-east-1a`...`us-east-1f`) "
            "or an AZ id (`use1-az1`: the same physical zone in every account), one form per "
            "file; `terraform plan` fails when the account has no such zone"
        )
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
                *self._one_zone_form(),
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

    def _one_zone_form(self) -> Iterator[Problem]:
        """Each subnet whose zone is written in another form than the first subnet's."""
        subnets = list(self.subnets())
        if not mixed_forms(subnet.az for _, _, subnet in subnets):
            return
        first_tier, first_key, first = subnets[0]
        for tier, key, subnet in subnets[1:]:
            if mixed_forms([first.az, subnet.az]):
                yield Problem(
                    (tier, key, "az"),
                    f"vpc.{first_tier}.{first_key}.az is written {first.az!r}: use AZ names or AZ "
                    "ids, not both (which name is which id differs per account)",
                    subnet.az,
                )

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
            keys = listed(sorted(self.public_subnets))
            yield Problem(("nat_subnet",), f"not a public subnet key ({keys})", self.nat_subnet)


class LoadBalancerConfig(StrictModel):
    name: LoadBalancerName | None = Field(
        default=None,
        description=(
            "1-30 lowercase letters, digits or hyphens, not starting or ending with a hyphen, not "
            "starting with `internal-` (each function's target group `<name>-<function key>` "
            "must fit 32; the name also prefixes the access-log bucket, `<name>-logs-`, which "
            "must pass S3's rules: no `xn--`, `sthree-`, `amzn-s3-demo-`); unique"
        ),
        json_schema_extra={"default_text": "`<project>-<env>`"},
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

    @model_validator(mode="after")
    def _access_log_bucket_name(self) -> LoadBalancerConfig:
        if not self.access_logs or self.name is None:
            return self
        prefix = access_log_bucket_prefix(self.name)
        reason = _bucket_prefix_problem(prefix)
        if reason is not None:
            message = f"its access-log bucket prefix {prefix!r} {reason}; choose another name"
            fail(("name",), message, self.name)
        return self


# The rule a derived bucket prefix must pass, like a prefix written in the file.
_S3_BUCKET_PREFIX = TypeAdapter(S3BucketPrefix)


def _bucket_prefix_problem(prefix: str) -> str | None:
    """Why S3 would refuse a bucket named `prefix` plus Terraform's suffix, or None."""
    try:
        _S3_BUCKET_PREFIX.validate_python(prefix, strict=True)
    except ValidationError as error:
        return str(error.errors()[0]["ctx"]["error"])
    return None


Architecture = Literal["x86_64", "arm64"]
# The dependency files a function may name: a pip requirements file or a uv / PEP 621 project.
DEPENDENCY_FILE_NAMES = ("requirements.txt", "uv.lock", "pyproject.toml")


class FunctionConfig(StrictModel):
    """One function (`[functions.<key>]`): its code, settings and grants. Each function has its
    own role `<name>-role`, log group, dead-letter queue and target group."""

    name: LambdaFunctionName | None = Field(
        default=None,
        description=(
            "1-59 letters, digits, `-` or `_` (the role `<name>-role` must fit IAM's 64); unique "
            "among the functions of every file"
        ),
        json_schema_extra={"default_text": "`<project>-<env>-<key>`"},
    )
    # Relative paths are relative to the project root (the folder holding main.py).
    source_dir: LocalPath = Field(
        description="an existing folder, relative to the project root, packaged as the code",
        json_schema_extra={"type_text": "string (path)"},
    )
    handler: LambdaHandler = Field(
        default="app.handler",
        description=(
            "`module.function` (dotted packages allowed), at most 128; the module file exists in "
            "`source_dir` and binds the function at top level, also inside a top-level `if`, "
            "`try` or `with` (read with `ast`, not imported)"
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
    architecture: Architecture = Field(
        default="x86_64",
        description="dependencies are installed for it; `arm64` (Graviton) costs less per GB-s",
    )
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = Field(default=256, description="")
    timeout_s: Annotated[int, Field(ge=1, le=900)] = Field(
        default=10,
        description=(
            "above 29 a warning when a route calls the function (API Gateway stops waiting at 29 s)"
        ),
    )
    # Run in the private subnets (egress through NAT / VPC endpoints only).
    in_vpc: bool = Field(
        default=True,
        description=(
            "run in the private subnets (egress through NAT and the gateway endpoints only)"
        ),
    )
    dependencies: LocalPath | None = Field(
        default=None,
        description=(
            f"an existing file named {', '.join(f'`{n}`' for n in DEPENDENCY_FILE_NAMES)}, "
            "relative to the project root: a pinned requirements file (hashes honoured) or a uv "
            "project; installed from wheels for `runtime` and `architecture`"
        ),
        json_schema_extra={
            "type_text": "string (path)",
            "default_text": "unset: the standard library and boto3 only",
        },
    )
    environment: dict[LambdaVariableName, str] = Field(
        default_factory=dict,
        description=(
            "names `[A-Za-z][A-Za-z0-9_]+` (Lambda's pattern: two characters at least), not "
            "reserved by Lambda (`AWS_*`, `_HANDLER`, "
            "`_X_AMZN_TRACE_ID`, `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`, `TZ`), not of the "
            "stack's shape (`TABLE_<KEY>_NAME`, `BUCKET_<KEY>_NAME`); all keys and values with "
            "the granted tables' and buckets' and the `SECRET_*` ones at most 4096 bytes (UTF-8)"
        ),
    )
    # Opt-in: unset, the function shares the account's unreserved pool. 0 would stop it.
    reserved_concurrency: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "0 would stop the function; with the other functions' reservations and unreserved "
            "provisioned concurrency at most `account_concurrency` minus what Lambda keeps "
            "unreserved (100, or the whole quota below 100)"
        ),
        json_schema_extra={"default_text": "unset: no reservation (opt-in)"},
    )
    # Warm execution environments on the `live` alias: paid per hour whether used or not.
    provisioned_concurrency: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "warm environments on the `live` alias (paid while idle); at most "
            "`reserved_concurrency` when that is set, else counted with the reservations against "
            "`account_concurrency`"
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
            "the customer-managed KMS key the parameters are encrypted with (key id or "
            "multi-Region `mrk-` id), in `region` and its partition; only with `secrets`"
        ),
        json_schema_extra={"default_text": "unset: the AWS-managed `alias/aws/ssm` key"},
    )
    grants: FunctionGrants = Field(default_factory=FunctionGrants)

    @property
    def source_path(self) -> Path:
        return (PROJECT_ROOT / self.source_dir).resolve()

    @property
    def dependencies_path(self) -> Path | None:
        if self.dependencies is None:
            return None
        return (PROJECT_ROOT / self.dependencies).resolve()

    @model_validator(mode="after")
    def _function_rules(self) -> FunctionConfig:
        raise_problems(
            [
                *self._provisioned_within_reserved(),
                *self._secret_problems(),
                *self._code_problems(),
                *self._dependency_problems(),
            ]
        )
        return self

    def _provisioned_within_reserved(self) -> Iterator[Problem]:
        count, reserved = self.provisioned_concurrency, self.reserved_concurrency
        if count is not None and reserved is not None and count > reserved:
            yield Problem(
                ("provisioned_concurrency",), f"at most {reserved} (reserved_concurrency)", count
            )

    def _secret_problems(self) -> Iterator[Problem]:
        if self.secrets_kms_key_arn is not None and not self.secrets:
            yield Problem(
                ("secrets_kms_key_arn",), "only used with secrets", self.secrets_kms_key_arn
            )
        for name in self.secrets:
            variable = f"{SECRET_VARIABLE_PREFIX}{name.upper()}"
            if variable in self.environment:
                yield Problem(
                    ("secrets", name), f"its variable {variable} is set in environment", name
                )

    def _code_problems(self) -> Iterator[Problem]:
        source, kind = _looked_up(self.source_dir)
        if kind != "folder":
            unusable = f"no such folder: {source}" if kind == "nothing" else kind
            yield Problem(("source_dir",), unusable, self.source_dir)
            return
        module = self.handler.rpartition(".")[0].split(".")
        candidates = (
            source.joinpath(*module).with_suffix(".py"),
            source.joinpath(*module, "__init__.py"),
        )
        found = [candidate for candidate in candidates if candidate.is_file()]
        if not found:
            expected = candidates[0].relative_to(source)
            message = f"module not found: no {expected} in {self.source_dir}"
            yield Problem(("handler",), message, self.handler)
            return
        problem = _function_problem(found[0], self.handler.rpartition(".")[2])
        if problem:
            message = f"{problem} in {found[0].relative_to(source)}"
            yield Problem(("handler",), message, self.handler)

    def _dependency_problems(self) -> Iterator[Problem]:
        if self.dependencies is None:
            return
        path, kind = _looked_up(self.dependencies)
        if path.name not in DEPENDENCY_FILE_NAMES:
            names = ", ".join(DEPENDENCY_FILE_NAMES)
            yield Problem(("dependencies",), f"must be a file named {names}", self.dependencies)
        elif kind != "file":
            unusable = f"no such file: {path}" if kind in ("nothing", "folder") else kind
            yield Problem(("dependencies",), unusable, self.dependencies)
        elif (drifting := dependency_file_problem(path)) is not None:
            yield Problem(("dependencies",), drifting, self.dependencies)


def _looked_up(text: str) -> tuple[Path, str]:
    """The path `text` names (relative ones from the project root) and what is there:
    "folder", "file", "nothing", or why it cannot be looked at (a symbolic link loop, a name
    the file system refuses)."""
    path = PROJECT_ROOT / text
    try:
        path = path.resolve()
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return path, "nothing"
    except RuntimeError:  # Path.resolve's report of a symbolic link loop
        return path, "cannot use this path: it runs into a symbolic link loop"
    except OSError as error:
        return path, f"cannot use this path: {error.strerror or error}"
    if stat.S_ISDIR(mode):
        return path, "folder"
    return path, "file" if stat.S_ISREG(mode) else "not a regular file or folder"


def _function_problem(module: Path, name: str) -> str | None:
    """Whether `module` binds `name` at top level (def, assignment or import, also inside a
    top-level `if`, `try` or `with`), read with `ast`: validation must not run the code."""
    try:
        names = _module_top_level_names(module, module.stat().st_mtime_ns)
    except (OSError, SyntaxError, ValueError) as error:
        return f"cannot read the module ({error})"
    except (RecursionError, MemoryError):
        # Python's parser gives up on expressions nested this deep; so would Lambda's import.
        return "cannot read the module: Python cannot parse it (an expression nested too deeply)"
    if name not in names:
        return f"no top-level function {name}"
    return None


@functools.lru_cache(maxsize=128)
def _module_top_level_names(module: Path, _modified_ns: int) -> frozenset[str]:
    """Parsed once per version of the file: environments usually share their handlers."""
    return frozenset(_top_level_names(ast.parse(module.read_bytes(), filename=str(module))))


def _top_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run when the module is imported: the top level and the bodies of its
    `if`, `try` and `with` blocks (`try: import x` / `except ImportError: def handler...`)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level_statements([*node.body, *node.orelse])
        elif isinstance(node, ast.Try | ast.TryStar):
            handlers = [statement for handler in node.handlers for statement in handler.body]
            yield from _top_level_statements([*node.body, *handlers, *node.orelse, *node.finalbody])
        elif isinstance(node, ast.With):
            yield from _top_level_statements(node.body)


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in _top_level_statements(tree.body):
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
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "ANY"]


class RouteConfig(StrictModel):
    """One `[[routes]]` entry: method and path on the REST API (and the load balancer) to a
    function."""

    method: HttpMethod = Field(description="`ANY`: every method on the path")
    path: RoutePath = Field(
        description=(
            '`"/"` or `/segment/...`: segments of letters, digits, `.`, `_`, `-`, or a parameter '
            "`{name}`; a greedy `{name+}` only last; no empty segment, no trailing `/`; at most "
            "128 characters (the load balancer's path pattern limit); no two routes with the "
            "same method (or `ANY`) on the same path; one parameter name per position among "
            "paths sharing the segments before it (API Gateway); at most 5 parameters with "
            "`load_balancer` (a listener rule's wildcards)"
        )
    )
    function: str = Field(description="a key of `[functions]`")
    # "NONE" makes the route public: a deliberate choice, never the default.
    authorization: ApiAuthorization = Field(
        default="AWS_IAM",
        description='`"NONE"` makes the route public: a deliberate choice, never the default',
    )
    load_balancer: bool = Field(
        default=False,
        description=(
            "also a listener rule on the load balancer, to the function's target group. The load "
            'balancer cannot check IAM signatures: only for `authorization = "NONE"` routes'
        ),
        json_schema_extra={"default_text": '`true` for `authorization = "NONE"`, else `false`'},
    )
    priority: Annotated[int, Field(ge=MIN_LISTENER_PRIORITY, le=MAX_LISTENER_PRIORITY)] | None = (
        Field(
            default=None,
            description=(
                "the load balancer rule's priority (lower is tested first), unique among the "
                "routes; set it only when the derived one collides with another route's"
            ),
            json_schema_extra={
                "default_text": "derived from method and path (docs/functions.md), stable"
            },
        )
    )

    @model_validator(mode="before")
    @classmethod
    def _public_routes_on_the_load_balancer(cls, data: Any) -> Any:
        """Public routes go on the load balancer unless told otherwise; authorized ones never
        by default (see `_no_anonymous_path`)."""
        if isinstance(data, dict) and "load_balancer" not in data:
            authorization = data.get("authorization", cls.model_fields["authorization"].default)
            return {**data, "load_balancer": authorization == "NONE"}
        return data

    @model_validator(mode="after")
    def _no_anonymous_path(self) -> RouteConfig:
        if self.load_balancer and self.authorization != "NONE":
            message = (
                f"the load balancer has no {self.authorization} authorization: the route would be "
                'public there; set load_balancer = false or authorization = "NONE"'
            )
            fail(("load_balancer",), message, self.load_balancer)
        if self.priority is not None and not self.load_balancer:
            message = "only used for a route on the load balancer (load_balancer = true)"
            fail(("priority",), message, self.priority)
        return self

    @property
    def listener_priority(self) -> int:
        """Its rule's priority on the load balancer: `priority`, else derived from the route."""
        return rule_priority(self.method, self.path, self.priority)

    @property
    def parameters(self) -> list[str]:
        """The names of the path parameters, in order (`{proxy+}` gives `proxy`)."""
        return [segment.parameter for segment in segments(self.path) if segment.parameter]


class ApiConfig(StrictModel):
    name: ApiName | None = Field(
        default=None,
        description="1-47 letters, digits, `.`, `-` or `_` (the name is part of a log group name)",
        json_schema_extra={"default_text": "`<project>-<env>`"},
    )
    stage_name: ApiStageName | None = Field(
        default=None,
        description="1-128 letters, digits, `-` or `_`",
        json_schema_extra={"default_text": "`<env>`"},
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
        json_schema_extra={
            "default_text": "`<project>-<env>-artifacts-` unless `bucket_name` is set"
        },
    )
    bucket_name: S3BucketName | None = Field(
        default=None,
        description=(
            "S3 bucket name: 3-63 lowercase letters, digits, `.` or `-`, starting and ending with "
            "a letter or digit, no `..`, not an IP address, none of the reserved prefixes above "
            "nor suffixes `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`, nor "
            "`-<account id>-<region>-an` (account regional namespace); not together with "
            "`bucket_prefix`; unique"
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
    managed_rule_groups: Annotated[list[WafGroup], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAnonymousIpList",
        ],
        description=(
            "AWS managed rule group names (vendor AWS, 1-128 letters, digits, `-`, `_`; not the "
            "ones that need a ManagedRuleGroupConfig: ATP, ACFP, Bot Control, Anti-DDoS), "
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

    rate_limit: Annotated[int, Field(ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX)] = Field(
        default=2000,
        description=(
            "WAF's limits; requests one client IP may send per `rate_limit_window_s` to the "
            "load balancer and the API together (the web ACL is shared); above it WAF answers "
            "403 until the rate drops"
        ),
    )
    rate_limit_window_s: Annotated[int, one_of(WAF_RATE_WINDOWS_S, "a WAF evaluation window")] = (
        Field(
            default=300,
            description=(
                "the window WAF counts `rate_limit` in: one of "
                f"{', '.join(map(str, WAF_RATE_WINDOWS_S))} seconds"
            ),
        )
    )
    markup_paths: list[RoutePath] = Field(
        default_factory=list,
        description=(
            "route paths that take markup in the query or the path (e.g. an HTML escaper): "
            "there AWSManagedRulesCommonRuleSet's CrossSiteScripting_QUERYARGUMENTS and "
            "_URIPATH only count, everywhere else a rule after the group blocks what they "
            "matched. Each a `routes[].path` of this file; needs "
            "AWSManagedRulesCommonRuleSet; the path pattern WAF matches (with the optional "
            f"stage prefix) at most {WAF_REGEX_MAX_LENGTH} characters"
        ),
    )

    @model_validator(mode="after")
    def _counted_groups_are_used(self) -> WafConfig:
        raise_problems(
            Problem(("count_rules", group), "not in managed_rule_groups", group)
            for group in self.count_rules
            if group not in self.managed_rule_groups
        )
        if self.markup_paths and WAF_COMMON_RULE_SET not in self.managed_rule_groups:
            message = f"scopes {WAF_COMMON_RULE_SET}'s XSS rules: add it to managed_rule_groups"
            fail(("markup_paths",), message, self.markup_paths)
        return self


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
    to one encrypted SNS topic (`topic_name`), plus a dashboard `<project>-<env>`."""

    topic_name: SnsTopicName | None = Field(
        default=None,
        description=(
            "the alarm topic; a new name replaces the topic and its confirmed subscriptions "
            "(see CHANGELOG.md before an upgrade); unique"
        ),
        json_schema_extra={"default_text": "`<project>-<env>-alarms`"},
    )
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
    ] = Field(
        default=3,
        description=(
            "`period_s` x this at most one day (CloudWatch); with a canary or linear "
            "`releases.strategy`, `period_s` x this + 60 s (metric delay) at most the time "
            "the strategy watches the alarms (its canary interval; nine linear steps)"
        ),
    )
    datapoints_to_alarm: Annotated[int, Field(ge=1)] = Field(
        default=2, description="of the evaluation periods, how many must breach (M of N)"
    )
    # Counts per period; CloudWatch sets no maximum: 1,000,000 is a sanity bound.
    function_errors: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1, description="function errors per period (sanity bound 1,000,000)"
    )
    function_throttles: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1, description="throttled invocations per period (sanity bound 1,000,000)"
    )
    duration_p99_timeout_ratio: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.8, description="p99 duration as a share of the function's `timeout_s`"
    )
    function_server_error_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.05,
        description=(
            "share of a function's own answers that are 5XX (the request metric it emits, "
            "every version); stops a release"
        ),
    )
    api_server_error_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.05,
        description="share of 5XX answers on the worst of a function's API routes; stops a release",
    )
    api_latency_p99_ms: Annotated[int, Field(ge=1, le=API_MAX_LATENCY_MS)] = Field(
        default=3000, description="API p99 latency; API Gateway gives up at 29 s"
    )
    load_balancer_server_error_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.05,
        description=(
            "share of a target group's requests that fail 5XX (function answers, crashes, "
            "timeouts, invalid responses; stops a release), and of all requests the load "
            "balancer answers 5XX itself"
        ),
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
            f"one of {', '.join(RELEASE_STRATEGIES)}; the function's rollback alarms stop a "
            "release and roll it back while the new version has part of the traffic (never "
            "with AllAtOnce)"
        ),
    )


class DomainConfig(StrictModel):
    """A custom domain for the API (and the load balancer's certificate)."""

    name: DomainName = Field(
        description=(
            "the API's host name, e.g. `api.example.com`: an ACM certificate (DNS-validated) and "
            "an A alias record are created; unless `load_balancer.certificate_arn` is set, the "
            "load balancer's HTTPS listener serves the same certificate, which also names "
            "`load_balancer_name`"
        )
    )
    hosted_zone_id: HostedZoneId = Field(
        description="the existing Route 53 public hosted zone holding `name`"
    )
    load_balancer_name: DomainName | None = Field(
        default=None,
        description=(
            "the load balancer's host name: a second name on the certificate and an A alias "
            "record to the load balancer, so HTTPS clients find a certificate that names it; "
            "in the same hosted zone, not `name`; only without "
            "`load_balancer.certificate_arn`; unique"
        ),
        json_schema_extra={"default_text": "`alb.<name>`"},
    )

    @model_validator(mode="after")
    def _load_balancer_name(self) -> DomainConfig:
        host = self.load_balancer_host
        if self.load_balancer_name is None and not _is_valid(_DOMAIN_NAME, host):
            message = "the default alb.<name> is longer than a host name may be: set one"
            fail(("load_balancer_name",), message, host)
        if host == self.name:
            fail(("load_balancer_name",), "must differ from name (the API's)", host)
        return self

    @property
    def load_balancer_host(self) -> str:
        return self.load_balancer_name or f"alb.{self.name}"


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
        description=(
            "not empty, not starting or ending with `/`, no `//`; at most 1017 bytes (S3 keys "
            "stop at 1024, the lock file adds `.tflock`); bucket + key unique"
        ),
        json_schema_extra={"default_text": "`<project>/<env>/terraform.tfstate`"},
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
    """One environment. Every key but `project`, `env`, `functions` and `routes` has a
    default, some derived from `project`, `env` and `region`."""

    project: ProjectName = Field(
        description=(
            "1-20 lowercase letters, digits or hyphens, starting with a letter, ending with a "
            "letter or digit; with `env`, the prefix `<project>-<env>` (at most "
            f"{NAME_PREFIX_MAX} characters, not starting with S3's reserved `xn--`, `sthree-`, "
            "`amzn-s3-demo-`: buckets are named after it) of every name the stack derives, so "
            "that projects and environments can share an account"
        )
    )
    env: EnvName = Field(
        description=(
            "1-20 lowercase letters, digits or hyphens, starting with a letter, ending with a "
            "letter or digit; stack name, `Env` tag and, after `project`, name prefix; unique"
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
    # The account's concurrency quota (Service Quotas: "Concurrent executions"); only used to
    # check the functions' reservations. No documented maximum: 1,000,000 is a sanity bound.
    account_concurrency: Annotated[int, Field(ge=1, le=MAX_ACCOUNT_CONCURRENCY)] = Field(
        default=DEFAULT_ACCOUNT_CONCURRENCY,
        description=(
            'the account\'s "Concurrent executions" quota in `region` (Service Quotas; new '
            "accounts get 10 or 50, where Lambda keeps all of it unreserved, so no function can "
            "reserve or provision any; no documented maximum: 1,000,000 is a sanity bound); "
            "only checks the functions' `reserved_concurrency` and `provisioned_concurrency`"
        ),
    )
    vpc: VpcConfig = Field(default_factory=VpcConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    # Before `functions`: the functions' grants are checked against them.
    tables: dict[TableKey, TableConfig] = Field(
        default_factory=dict,
        description=(
            "`[tables.<key>]` DynamoDB tables; keys as `[buckets]`, not a name the stack uses "
            "for its own resources; none is fine"
        ),
        json_schema_extra={"type_text": "table of tables"},
    )
    buckets: dict[BucketKey, BucketConfig] = Field(
        default_factory=dict,
        description=(
            "`[buckets.<key>]` S3 buckets; keys 1-20 lowercase letters, digits or `-`, starting "
            "with a letter and a letter after each hyphen; none is fine"
        ),
        json_schema_extra={"type_text": "table of tables"},
    )
    functions: Annotated[
        dict[FunctionKey, FunctionConfig], Field(min_length=1, max_length=ALB_MAX_TARGET_GROUPS)
    ] = Field(
        description=(
            "`[functions.<key>]` tables (at most: ELB's default quota of target groups per load "
            "balancer); keys 1-20 lowercase letters, digits or `-`, starting with a letter, not "
            "ending with `-`; a function a public route reaches gets the target group "
            "`<load_balancer.name>-<key>`, which must fit 32 characters"
        ),
        json_schema_extra={"type_text": "table of tables"},
    )
    routes: Annotated[list[RouteConfig], Field(min_length=1, max_length=ALB_MAX_LISTENER_RULES)] = (
        Field(
            description=(
                "`[[routes]]` entries (at most: ELB's default quota of rules per listener), named "
                "`routes[<index from 0>]` in messages; their paths need at most 300 API resources "
                "(API Gateway's default quota: one per distinct path and each path above it); "
                "each route adds a permission to its function's policy, which Lambda limits to "
                "20 KB (about 60 routes per function)"
            ),
            json_schema_extra={"type_text": "list of tables"},
        )
    )
    api: ApiConfig = Field(default_factory=ApiConfig)
    s3: S3Config = Field(default_factory=S3Config)
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
        raise_problems(_old_shape(data))
        defaults = _zone_defaults(data)
        filled = dict(data)
        # Without a valid project and env their own problems are reported; names would be noise.
        if _is_name_part(data.get("project")) and _is_name_part(data.get("env")):
            prefix = f"{data['project']}-{data['env']}"
            if len(prefix) > NAME_PREFIX_MAX:
                message = (
                    f"with env, the name prefix {prefix!r} is {len(prefix)} characters; at most "
                    f"{NAME_PREFIX_MAX}: the artifacts bucket prefix "
                    f"'<project>-<env>{ARTIFACTS_BUCKET_SUFFIX}' must fit S3's limit"
                )
                fail(("project",), message, data["project"])
            # Every derived bucket starts with the prefix: a reserved start is refused once, here.
            artifacts = f"{prefix}{ARTIFACTS_BUCKET_SUFFIX}"
            reason = _bucket_prefix_problem(artifacts)
            if reason is not None:
                message = f"with env, the artifacts bucket prefix {artifacts!r} {reason}"
                fail(("project",), message, data["project"])
            defaults |= _name_defaults(prefix, data)
            if "functions" in data:
                filled["functions"] = _function_name_defaults(prefix, data["functions"])
            if "tables" in data:
                filled["tables"] = table_name_defaults(prefix, data["tables"])
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
                Problem((tier, key, "az"), problem, subnet.az)
                for tier, key, subnet in vpc.subnets()
                if (problem := zone_problem(subnet.az, region)) is not None
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
        if not _arn_in(arn, region):
            message = f"the certificate must be in {region} (partition {partition_of(region)})"
            fail(("certificate_arn",), message, arn)
        return load_balancer

    @field_validator("functions")
    @classmethod
    def _function_rules(
        cls, functions: dict[str, FunctionConfig], info: ValidationInfo
    ) -> dict[str, FunctionConfig]:
        # Each part of info.data is absent when that key itself is invalid (reported there).
        raise_problems(
            [
                *_duplicate_function_names(functions),
                *_concurrency_problems(functions, info.data.get("account_concurrency")),
                *_secrets_keys_in_region(functions, info.data.get("region")),
                *reference_problems(
                    {key: function.grants for key, function in functions.items()},
                    info.data.get("tables"),
                    info.data.get("buckets"),
                ),
            ]
        )
        return functions

    @field_validator("buckets")
    @classmethod
    def _bucket_names(
        cls, buckets: dict[str, BucketConfig], info: ValidationInfo
    ) -> dict[str, BucketConfig]:
        project, env = info.data.get("project"), info.data.get("env")
        if project is not None and env is not None:
            raise_problems(bucket_prefix_problems(f"{project}-{env}", buckets))
        return buckets

    @field_validator("routes")
    @classmethod
    def _route_rules(cls, routes: list[RouteConfig], info: ValidationInfo) -> list[RouteConfig]:
        collisions = list(_route_collisions(routes))
        colliding = {problem.loc[0] for problem in collisions}
        raise_problems(
            [
                *_unknown_functions(routes, info.data.get("functions")),
                *collisions,
                # A route already reported for a collision would only be reported again.
                *(p for p in _sibling_parameters(routes) if p.loc[0] not in colliding),
                *_priority_collisions(routes),
                *_target_group_names(routes, info.data.get("load_balancer")),
            ]
        )
        return routes

    @field_validator("routes")
    @classmethod
    def _route_quotas(cls, routes: list[RouteConfig]) -> list[RouteConfig]:
        raise_problems([*_load_balancer_wildcards(routes), *_api_resources(routes)])
        return routes

    @model_validator(mode="after")
    def _function_policies(self) -> StackConfig:
        raise_problems([*_policy_size_problems(self), *_role_policy_problems(self)])
        return self

    @model_validator(mode="after")
    def _environment_size(self) -> StackConfig:
        message = (
            f"keys and values total more than Lambda's {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes "
            "(counting TABLE_<KEY>_NAME and BUCKET_<KEY>_NAME for the grants, which the stack "
            "adds, and SECRET_* for the secrets)"
        )
        raise_problems(
            Problem(("functions", key, "environment"), message, size)
            for key in self.functions
            if (size := environment_bytes(self, key)) > LAMBDA_ENVIRONMENT_MAX_BYTES
        )
        return self

    @model_validator(mode="after")
    def _alarms_fit_the_release(self) -> StackConfig:
        alarms = self.alarms
        problem = alarm_window_problem(
            self.releases.strategy, alarms.period_s * alarms.evaluation_periods
        )
        if problem is not None:
            message = (
                f"{problem}: the alarms could not stop a bad release; shorten the window or "
                "choose a longer releases.strategy"
            )
            fail(("alarms", "evaluation_periods"), message, alarms.evaluation_periods)
        return self

    @model_validator(mode="after")
    def _rollback_alarms_per_function(self) -> StackConfig:
        raise_problems(_rollback_alarm_problems(self))
        return self

    @model_validator(mode="after")
    def _markup_paths_are_routes(self) -> StackConfig:
        paths = self.waf.markup_paths
        routed = {route.path for route in self.routes}
        raise_problems(
            Problem(("waf", "markup_paths", index), "not a routes[].path of this file", path)
            for index, path in enumerate(paths)
            if path not in routed
        )
        regex = paths_regex(paths, self.api.stage_name)
        if paths and len(regex) > WAF_REGEX_MAX_LENGTH:
            message = (
                f"the path pattern WAF matches would be {len(regex)} characters, it allows "
                f"{WAF_REGEX_MAX_LENGTH}: fewer paths, or a {{name+}} route"
            )
            fail(("waf", "markup_paths"), message, paths)
        return self

    @model_validator(mode="after")
    def _load_balancer_name_needs_the_domains_certificate(self) -> StackConfig:
        domain = self.domain
        chosen = domain.load_balancer_name if domain is not None else None
        if chosen is not None and self.load_balancer.certificate_arn is not None:
            message = (
                "only used without load_balancer.certificate_arn: the load balancer then "
                "serves that certificate, and the names it covers are yours to point"
            )
            fail(("domain", "load_balancer_name"), message, chosen)
        return self

    @property
    def name_prefix(self) -> str:
        """`<project>-<env>`: the start of every name the stack derives."""
        return f"{self.project}-{self.env}"

    def routes_of(self, key: str) -> list[RouteConfig]:
        """The routes that call function `key`, in file order."""
        return [route for route in self.routes if route.function == key]


def target_group_name(config: StackConfig, key: str) -> str:
    """The load balancer target group of function `key` (validated to fit ELB's 32)."""
    return f"{config.load_balancer.name}-{key}"


def function_variables(config: StackConfig, key: str) -> dict[str, str]:
    """The variables the stack sets on function `key` besides its `environment`: one per
    granted table and bucket (`granted_variables`: a bucket named by Terraform has a stand-in
    of its length), then `SECRET_<NAME>` = parameter name for each of its secrets."""
    function = config.functions[key]
    return {
        **granted_variables(config.name_prefix, function.grants, config.tables, config.buckets),
        **secret_variables(function),
    }


def secret_variables(function: FunctionConfig) -> dict[str, str]:
    """`SECRET_<NAME>` = SSM parameter name, for each of the function's secrets."""
    return {
        f"{SECRET_VARIABLE_PREFIX}{name.upper()}": parameter
        for name, parameter in function.secrets.items()
    }


def environment_bytes(config: StackConfig, key: str) -> int:
    """The size Lambda counts for function `key`: every key and value in UTF-8, the stack's
    variables included."""
    variables = {**config.functions[key].environment, **function_variables(config, key)}
    return sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())


def _duplicate_function_names(functions: dict[str, FunctionConfig]) -> Iterator[Problem]:
    first_key: dict[str | None, str] = {}
    for key, function in functions.items():
        if function.name is None:  # not derived: project or env is wrong, reported there
            continue
        if function.name in first_key:
            message = f"also the name of functions.{first_key[function.name]}"
            yield Problem((key, "name"), message, function.name)
        else:
            first_key[function.name] = key


def _target_group_names(
    routes: list[RouteConfig], load_balancer: LoadBalancerConfig | None
) -> Iterator[Problem]:
    """A function a public route reaches gets a target group `<load balancer>-<key>`."""
    if load_balancer is None or load_balancer.name is None:
        return
    reported = set()
    for index, route in enumerate(routes):
        name = f"{load_balancer.name}-{route.function}"
        if route.load_balancer and len(name) > TARGET_GROUP_NAME_MAX and name not in reported:
            reported.add(name)
            yield Problem(
                (index, "function"),
                f"its target group {name!r} is {len(name)} characters, ELB allows "
                f"{TARGET_GROUP_NAME_MAX}: shorten the key or set load_balancer.name",
                route.function,
            )


def _concurrency_problems(
    functions: dict[str, FunctionConfig], account: int | None
) -> Iterator[Problem]:
    """Reserved concurrency, and provisioned concurrency outside a reservation, come out of the
    account's quota, of which Lambda keeps part unreserved (`constructs_lib.concurrency`): the
    claims of all functions together must leave it. Reported on the claim that goes over."""
    if account is None:
        return
    available = reservable(account)
    claims = [claim for key, function in functions.items() if (claim := _claim(key, function))]
    total = 0
    for key, setting, count in claims:
        total += count
        if total > available:
            together = "" if len(claims) == 1 else f" for all functions together ({total})"
            limit = f"at most {available}{together}" if available else "none possible"
            message = f"{limit}: {why_reservable(account)} (account_concurrency)"
            yield Problem((key, setting), message, count)
            return


def _claim(key: str, function: FunctionConfig) -> tuple[str, str, int] | None:
    """What the function takes from the account's quota: its reservation (which holds its
    provisioned concurrency), else its provisioned concurrency."""
    if function.reserved_concurrency is not None:
        return key, "reserved_concurrency", function.reserved_concurrency
    if function.provisioned_concurrency is not None:
        return key, "provisioned_concurrency", function.provisioned_concurrency
    return None


def _secrets_keys_in_region(
    functions: dict[str, FunctionConfig], region: str | None
) -> Iterator[Problem]:
    if region is None:
        return
    for key, function in functions.items():
        arn = function.secrets_kms_key_arn
        if arn is not None and not _arn_in(arn, region):
            message = (
                f"the key must be in {region} (partition {partition_of(region)}): SSM decrypts "
                "with a key of its region"
            )
            yield Problem((key, "secrets_kms_key_arn"), message, arn)


def _arn_in(arn: str, region: str) -> bool:
    """Whether an ARN (already of ARN shape) names something in `region` and its partition."""
    _, partition, _, arn_region, *_ = arn.split(":")
    return (partition, arn_region) == (partition_of(region), region)


def _role_policy_problems(config: StackConfig) -> Iterator[Problem]:
    """Each granted object key and secret parameter is an ARN in the function role's inline
    policies, which IAM limits to 10,240 characters per role."""
    for key, function in config.functions.items():
        statements = tuple(
            grant_statements(
                config.region, config.name_prefix, function.grants, config.tables, config.buckets
            )
        )
        granted = GrantedResources(
            region=config.region,
            statements=statements,
            parameter_names=tuple(function.secrets.values()),
        )
        size = estimated_role_policy_characters(granted)
        if size > IAM_ROLE_INLINE_POLICIES_MAX_CHARACTERS:
            message = (
                "its role's inline policies would be too long, each granted object key and "
                f"secret parameter an ARN in them; IAM allows "
                f"{IAM_ROLE_INLINE_POLICIES_MAX_CHARACTERS:,} characters per role: grant a prefix "
                "(`reports/*`) instead of many keys"
            )
            # Reported on the side that lists more: object keys or secret parameters.
            objects = sum(len(arn) for each in statements for arn in each.resources)
            larger = "grants" if objects >= sum(map(len, granted.parameter_names)) else "secrets"
            yield Problem(("functions", key, larger), message, size)


def _load_balancer_wildcards(routes: list[RouteConfig]) -> Iterator[Problem]:
    for index, route in enumerate(routes):
        count = wildcard_count(route.path)
        if route.load_balancer and count > MAX_WILDCARDS_PER_RULE:
            message = (
                f"{count} path parameters, each a wildcard of the load balancer rule, which allows "
                f"{MAX_WILDCARDS_PER_RULE}: use fewer or set load_balancer = false"
            )
            yield Problem((index, "path"), message, route.path)


def _api_resources(routes: list[RouteConfig]) -> Iterator[Problem]:
    """API Gateway's default quota of resources (distinct paths) per API."""
    for index in range(len(routes)):
        needed = len(resource_paths([route.path for route in routes[: index + 1]]))
        if needed > MAX_API_RESOURCES:
            message = (
                f"the routes up to this one need {needed} API resources (one per distinct path "
                f"and each path above it); API Gateway allows {MAX_API_RESOURCES} per API: let "
                "routes share path prefixes"
            )
            yield Problem((index, "path"), message, routes[index].path)
            return


def _policy_size_problems(config: StackConfig) -> Iterator[Problem]:
    """Each route adds a permission to its function's resource-based policy, which Lambda
    limits to 20 KB."""
    for key, function in config.functions.items():
        routes = config.routes_of(key)
        routed = RoutedFunction(
            function_name=function.name or key,
            region=config.region,
            routes=tuple((route.method, route.path) for route in routes),
            target_group_name=(
                target_group_name(config, key)
                if any(route.load_balancer for route in routes)
                else None
            ),
        )
        size = estimated_policy_bytes(routed)
        if size > LAMBDA_POLICY_MAX_BYTES:
            message = (
                f"its resource-based policy would be about {size:,} bytes, one permission per "
                f"route; Lambda allows {LAMBDA_POLICY_MAX_BYTES:,}: send fewer routes to it (one "
                "greedy {proxy+} route serves many paths)"
            )
            yield Problem(("functions", key), message, len(routes))


# The alarms the stack puts in every function's deployment group besides those that read its
# routes: its errors, p99 duration and share of 5XX answers (serverless_app/stack.py).
FUNCTION_ROLLBACK_ALARMS = 3


def _rollback_alarm_count(config: StackConfig, key: str) -> int:
    """The alarms that stop a release of function `key`: its own, one per ALARM_MAX_METRICS
    of its API routes (an alarm reads one metric per route), its target group's if it has
    one."""
    routes = config.routes_of(key)
    on_load_balancer = any(route.load_balancer for route in routes)
    return FUNCTION_ROLLBACK_ALARMS + metric_alarms_needed(len(routes)) + on_load_balancer


def _rollback_alarm_problems(config: StackConfig) -> Iterator[Problem]:
    for key in config.functions:
        count = _rollback_alarm_count(config, key)
        if count > DEPLOYMENT_GROUP_MAX_ALARMS:
            message = (
                f"its releases would stop on {count} alarms, CodeDeploy takes "
                f"{DEPLOYMENT_GROUP_MAX_ALARMS}: {FUNCTION_ROLLBACK_ALARMS} of its own, one per "
                f"{ALARM_MAX_METRICS} of its API routes (CloudWatch reads {ALARM_MAX_METRICS} "
                "metrics per alarm) and its target group's; send fewer routes to it (one greedy "
                "{proxy+} route serves many paths)"
            )
            yield Problem(("functions", key), message, len(config.routes_of(key)))


def _unknown_functions(
    routes: list[RouteConfig], functions: dict[str, FunctionConfig] | None
) -> Iterator[Problem]:
    if functions is None:
        return
    for index, route in enumerate(routes):
        if route.function not in functions:
            known = listed(functions)
            message = f"not a key of [functions] ({known}){did_you_mean(route.function, functions)}"
            yield Problem((index, "function"), message, route.function)


def _route_shape(path: str) -> tuple[str, ...]:
    """The path with every parameter alike: the routes API Gateway cannot tell apart."""
    return tuple(
        ("{+}" if segment.greedy else "{}") if segment.parameter else segment.text
        for segment in segments(path)
    )


def _route_collisions(routes: list[RouteConfig]) -> Iterator[Problem]:
    """Two routes for the same request: the same method (or ANY) on the same path."""
    earlier: dict[tuple[str, ...], list[tuple[int, RouteConfig]]] = {}
    for index, route in enumerate(routes):
        shape = _route_shape(route.path)
        for other_index, other in earlier.get(shape, []):
            if "ANY" in (route.method, other.method) or route.method == other.method:
                message = (
                    f"{route.method} {route.path} collides with routes[{other_index}] "
                    f"({other.method} {other.path})"
                )
                yield Problem((index, "path"), message, route.path)
                break
        earlier.setdefault(shape, []).append((index, route))


def _priority_collisions(routes: list[RouteConfig]) -> Iterator[Problem]:
    """Two listener rules with one priority: ELB refuses the second."""
    holder: dict[int, int] = {}
    for index, route in enumerate(routes):
        if not route.load_balancer:
            continue
        priority = route.listener_priority
        if priority in holder:
            other = routes[holder[priority]]
            message = (
                f"listener priority {priority} is also that of routes[{holder[priority]}] "
                f"({other.method} {other.path}): set priority = "
                f"{_free_priority(route, set(holder) | _given_priorities(routes))} on this route "
                "(unused, next to it in the load balancer's order)"
            )
            given = NO_VALUE if route.priority is None else route.priority
            yield Problem((index, "priority"), message, given)
        else:
            holder[priority] = index


def _given_priorities(routes: list[RouteConfig]) -> set[int]:
    return {route.priority for route in routes if route.priority is not None}


def _free_priority(route: RouteConfig, taken: set[int]) -> int:
    """The first priority after the route's own that no route holds: next to it in the load
    balancer's order."""
    start = route.listener_priority
    candidates = [*range(start, MAX_LISTENER_PRIORITY + 1), *range(MIN_LISTENER_PRIORITY, start)]
    free: int = next(priority for priority in candidates if priority not in taken)
    return free


def _sibling_parameters(routes: list[RouteConfig]) -> Iterator[Problem]:
    """API Gateway allows one parameter segment below a path (`/a/{id}` and `/a/{name}` cannot
    both exist): paths sharing the segments before a parameter must name it alike."""
    first: dict[tuple[str, ...], tuple[int, str]] = {}
    for index, route in enumerate(routes):
        parsed = segments(route.path)
        texts = [segment.text for segment in parsed]
        for position, segment in enumerate(parsed):
            if segment.parameter is None:
                continue
            parent = tuple(texts[:position])
            other_index, other = first.setdefault(parent, (index, segment.text))
            if other != segment.text:
                under = "/" + "/".join(parent)
                message = (
                    f"{segment.text} where routes[{other_index}] has {other} under {under}: API "
                    "Gateway allows one parameter segment per path; use the same name"
                )
                yield Problem((index, "path"), message, route.path)
                break


def _is_section(default_factory: object) -> bool:
    """True for the fields holding a table of keys: vpc, api, s3, ..."""
    return isinstance(default_factory, type) and issubclass(default_factory, StrictModel)


_NAME_PART = TypeAdapter(EnvName)
_DOMAIN_NAME = TypeAdapter(DomainName)


def _is_name_part(value: Any) -> bool:
    """A valid `env` or `project` (one rule for both)."""
    return _is_valid(_NAME_PART, value)


def _is_valid(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value, strict=True)
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


# Keys of earlier versions (the single-function shape, a count that became a share), and what
# replaced them.
ADD_A_FUNCTION = '(see README "Add a function")'
OLD_KEYS = {
    ("lambda",): f"replaced by [functions.<name>] tables and [[routes]] {ADD_A_FUNCTION}",
    ("api", "path_part"): f'replaced by path = "/..." in each [[routes]] entry {ADD_A_FUNCTION}',
    ("api", "authorization"): (
        f"replaced by authorization in each [[routes]] entry {ADD_A_FUNCTION}"
    ),
    ("dynamodb",): (
        "replaced by [tables.<key>] with its own key schema; the table this section configured "
        "is [tables.requests] (CHANGELOG)"
    ),
    ("alarms", "load_balancer_target_5xx"): (
        "replaced by alarms.load_balancer_server_error_rate, a share of requests (0-1) "
        "rather than a count"
    ),
}


def _old_shape(data: dict[str, Any]) -> Iterator[Problem]:
    """One problem per key of an earlier version: the rest of such a file would only repeat
    what is missing (for the single-function shape, the functions and routes)."""
    for loc, message in OLD_KEYS.items():
        table: Any = data
        for key in loc[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and loc[-1] in table:
            yield Problem(loc, message)


_FUNCTION_KEY = TypeAdapter(FunctionKey)


def _function_name_defaults(prefix: str, functions: Any) -> Any:
    """`<project>-<env>-<key>` for every function whose table leaves out its name (and has a
    valid key: a name made of a bad key would only repeat the key's problem)."""
    if not isinstance(functions, dict):
        return functions
    return {
        key: (
            {"name": f"{prefix}-{key}", **function}
            if isinstance(function, dict) and _is_valid(_FUNCTION_KEY, key)
            else function
        )
        for key, function in functions.items()
    }


def _name_defaults(prefix: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per section, the names a file leaves out, all starting with `<project>-<env>`
    (documented in the generated reference)."""
    env = data["env"]
    defaults: dict[str, dict[str, Any]] = {
        "load_balancer": {"name": prefix},
        "api": {"name": prefix, "stage_name": env},
        "alarms": {"topic_name": f"{prefix}-alarms"},
    }
    s3 = data.get("s3", {})
    if isinstance(s3, dict) and "bucket_name" not in s3:
        defaults["s3"] = {"bucket_prefix": f"{prefix}{ARTIFACTS_BUCKET_SUFFIX}"}
    backend = data.get("backend", {})
    if isinstance(backend, dict) and backend.get("type") == "s3":
        defaults["backend"] = {"key": f"{data['project']}/{env}/terraform.tfstate"}
        region = _known_region(data)
        if region:
            defaults["backend"]["region"] = region
    return defaults


def warnings_of(config: StackConfig) -> Iterator[Problem]:
    """Allowed but probably unintended: reported on stderr, the run goes on."""
    for key, function in config.functions.items():
        if function.timeout_s > API_GATEWAY_TIMEOUT_S and config.routes_of(key):
            yield Problem(
                ("functions", key, "timeout_s"),
                f"API Gateway stops waiting after {API_GATEWAY_TIMEOUT_S} s: callers get a 504 "
                "while the function keeps running",
                function.timeout_s,
            )


# Names two environments may not share: stacks are named after env, and the rest are unique
# per account and region (bucket names worldwide), so a second environment would fail to
# create them or, worse, adopt the first one's. Same prefix: the buckets could not be told apart.
# Per kind of name: the names a file uses, each with its key path.
UniqueNames = Callable[[StackConfig], list[tuple[str, object]]]
UNIQUE_ACROSS_FILES: tuple[tuple[str, UniqueNames], ...] = (
    ("env", lambda config: [("env", config.env)]),
    # Every derived name starts with it (KMS alias, web ACL, CodeDeploy application, roles, ...).
    ("name prefix", lambda config: [("project", config.name_prefix)]),
    # The API's alarms and access-log group are named after it.
    ("API name", lambda config: [("api.name", config.api.name)]),
    ("alarm topic", lambda config: [("alarms.topic_name", config.alarms.topic_name)]),
    # The API's and the load balancer's host names: one record each in a hosted zone.
    (
        "custom domain",
        lambda config: [
            ("domain.name", config.domain.name if config.domain else None),
            (
                "domain.load_balancer_name",
                config.domain.load_balancer_host
                if config.domain and config.load_balancer.certificate_arn is None
                else None,
            ),
        ],
    ),
    (
        "function name",
        lambda config: [
            (f"functions.{key}.name", function.name) for key, function in config.functions.items()
        ],
    ),
    (
        "table name",
        lambda config: [(f"tables.{key}.name", table.name) for key, table in config.tables.items()],
    ),
    (
        "bucket name",
        lambda config: [
            (f"buckets.{key}.name", bucket.name) for key, bucket in config.buckets.items()
        ],
    ),
    ("bucket name", lambda config: [("s3.bucket_name", config.s3.bucket_name)]),
    ("bucket prefix", lambda config: [("s3.bucket_prefix", config.s3.bucket_prefix)]),
    ("load balancer name", lambda config: [("load_balancer.name", config.load_balancer.name)]),
    # Two environments writing one state object would overwrite each other's state.
    (
        "state object",
        lambda config: [
            (
                "backend.key",
                f"s3://{config.backend.bucket}/{config.backend.key}"
                if config.backend.type == "s3"
                else None,
            )
        ],
    ),
)


Model = TypeVar("Model", bound=StrictModel)


class BootstrapRegions(StrictModel):
    """What environments need of the bootstrap file: the regions whose API Gateway logging role
    it sets. Other keys are read (and checked) by `BootstrapConfig` only."""

    model_config = ConfigDict(extra="ignore")

    region: StackRegion = Field(
        default=DEFAULT_REGION, description="a region of the `aws` partition"
    )
    # API Gateway's CloudWatch role is an account setting per region: set here, once, for
    # every region an environment runs in (default: this stack's region).
    api_logging_regions: list[StackRegion] = Field(
        default_factory=list,
        description=(
            "regions (of the `aws` partition) whose API Gateway account setting points at the "
            "logging role: every region an environment runs in (`make check` compares, when "
            "this file is next to the environment files)"
        ),
        json_schema_extra={"default_text": "`[region]`"},
    )

    @property
    def logging_regions(self) -> list[str]:
        return sorted(set(self.api_logging_regions)) or [self.region]


class BootstrapConfig(BootstrapRegions):
    """The `bootstrap` stack: the S3 bucket for remote state (`python main.py --bootstrap`)."""

    model_config = ConfigDict(extra="forbid")

    bucket_name: Annotated[S3BucketName, AfterValidator(not_the_placeholder)] = Field(
        description=(
            "the state bucket; S3 bucket name rules (globally unique); the shipped placeholder "
            "`example-org-terraform-state` is refused (exit 2)"
        )
    )
    tags: dict[TagKey, TagValue] = Field(default_factory=dict, description="tag rules as above")
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=S3_MAX_LIFECYCLE_DAYS)] = (
        Field(default=90, description="old state versions are kept this long")
    )
    # A region's setting names one role for every API there: replacing a role another team
    # set moves all of their logging to this stack's role. Refused at plan time unless asked.
    api_logging_take_over: bool = Field(
        default=False,
        description=(
            "replace a CloudWatch role set outside this stack in `api_logging_regions`; without "
            "it, `terraform plan` fails in such a region and names the role"
        ),
    )
