"""Typed configuration for one environment, read from `config/<env>.toml`, and every rule it
must satisfy before anything is synthesized.

This module must stay free of cdktf imports: `main.py --check` uses it to validate
configuration without paying for the AWS provider bindings.

Where the rules live: a rule about one value is an `Annotated` validator on that field's type
(`LambdaFunctionName`, `Ipv4Cidr`, ...); a rule about several keys is a validator of the
smallest model holding them (`VpcConfig._network_rules`, `StackConfig._zones_in_region`, ...);
rules across files are in `UNIQUE_ACROSS_FILES`. Pydantic collects every failure, so one run
reports every problem of every file, each as `FILE: key.path: what is wrong (given: VALUE)`.
"""

from __future__ import annotations

import ast
import codecs
import difflib
import ipaddress
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config"
DEFAULT_REGION = "us-east-1"

# --- AWS facts the rules rely on. Static on purpose: --check must neither call AWS nor load
# --- botocore. Re-check them when AWS changes; the dates say when they were last checked.

# Regions of the aws, aws-us-gov and aws-cn partitions, 2026-11-28 (the same list as botocore
# 1.44.8's partitions.json; tests/test_config.py compares the two).
AWS_REGIONS = frozenset(
    {
        *("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1"),
        *("mx-central-1", "sa-east-1", "sa-west-1", "af-south-1", "il-central-1"),
        *("me-central-1", "me-south-1", "me-west-1"),
        *("eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2"),
        *("eu-west-1", "eu-west-2", "eu-west-3"),
        *("ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3"),
        *("ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3"),
        *("ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7"),
        *("us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1"),
    }
)
# Partitions the stack is not built for: their service principals (logs.<region>.amazonaws.com.cn,
# ...) and managed rule groups differ from the aws partition's, and nothing here is tested there.
UNSUPPORTED_REGION_PREFIXES = {"cn-": "aws-cn", "us-gov-": "aws-us-gov"}
# Python runtimes Lambda supports, 2026-11-28 (docs.aws.amazon.com/lambda/latest/dg/
# lambda-runtimes.html): python3.10 was deprecated on 2026-10-31 and gets no security patches.
LAMBDA_PYTHON_RUNTIMES = ("python3.11", "python3.12", "python3.13", "python3.14")
# API Gateway REST integrations give up after 29 s: a longer function timeout only means the
# caller gets a 504 while the function keeps running (and billing).
API_GATEWAY_TIMEOUT_S = 29
# Reserved keys Lambda sets itself and refuses in a function's configuration ("Defined runtime
# environment variables", 2026-11-28). Every AWS_* key is treated as reserved: it covers
# AWS_REGION, AWS_LAMBDA_*, the credentials and the ones AWS adds later.
LAMBDA_RESERVED_PREFIX = "AWS_"
LAMBDA_RESERVED_VARIABLES = frozenset(
    {"_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"}
)
# Set by ServerlessStack on the function: a configured value would be silently overwritten.
STACK_VARIABLES = frozenset({"TABLE_NAME", "BUCKET_NAME", "GREETING_KEY"})
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096)
LOG_RETENTION_DAYS += (1827, 2192, 2557, 2922, 3288, 3653)
# AWS allows 50 tags per resource. The stack tags every resource with Env (provider
# default_tags) and the network resources with Name and Tier.
MAX_TAGS = 50
STACK_TAGS = frozenset({"Env"})
RESOURCE_TAGS = frozenset({"Name", "Tier"})
# Terraform's `bucket_prefix` appends a 26-character unique suffix to the prefix.
TERRAFORM_BUCKET_SUFFIX_LENGTH = 26
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
IAM_ROLE_NAME_MAX = 64
# Names the constructs derive from configured names; the derived name must fit AWS's limits too.
FUNCTION_ROLE_SUFFIX = "-role"  # lambda_function.py: the function's IAM role
API_ROLE_SUFFIX = "-apigw-cloudwatch"  # apigw.py: API Gateway's CloudWatch IAM role
TARGET_GROUP_SUFFIX = "-fn"  # load_balancer.py: target group, at most 32 characters
# Lambda keeps this many concurrent executions unreserved in every account
# (PutFunctionConcurrency fails below it); new accounts often get a quota far below 1,000.
LAMBDA_MIN_UNRESERVED_CONCURRENCY = 100
LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY = 1000
# WAF: at most 100 rule action overrides per managed rule group statement.
WAF_MAX_RULE_OVERRIDES = 100
# The shipped config/bootstrap/state.toml value; bucket names are global, so it must be changed.
PLACEHOLDER_STATE_BUCKET = "example-org-hello-terraform-state"

