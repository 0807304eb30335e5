"""Rules about one value, as `Annotated` types (how rules about several keys report: `problems`).

Each value rule raises ValueError with a message that completes "key.path: ...".
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from constructs_lib.cors import CORS_POLICY_VARIABLE
from constructs_lib.limits import (
    API_NAME_MAX,
    EMAIL_ADDRESS_PATTERN,
    EMAIL_ADDRESS_REQUIREMENT,
    HTTPS_URL_PATTERN,
    HTTPS_URL_REQUIREMENT,
    SECRET_NAME_PATTERN,
    ssm_parameter_name_problem,
)
from constructs_lib.paths import path_problem
from constructs_lib.storage import S3_MAX_LIFECYCLE_DAYS
from constructs_lib.zones import ZONE_ID, ZONE_NAME, is_zone_id, zone_id_region_problem
from serverless_app.config.aws_facts import (
    ALB_SSL_POLICIES,
    AVAILABILITY_ZONE_LETTERS,
    AWS_REGIONS,
    FUNCTION_ROLE_SUFFIX,
    IAM_ROLE_NAME_MAX,
    LAMBDA_RESERVED_PREFIX,
    LAMBDA_RESERVED_VARIABLES,
    LAMBDA_VARIABLE_NAME_PATTERN,
    PLACEHOLDER_STATE_BUCKET,
    S3_ACCOUNT_REGIONAL_SUFFIX,
    S3_OBJECT_KEY_MAX_BYTES,
    S3_RESERVED_PREFIXES,
    S3_RESERVED_SUFFIXES,
    STACK_TAGS,
    TARGET_GROUP_NAME_MAX,
    TERRAFORM_BUCKET_SUFFIX_LENGTH,
    TERRAFORM_LOCK_FILE_SUFFIX,
    UNSUPPORTED_REGION_PREFIXES,
    WAF_GROUPS_NEEDING_CONFIG,
)
from serverless_app.config.variables import GRANTED_VARIABLE


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def listed(items: Iterable[str], shown: int = 10) -> str:
    """`a, b, c`, or the first `shown` items and how many more: a message stays short."""
    every = list(items)
    rest = len(every) - shown
    return ", ".join(every[:shown]) + (f", ... ({rest} more)" if rest > 0 else "")


def pattern(regex: str, requirement: str) -> AfterValidator:
    """The whole string must match `regex`; `requirement` says the same in words."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"must be {requirement}")
        return value

    return AfterValidator(check)


def checked_by(problem_of: Callable[[str], str | None]) -> AfterValidator:
    """The string must have no problem by `problem_of`, the rule a construct module states
    once (it returns the problem in words, or None)."""

    def check(value: str) -> str:
        if (problem := problem_of(value)) is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def one_of(choices: Sequence[Any], what: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if value not in choices:
            listed = ", ".join(str(choice) for choice in choices)
            raise ValueError(f"not {what}: one of {listed}")
        return value

    return AfterValidator(check)


def _aws_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"not an AWS region{did_you_mean(value, AWS_REGIONS)}")
    return value


def _supported_partition(value: str) -> str:
    for prefix, partition in UNSUPPORTED_REGION_PREFIXES.items():
        if value.startswith(prefix):
            raise ValueError(
                f"the {partition} partition is not supported (service principals and WAF "
                "managed rules differ there); use a region of the aws partition"
            )
    return value


def not_the_placeholder(value: str) -> str:
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
    if re.search(f"{S3_ACCOUNT_REGIONAL_SUFFIX}$", value):
        raise ValueError(
            "must not end with -<account id>-<region>-an: S3 keeps that shape for buckets "
            "of an account regional namespace"
        )
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
    if GRANTED_VARIABLE.fullmatch(value):
        raise ValueError(
            "variable name has the shape of the stack's TABLE_<KEY>_NAME, BUCKET_<KEY>_NAME, "
            "QUEUE_<KEY>_URL and TOPIC_<KEY>_ARN, "
            "set for what the function is granted"
        )
    if value == CORS_POLICY_VARIABLE:
        raise ValueError("variable name is the stack's: it holds the API's CORS policy")
    if re.fullmatch(LAMBDA_VARIABLE_NAME_PATTERN, value) is None:
        raise ValueError(
            "variable name must be a letter followed by one or more letters, digits or _ "
            f"(Lambda's pattern {LAMBDA_VARIABLE_NAME_PATTERN})"
        )
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
            f"{did_you_mean(value, ALB_SSL_POLICIES)}"
        )
    return value


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn_in(arn: str, region: str) -> bool:
    """Whether an ARN (already of ARN shape) names something in `region` and its partition."""
    _, partition, _, arn_region, *_ = arn.split(":")
    return (partition, arn_region) == (partition_of(region), region)


def zones_of(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in AVAILABILITY_ZONE_LETTERS.get(region, "")]