# Availability zone names per region, 2026-11-28 (EC2 DescribeAvailabilityZones / "Regions and
# Zones"): the letters of every zone name AWS uses in the region; an account sees a subset
# (e.g. us-west-1 has b and c in older accounts, a and b in newer ones). tests/test_config.py
# checks that every zone moto knows is listed.
AVAILABILITY_ZONE_LETTERS: dict[str, str] = {
    **dict.fromkeys(AWS_REGIONS, "abc"),
    "us-east-1": "abcdef",
    "us-west-2": "abcd",
    "ca-central-1": "abd",
    "ap-northeast-1": "abcd",
    "ap-northeast-2": "abcd",
    "cn-north-1": "abd",
}
# The security policies an Application Load Balancer HTTPS listener accepts, 2026-11-28
# (docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html);
# tests/test_config.py checks that every policy moto's elbv2 knows is listed.
ALB_SSL_POLICIES = frozenset(
    {
        *("ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
        *("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06"),
        *("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06"),
        *("ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09"),
        *("ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"),
        *("ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09"),
        *("ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09", "ELBSecurityPolicy-FS-2018-06"),
        *("ELBSecurityPolicy-FS-1-1-2019-08", "ELBSecurityPolicy-FS-1-2-2019-08"),
        *("ELBSecurityPolicy-FS-1-2-Res-2019-08", "ELBSecurityPolicy-FS-1-2-Res-2020-10"),
        *("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", "ELBSecurityPolicy-TLS-1-2-2017-01"),
        *("ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-2016-08"),
        "ELBSecurityPolicy-2015-05",
        *("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04"),
        *("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",),
        *("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",),
        *("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",),
        *("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",),
        *("ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04"),
    }
)
# Upper bounds of the numbers a file sets, 2026-11-28. Without them a huge TOML integer reaches
# the JSON as a float (1e+30) that AWS or Terraform rejects only at apply time.
# API Gateway's per-region account throttle (default quota): stage limits cannot go above it.
API_MAX_RATE_LIMIT = 10_000
API_MAX_BURST_LIMIT = 5_000
# S3 lifecycle day counts are 32-bit integers in the S3 API.
S3_MAX_LIFECYCLE_DAYS = 2**31 - 1
# Lambda: all environment variables of a function together, keys and values, in bytes.
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096
# The values the stack gives STACK_VARIABLES (stack.py); the bucket name is at most 63 long.
GREETING_KEY = "greeting.txt"
S3_BUCKET_NAME_MAX = 63


# --- Value rules: each raises ValueError with a message that completes "key.path: ...". ---


def _did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _pattern(regex: str, requirement: str) -> AfterValidator:
    """The whole string must match `regex`; `requirement` says the same in words."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"must be {requirement}")
        return value

    return AfterValidator(check)


def _one_of(choices: Sequence[Any], what: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if value not in choices:
            listed = ", ".join(str(choice) for choice in choices)
            raise ValueError(f"not {what}: one of {listed}")
        return value

    return AfterValidator(check)


def _aws_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"not an AWS region{_did_you_mean(value, AWS_REGIONS)}")
    return value


def _supported_partition(value: str) -> str:
    for prefix, partition in UNSUPPORTED_REGION_PREFIXES.items():
        if value.startswith(prefix):
            raise ValueError(
                f"the {partition} partition is not supported (service principals and WAF "
                "managed rules differ there); use a region of the aws partition"
            )
    return value


def _not_the_placeholder(value: str) -> str:
    if value == PLACEHOLDER_STATE_BUCKET:
        raise ValueError("is the shipped placeholder: set a globally unique bucket name of yours")
    return value


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as error:
        raise ValueError(f"not an IPv4 CIDR block: {error}") from None
    if str(network) != value:
        raise ValueError(f"write it in CIDR notation: {network}")
    if not 16 <= network.prefixlen <= 28:
        raise ValueError("prefix length must be /16 to /28 (AWS VPC and subnet sizes)")
    return value


def _s3_name_start(value: str) -> None:
    """The checks S3 bucket names and Terraform bucket prefixes share."""
    if re.fullmatch(r"[a-z0-9.-]+", value) is None:
        raise ValueError("may contain only lowercase letters, digits, dots and hyphens")
    if not value[0].isalnum():
        raise ValueError("must start with a lowercase letter or digit")
    if ".." in value:
        raise ValueError("must not contain two dots in a row")
    if value.startswith(S3_RESERVED_PREFIXES):
        raise ValueError(f"must not start with any of {', '.join(S3_RESERVED_PREFIXES)}")


def _s3_bucket_name(value: str) -> str:
    if not 3 <= len(value) <= 63:
        raise ValueError("must be 3-63 characters long")
    _s3_name_start(value)
    if not value[-1].isalnum():
        raise ValueError("must end with a lowercase letter or digit")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value):
        raise ValueError("must not look like an IP address")
    if value.endswith(S3_RESERVED_SUFFIXES):
        raise ValueError(f"must not end with any of {', '.join(S3_RESERVED_SUFFIXES)}")
    return value


def _s3_bucket_prefix(value: str) -> str:
    longest = 63 - TERRAFORM_BUCKET_SUFFIX_LENGTH
    if not 1 <= len(value) <= longest:
        raise ValueError(
            f"must be 1-{longest} characters long (Terraform appends a "
            f"{TERRAFORM_BUCKET_SUFFIX_LENGTH}-character suffix; bucket names stop at 63)"
        )
    _s3_name_start(value)
    return value


def _lambda_variable_name(value: str) -> str:
    if value in LAMBDA_RESERVED_VARIABLES or value.startswith(LAMBDA_RESERVED_PREFIX):
        raise ValueError(
            f"variable name is reserved by Lambda (so is every {LAMBDA_RESERVED_PREFIX}*)"
        )
    if value in STACK_VARIABLES:
        raise ValueError("variable name is set by the stack; it would be overwritten")
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", value) is None:
        raise ValueError("variable name must be a letter followed by letters, digits or _")
    return value


_TAG_CHARACTERS = r"[\w .:/=+\-@]"  # letters and digits in any script, space and + - = . _ : / @


def _tag_key(value: str) -> str:
    if re.fullmatch(f"{_TAG_CHARACTERS}{{1,128}}", value) is None:
        raise ValueError("tag key must be 1-128 letters, digits, spaces or + - = . _ : / @")
    if value.lower().startswith("aws:"):
        raise ValueError('tag key must not start with "aws:" (reserved for AWS)')
    return value


def _not_a_stack_tag(value: str) -> str:
    if value in STACK_TAGS:
        raise ValueError("tag is set by the stack on every resource (Env = env); remove it")
    return value


def _tag_value(value: str) -> str:
    if re.fullmatch(f"{_TAG_CHARACTERS}{{0,256}}", value) is None:
        raise ValueError("tag value must be 0-256 letters, digits, spaces or + - = . _ : / @")
    return value


def _ssl_policy(value: str) -> str:
    if value not in ALB_SSL_POLICIES:
        raise ValueError(
            "not a security policy of Application Load Balancers"
            f"{_did_you_mean(value, ALB_SSL_POLICIES)}"
        )
    return value


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def zones_of(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in AVAILABILITY_ZONE_LETTERS.get(region, "")]


def _state_key(value: str) -> str:
    if not value or value.startswith("/") or value.endswith("/") or "//" in value:
        raise ValueError(
            'must be a non-empty object key, not starting or ending with "/" nor containing "//"'
        )
    return value


EnvName = Annotated[
    str,
    _pattern(
        r"[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?",
        "1-20 lowercase letters, digits or hyphens, starting with a letter and ending with a "
        "letter or digit (it prefixes every resource name)",
    ),
]
AwsRegion = Annotated[str, AfterValidator(_aws_region)]
# A region the stacks deploy to (the state bucket may live anywhere: plain AwsRegion).
StackRegion = Annotated[str, AfterValidator(_aws_region), AfterValidator(_supported_partition)]
Ipv4Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
SubnetKey = Annotated[
    str,
    _pattern(r"[a-z0-9]{1,16}", "1-16 lowercase letters or digits (it names resources and tags)"),
]
AvailabilityZone = Annotated[
    str, _pattern(r"[a-z]{2}(?:-[a-z]+)+-\d[a-z]", "an AZ name like us-east-1a")
]
S3BucketName = Annotated[str, AfterValidator(_s3_bucket_name)]
S3BucketPrefix = Annotated[str, AfterValidator(_s3_bucket_prefix)]
LambdaFunctionName = Annotated[
    str,
    _pattern(
        rf"[A-Za-z0-9_-]{{1,{IAM_ROLE_NAME_MAX - len(FUNCTION_ROLE_SUFFIX)}}}",
        f"1-{IAM_ROLE_NAME_MAX - len(FUNCTION_ROLE_SUFFIX)} letters, digits, hyphens or "
        f"underscores (its IAM role '<name>{FUNCTION_ROLE_SUFFIX}' must fit IAM's "
        f"{IAM_ROLE_NAME_MAX})",
    ),
]
LambdaHandler = Annotated[
    str,
    _pattern(
        r"(?=.{1,128}$)[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+",
        "module.function, e.g. app.handler (at most 128 characters)",
    ),
]
LambdaVariableName = Annotated[str, AfterValidator(_lambda_variable_name)]
DynamoDbTableName = Annotated[
    str, _pattern(r"[A-Za-z0-9_.-]{3,255}", "3-255 letters, digits, dots, hyphens or underscores")
]
LoadBalancerName = Annotated[
    str,
    _pattern(
        rf"(?!internal-)[a-z0-9](?:[a-z0-9-]{{0,{30 - len(TARGET_GROUP_SUFFIX)}}}[a-z0-9])?",
        f"1-{32 - len(TARGET_GROUP_SUFFIX)} lowercase letters, digits or hyphens, not "
        "starting or ending with a hyphen nor starting with 'internal-' (its target group "
        f"'<name>{TARGET_GROUP_SUFFIX}' must fit 32; it also prefixes the access-log bucket)",
    ),
]
CertificateArn = Annotated[
    str,
    _pattern(
        r"arn:aws(?:-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
        "an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/ID",
    ),
]
SslPolicy = Annotated[str, AfterValidator(_ssl_policy)]
ApiName = Annotated[
    str,
    _pattern(
        rf"[A-Za-z0-9._-]{{1,{IAM_ROLE_NAME_MAX - len(API_ROLE_SUFFIX)}}}",
        f"1-{IAM_ROLE_NAME_MAX - len(API_ROLE_SUFFIX)} letters, digits, dots, hyphens or "
        f"underscores (its IAM role '<name>{API_ROLE_SUFFIX}' must fit IAM's "
        f"{IAM_ROLE_NAME_MAX}; its log group name allows no other characters)",
    ),
]
ApiStageName = Annotated[
    str, _pattern(r"[A-Za-z0-9_-]{1,128}", "1-128 letters, digits, hyphens or underscores")
]
ApiPathPart = Annotated[
    str,
    _pattern(
        r"[A-Za-z0-9._-]{1,128}",
        "one path segment of 1-128 letters, digits, dots, hyphens or underscores (no '/')",
    ),
]
TagKey = Annotated[str, AfterValidator(_tag_key), AfterValidator(_not_a_stack_tag)]
TagValue = Annotated[str, AfterValidator(_tag_value)]
StateKey = Annotated[str, AfterValidator(_state_key)]


# --- Rules across keys: validators yield Problems located below the key they validate. ---

_NO_VALUE = object()


@dataclass(frozen=True)
class Problem:
    """A broken rule at `loc`, relative to the model or field whose validator found it."""

    loc: tuple[str | int, ...]
    message: str
    given: object = _NO_VALUE


def _raise_problems(problems: Iterable[Problem]) -> None:
    """Report several located problems from one validator.

    Pydantic merges a ValidationError raised inside a validator into the outer one, prefixing
    each location with the validated key's path (supported since pydantic-core#510).
    """
    details = [
        InitErrorDetails(
            type=PydanticCustomError(
                "config_rule",
                "{message}",
                {"message": problem.message, "has_value": problem.given is not _NO_VALUE},
            ),
            loc=problem.loc,
            input=None if problem.given is _NO_VALUE else problem.given,
        )
        for problem in problems
    ]
    if details:
        raise ValidationError.from_exception_data("configuration", details)


def _fail(loc: tuple[str | int, ...], message: str, given: object = _NO_VALUE) -> None:
    _raise_problems([Problem(loc, message, given)])


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never fall back to a default silently.
    Strict types: "512" is not a number, 1 is not a boolean; inf and nan are not numbers
    (TOML has them; Terraform's JSON does not)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class SubnetConfig(StrictModel):
    cidr: Ipv4Cidr
    az: AvailabilityZone


NatStrategy = Literal["single", "one_per_az", "none"]


class VpcConfig(StrictModel):
    cidr: Ipv4Cidr = "10.0.0.0/16"
    # Left out: two subnets per tier in AZs a and b of the region (see README).
    public_subnets: dict[SubnetKey, SubnetConfig] = Field(default_factory=dict)
    private_subnets: dict[SubnetKey, SubnetConfig] = Field(default_factory=dict)
    nat_gateways: NatStrategy = "single"
    # With nat_gateways = "single": the public subnet that holds the NAT gateway.
    # Defaults to the first public subnet key in sorted order.
    nat_subnet: str | None = None
    flow_logs: bool = True

    @model_validator(mode="after")
    def _network_rules(self) -> VpcConfig:
        _raise_problems(
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
    name: LoadBalancerName | None = None
    # With a certificate: HTTPS on 443 and a redirect from 80. Without: plain HTTP on 80,
    # a documented choice for environments without a domain (see README "Security defaults").
    certificate_arn: CertificateArn | None = None
    ssl_policy: SslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    deletion_protection: bool = False
    access_logs: bool = True
    # Access logs are disposable; S3 sets no maximum, 3653 days (10 years) is a sanity bound.
    access_log_expiration_days: Annotated[int, Field(ge=1, le=3653)] = 90

    @model_validator(mode="after")
    def _policy_needs_certificate(self) -> LoadBalancerConfig:
        if "ssl_policy" in self.model_fields_set and self.certificate_arn is None:
            _fail(("ssl_policy",), "only used with certificate_arn (HTTPS)", self.ssl_policy)
        return self


class LambdaConfig(StrictModel):
    function_name: LambdaFunctionName | None = None
    handler: LambdaHandler = "app.handler"
    runtime: Annotated[
        str, _one_of(LAMBDA_PYTHON_RUNTIMES, "a supported Lambda Python runtime")
    ] = "python3.13"
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 256
    timeout_s: Annotated[int, Field(ge=1, le=900)] = 10
    # Relative paths are relative to the project root (the folder holding main.py).
    source_dir: str = "lambda"
    environment: dict[LambdaVariableName, str] = Field(default_factory=dict)
    # Run in the private subnets (egress through NAT / VPC endpoints only).
    in_vpc: bool = True
    # Opt-in: unset, the function shares the account's unreserved pool. 0 would stop it.
    reserved_concurrency: Annotated[int, Field(ge=1)] | None = None
    # The account's concurrency quota (Service Quotas: "Concurrent executions"); only used to
    # check reserved_concurrency. No documented maximum: 1,000,000 is a sanity bound.
    account_concurrency: Annotated[
        int, Field(ge=LAMBDA_MIN_UNRESERVED_CONCURRENCY, le=1_000_000)
    ] = LAMBDA_DEFAULT_ACCOUNT_CONCURRENCY

    @model_validator(mode="after")
    def _reservation_fits_account(self) -> LambdaConfig:
        available = self.account_concurrency - LAMBDA_MIN_UNRESERVED_CONCURRENCY
        if self.reserved_concurrency is not None and self.reserved_concurrency > available:
            _fail(
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
            _fail(("source_dir",), f"no such folder: {source}", self.source_dir)
        found = [candidate for candidate in candidates if candidate.is_file()]
        if not found:
            expected = candidates[0].relative_to(source)
            _fail(
                ("handler",), f"module not found: no {expected} in {self.source_dir}", self.handler
            )
        problem = _function_problem(found[0], self.handler.rpartition(".")[2])
        if problem:
            _fail(("handler",), f"{problem} in {found[0].relative_to(source)}", self.handler)
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
    name: ApiName | None = None
    path_part: ApiPathPart = "hello"
    stage_name: ApiStageName | None = None
    # "NONE" makes the API public: a deliberate choice, never the default.
    authorization: ApiAuthorization = "AWS_IAM"
    throttling_rate_limit: Annotated[float, Field(gt=0, le=API_MAX_RATE_LIMIT)] = 50
    throttling_burst_limit: Annotated[int, Field(ge=1, le=API_MAX_BURST_LIMIT)] = 100
    logging_level: ApiLoggingLevel = "ERROR"


class S3Config(StrictModel):
    bucket_prefix: S3BucketPrefix | None = None
    bucket_name: S3BucketName | None = None
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=S3_MAX_LIFECYCLE_DAYS)] = 30
    # `terraform destroy` empties the buckets (all versions) instead of failing: dev.
    force_destroy: bool = False
    # Terraform refuses any plan that destroys the artifact bucket: prod.
    prevent_destroy: bool = False

    @model_validator(mode="after")
    def _one_naming_mode(self) -> S3Config:
        if self.bucket_prefix and self.bucket_name:
            _fail(("bucket_name",), "set bucket_prefix or bucket_name, not both", self.bucket_name)
        return self

    @model_validator(mode="after")
    def _one_destroy_mode(self) -> S3Config:
        if self.force_destroy and self.prevent_destroy:
            _fail(("prevent_destroy",), "contradicts force_destroy = true; set one of them")
        return self


WafName = Annotated[
    str, _pattern(r"[A-Za-z0-9_-]{1,128}", "1-128 letters, digits, hyphens or underscores")
]


class WafConfig(StrictModel):
    # AWS managed rule groups (vendor AWS), evaluated in this order.
    managed_rule_groups: Annotated[list[WafName], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAnonymousIpList",
        ]
    )
    # Group -> rules that only count (log) instead of blocking. HostingProviderIPList blocks
    # every request from EC2, CloudShell and CI runners: counted unless configured otherwise.
    count_rules: dict[
        WafName, Annotated[list[WafName], Field(max_length=WAF_MAX_RULE_OVERRIDES)]
    ] = Field(default_factory=lambda: {"AWSManagedRulesAnonymousIpList": ["HostingProviderIPList"]})

    @model_validator(mode="after")
    def _counted_groups_are_used(self) -> WafConfig:
        _raise_problems(
            Problem(("count_rules", group), "not in managed_rule_groups", group)
            for group in self.count_rules
            if group not in self.managed_rule_groups
        )
        return self


class DynamoDbConfig(StrictModel):
    table_name: DynamoDbTableName | None = None
    deletion_protection: bool = False


class LogsConfig(StrictModel):
    # Applies to every log group the stack creates (function, API access, VPC flow logs).
    retention_days: Annotated[int, _one_of(LOG_RETENTION_DAYS, "a CloudWatch Logs retention")] = 365


BackendType = Literal["local", "s3"]
S3_BACKEND_KEYS = ("bucket", "key", "region", "use_lockfile", "encrypt")


class BackendConfig(StrictModel):
    """Where Terraform keeps state. "local": `terraform.<env>.tfstate` in the stack folder."""

    type: BackendType = "local"
    # The keys below apply to type = "s3" only.
    bucket: S3BucketName | None = None
    key: StateKey | None = None  # default: "<env>/terraform.tfstate"
    region: AwsRegion | None = None  # default: the stack's region
    use_lockfile: bool = True  # S3-native locking, Terraform >= 1.10
    encrypt: bool = True

    @model_validator(mode="after")
    def _keys_match_type(self) -> BackendConfig:
        if self.type == "s3" and not self.bucket:
            _fail(("bucket",), 'required with type = "s3"')
        if self.type == "local":
            _raise_problems(
                Problem((key,), 'only used with type = "s3"', getattr(self, key))
                for key in S3_BACKEND_KEYS
                if key in self.model_fields_set
            )
        return self


class StackConfig(StrictModel):
    """One environment. Every key but `env` has a default derived from `env` and `region`."""

    env: EnvName
    region: StackRegion = DEFAULT_REGION
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    vpc: VpcConfig = Field(default_factory=VpcConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    lambda_: LambdaConfig = Field(default_factory=LambdaConfig, alias="lambda")
    api: ApiConfig = Field(default_factory=ApiConfig)
    s3: S3Config = Field(default_factory=S3Config)
    dynamodb: DynamoDbConfig = Field(default_factory=DynamoDbConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    waf: WafConfig = Field(default_factory=WafConfig)
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
            _fail((), message, len(tags))
        return tags

    @field_validator("vpc")
    @classmethod
    def _zones_in_region(cls, vpc: VpcConfig, info: ValidationInfo) -> VpcConfig:
        region = info.data.get("region")  # absent when the region itself is invalid
        if region is not None:
            _raise_problems(
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
            _fail(("certificate_arn",), message, arn)
        return load_balancer

    @model_validator(mode="after")
    def _environment_size(self) -> StackConfig:
        size = environment_bytes(self)
        if size > LAMBDA_ENVIRONMENT_MAX_BYTES:
            added = ", ".join(sorted(STACK_VARIABLES))
            message = (
                f"keys and values total more than Lambda's {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes "
                f"(counting {added}, which the stack adds)"
            )
            _fail(("lambda", "environment"), message, size)
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


def _warnings(config: StackConfig) -> Iterator[Problem]:
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

    region: StackRegion = DEFAULT_REGION
    bucket_name: Annotated[S3BucketName, AfterValidator(_not_the_placeholder)]
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=S3_MAX_LIFECYCLE_DAYS)] = 90
    # API Gateway's CloudWatch role is an account setting per region: set here, once, for
    # every region an environment runs in (default: this stack's region).
    api_logging_regions: list[StackRegion] = Field(default_factory=list)

    @property
    def logging_regions(self) -> list[str]:
        return sorted(set(self.api_logging_regions)) or [self.region]


DEFAULT_BOOTSTRAP_CONFIG = DEFAULT_CONFIG_PATH / "bootstrap" / "state.toml"


class ConfigError(Exception):
    """A configuration problem, already formatted as `FILE: key.path: message` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def shown(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: report the path as given
        resolved = Path(os.path.abspath(path))
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def config_files(path: Path) -> list[Path]:
    """A file as given, or every `*.toml` in a folder, sorted so output order is stable."""
    try:
        is_folder = stat.S_ISDIR(path.stat().st_mode)
    except FileNotFoundError:
        raise ConfigError([f"{shown(path)}: configuration file not found"]) from None
    except OSError as error:  # e.g. a symbolic link loop
        raise ConfigError([f"{shown(path)}: cannot read: {error.strerror}"]) from None
    if not is_folder:
        return [path]
    try:
        files = sorted(entry for entry in path.iterdir() if entry.suffix == ".toml")
    except OSError as error:
        raise ConfigError([f"{shown(path)}: cannot read the folder: {error.strerror}"]) from None
    if not files:
        raise ConfigError([f"{shown(path)}: no *.toml configuration files found"])
    return files


def read_config_text(path: Path) -> str:
    """The text of a readable UTF-8 regular file; ConfigError (one line) for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then rejects it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError([f"{shown(path)}: not a regular file"])
            data = file.read()
    except OSError as error:
        raise ConfigError([f"{shown(path)}: cannot read the file: {error.strerror}"]) from None
    if data.startswith(codecs.BOM_UTF8):
        raise ConfigError(
            [
                f"{shown(path)}: starts with a byte order mark (BOM), which TOML does not "
                "allow: save it as UTF-8 without BOM"
            ]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([f"{shown(path)}: not UTF-8 text: {error}"]) from None


def load_config(path: Path, model: type[Model] = StackConfig) -> Model:
    """Parse and validate one file; raise ConfigError listing every problem in it."""
    text = read_config_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{shown(path)}: invalid TOML: {error}"]) from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ConfigError([_format_error(path, item) for item in error.errors()]) from None


def _format_error(path: Path, item: ErrorDetails) -> str:
    # Pydantic marks a problem with a dict key (tag key, variable name) by a "[key]" suffix.
    location = ".".join(str(part) for part in item["loc"] if part != "[key]") or "(top level)"
    context = item.get("ctx", {})
    has_value = True
    if item["type"] == "extra_forbidden":
        message = "unknown key"
    elif item["type"] == "missing":
        message, has_value = "required key is missing", False
    elif item["type"] == "value_error":
        message = str(context["error"])
    elif item["type"] == "config_rule":
        message, has_value = context["message"], context["has_value"]
    else:
        message = item["msg"]
    return _line(path, location, message, item["input"] if has_value else _NO_VALUE)


def _line(path: Path, location: str, message: str, given: object = _NO_VALUE) -> str:
    value = "" if given is _NO_VALUE else f" (given: {given!r})"
    return f"{shown(path)}: {location}: {message}{value}"


def config_warnings(path: Path, config: StackConfig) -> list[str]:
    return [
        _line(path, ".".join(map(str, warning.loc)), f"warning: {warning.message}", warning.given)
        for warning in _warnings(config)
    ]


def validate_configs(path: Path) -> tuple[list[tuple[Path, StackConfig]], list[str]]:
    """The files under `path` that are fine, and the problems of all the others."""
    try:
        files = config_files(path)
    except ConfigError as error:
        return [], error.problems
    problems: list[str] = []
    loaded: list[tuple[Path, StackConfig]] = []
    for file in files:
        try:
            loaded.append((file, load_config(file)))
        except ConfigError as error:
            problems.extend(error.problems)
    clashes = _clashes_between_files(loaded)
    problems.extend(line for _, line in clashes)
    clashing = {file for file, _ in clashes}
    return [(file, config) for file, config in loaded if file not in clashing], problems


def _clashes_between_files(loaded: list[tuple[Path, StackConfig]]) -> list[tuple[Path, str]]:
    """Every name a file shares with an earlier file, reported on the later file."""
    clashes: list[tuple[Path, str]] = []
    for location, value_of in UNIQUE_ACROSS_FILES:
        first_user: dict[object, Path] = {}
        for file, config in loaded:
            value = value_of(config)
            if value is None:
                continue
            if value in first_user:
                message = f"also used by {shown(first_user[value])}; environments must differ"
                clashes.append((file, _line(file, location, message, value)))
            else:
                first_user[value] = file
    return sorted(clashes, key=lambda clash: clash[0])


def load_configs(path: Path) -> list[tuple[Path, StackConfig]]:
    """Load every file under `path`, collecting the problems of all files before failing."""
    loaded, problems = validate_configs(path)
    if problems:
        raise ConfigError(problems)
    return loaded