def zone_problem(zone: str, region: str) -> str | None:
    """Why `zone` (an AZ name or id) cannot be a zone of `region`, as far as a static list
    knows; whether the account has it is checked at plan time."""
    if is_zone_id(zone):
        return zone_id_region_problem(zone, region)
    if zone not in zones_of(region):
        return f"not an availability zone of {region} ({', '.join(zones_of(region))})"
    return None


# The state object's key leaves room for the lock file Terraform writes beside it.
STATE_KEY_MAX_BYTES = S3_OBJECT_KEY_MAX_BYTES - len(TERRAFORM_LOCK_FILE_SUFFIX)


def _state_key(value: str) -> str:
    if not value or value.startswith("/") or value.endswith("/") or "//" in value:
        raise ValueError(
            'must be a non-empty object key, not starting or ending with "/" nor containing "//"'
        )
    if len(value.encode()) > STATE_KEY_MAX_BYTES:
        raise ValueError(
            f"must be at most {STATE_KEY_MAX_BYTES} bytes (UTF-8): S3 keys stop at "
            f"{S3_OBJECT_KEY_MAX_BYTES} and Terraform's lock file adds {TERRAFORM_LOCK_FILE_SUFFIX}"
        )
    return value


# `env` and `project` together prefix every name the stack derives: `<project>-<env>-...`.
NAME_PART = r"[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?"
NAME_PART_RULE = (
    "1-20 lowercase letters, digits or hyphens, starting with a letter and ending with a "
    "letter or digit (it prefixes every resource name)"
)
EnvName = Annotated[str, pattern(NAME_PART, NAME_PART_RULE)]
ProjectName = Annotated[str, pattern(NAME_PART, NAME_PART_RULE)]
# A key of [functions]: it names the function (`<env>-<key>`) and its target group.
FunctionKey = Annotated[
    str,
    pattern(
        r"[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?",
        "1-20 lowercase letters, digits or hyphens, starting with a letter and not ending with a "
        "hyphen (it names the function and its target group)",
    ),
]
AwsRegion = Annotated[str, AfterValidator(_aws_region)]
# A region the stacks deploy to (the state bucket may live anywhere: plain AwsRegion).
StackRegion = Annotated[str, AfterValidator(_aws_region), AfterValidator(_supported_partition)]
Ipv4Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
SubnetKey = Annotated[
    str,
    pattern(r"[a-z0-9]{1,16}", "1-16 lowercase letters or digits (it names resources and tags)"),
]
AvailabilityZone = Annotated[
    str,
    pattern(
        f"{ZONE_NAME.pattern}|{ZONE_ID.pattern}",
        "an AZ name like us-east-1a or an AZ id like use1-az1",
    ),
]
S3BucketName = Annotated[str, AfterValidator(_s3_bucket_name)]
S3BucketPrefix = Annotated[str, AfterValidator(_s3_bucket_prefix)]
# Days after which an S3 lifecycle rule acts: every bucket and the state bucket alike.
LifecycleDays = Annotated[int, Field(ge=1, le=S3_MAX_LIFECYCLE_DAYS)]
LambdaFunctionName = Annotated[
    str,
    pattern(
        rf"[A-Za-z0-9_-]{{1,{IAM_ROLE_NAME_MAX - len(FUNCTION_ROLE_SUFFIX)}}}",
        f"1-{IAM_ROLE_NAME_MAX - len(FUNCTION_ROLE_SUFFIX)} letters, digits, hyphens or "
        f"underscores (its IAM role '<name>{FUNCTION_ROLE_SUFFIX}' must fit IAM's "
        f"{IAM_ROLE_NAME_MAX})",
    ),
]
LambdaHandler = Annotated[
    str,
    pattern(
        r"(?=.{1,128}$)[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+",
        "module.function, e.g. app.handler (at most 128 characters)",
    ),
]
LambdaVariableName = Annotated[str, AfterValidator(_lambda_variable_name)]
DynamoDbTableName = Annotated[
    str, pattern(r"[A-Za-z0-9_.-]{3,255}", "3-255 letters, digits, dots, hyphens or underscores")
]
# The shortest target group name is `<name>-<one-letter function key>`.
LOAD_BALANCER_NAME_MAX = TARGET_GROUP_NAME_MAX - 2
LoadBalancerName = Annotated[
    str,
    pattern(
        rf"(?!internal-)[a-z0-9](?:[a-z0-9-]{{0,{LOAD_BALANCER_NAME_MAX - 2}}}[a-z0-9])?",
        f"1-{LOAD_BALANCER_NAME_MAX} lowercase letters, digits or hyphens, not starting or "
        "ending with a hyphen nor starting with 'internal-' (each function's target group "
        f"'<name>-<function key>' must fit {TARGET_GROUP_NAME_MAX}; it also prefixes the "
        "access-log bucket)",
    ),
]
CertificateArn = Annotated[
    str,
    pattern(
        r"arn:aws(?:-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
        "an ACM certificate ARN, arn:aws:acm:REGION:ACCOUNT:certificate/ID",
    ),
]
SslPolicy = Annotated[str, AfterValidator(_ssl_policy)]
ApiName = Annotated[
    str,
    pattern(
        rf"[A-Za-z0-9._-]{{1,{API_NAME_MAX}}}",
        f"1-{API_NAME_MAX} letters, digits, dots, hyphens or underscores (its log group name "
        "allows no other characters; its latency alarm's name must fit CloudWatch's 255)",
    ),
]
SnsTopicName = Annotated[
    str, pattern(r"[A-Za-z0-9_-]{1,256}", "1-256 letters, digits, hyphens or underscores")
]
ApiStageName = Annotated[
    str, pattern(r"[A-Za-z0-9_-]{1,128}", "1-128 letters, digits, hyphens or underscores")
]
TagKey = Annotated[str, AfterValidator(_tag_key), AfterValidator(_not_a_stack_tag)]
TagValue = Annotated[str, AfterValidator(_tag_value)]
StateKey = Annotated[str, AfterValidator(_state_key)]
# A key id is a UUID, or `mrk-` and 32 hex digits for a multi-Region key.
KmsKeyArn = Annotated[
    str,
    pattern(
        r"arn:aws(?:-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})",
        "a KMS key ARN, arn:aws:kms:REGION:ACCOUNT:key/ID (ID a key id or a multi-Region "
        "mrk-... id; not an alias)",
    ),
]
EmailAddress = Annotated[str, pattern(EMAIL_ADDRESS_PATTERN, EMAIL_ADDRESS_REQUIREMENT)]
HttpsUrl = Annotated[str, pattern(HTTPS_URL_PATTERN, HTTPS_URL_REQUIREMENT)]
# The function reads `SECRET_<NAME>`: lower_snake_case, as the handler asks for it.
SecretName = Annotated[
    str,
    pattern(SECRET_NAME_PATTERN, "1-64 lowercase letters, digits or _, starting with a letter"),
]


SsmParameterName = Annotated[str, checked_by(ssm_parameter_name_problem)]
# RFC 1035 host names as ACM and Route 53 take them, lowercase, no wildcard.
DomainName = Annotated[
    str,
    pattern(
        r"(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}",
        "a lowercase host name like api.example.com (labels of 1-63, at most 253 in all)",
    ),
]
HostedZoneId = Annotated[
    str, pattern(r"Z[A-Z0-9]{1,31}", "a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ")
]
WafName = Annotated[
    str, pattern(r"[A-Za-z0-9_-]{1,128}", "1-128 letters, digits, hyphens or underscores")
]


def _runs_without_config(value: str) -> str:
    if value in WAF_GROUPS_NEEDING_CONFIG:
        raise ValueError(
            "needs a ManagedRuleGroupConfig (login or sign-up paths, inspection level or "
            "challenge settings), which this stack does not write; use another group"
        )
    return value


# An AWS managed rule group the stack can run.
WafGroup = Annotated[WafName, AfterValidator(_runs_without_config)]


# Linux's NAME_MAX and PATH_MAX (bytes): no component or path of a usable file name is longer.
PATH_COMPONENT_MAX_BYTES = 255
PATH_MAX_BYTES = 4095


def _local_path(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character: no file name can")
    longest = max(len(part.encode()) for part in value.split("/"))
    if longest > PATH_COMPONENT_MAX_BYTES:
        raise ValueError(
            f"has a name of {longest:,} bytes between slashes; file systems allow "
            f"{PATH_COMPONENT_MAX_BYTES}"
        )
    if len(value.encode()) > PATH_MAX_BYTES:
        raise ValueError(f"must be at most {PATH_MAX_BYTES:,} bytes: file systems allow no more")
    return value


class LocalOnly:
    """Marks a string naming something on this machine: it never reaches Terraform."""


# A file or folder, relative to the project root.
LocalPath = Annotated[str, AfterValidator(_local_path), LocalOnly()]


def _bucket_object_pattern(value: str) -> str:
    key = value.removesuffix("*")
    if not value or len(value.encode()) > S3_OBJECT_KEY_MAX_BYTES:
        raise ValueError(
            f"must be an object key of 1-{S3_OBJECT_KEY_MAX_BYTES} bytes, or a prefix ending in *"
        )
    if "*" in key or "?" in key:
        raise ValueError("'*' only as the last character (a prefix); '?' not at all")
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError("must not contain control characters")
    return value


# "/", or "/seg/{param}/{proxy+}".
RoutePath = Annotated[str, checked_by(path_problem)]
# An object key of the artifacts bucket, or a prefix with a trailing "*" ("reports/*").
BucketObjectPattern = Annotated[str, AfterValidator(_bucket_object_pattern)]
