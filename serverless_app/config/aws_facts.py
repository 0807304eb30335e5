"""AWS facts the configuration rules rely on.

Static on purpose: `--check` must neither call AWS nor load botocore. Re-check them when AWS
changes; the dates say when they were last checked.
"""

from __future__ import annotations

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
# Reserved keys Lambda sets itself and refuses in a function's configuration ("Defined runtime
# environment variables", 2026-11-28). Every AWS_* key is treated as reserved: it covers
# AWS_REGION, AWS_LAMBDA_*, the credentials and the ones AWS adds later.
LAMBDA_RESERVED_PREFIX = "AWS_"
LAMBDA_RESERVED_VARIABLES = frozenset(
    {"_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"}
)
# Lambda's pattern for an environment variable name (API_Environment.html, "Key Pattern"):
# a letter and at least one more character.
LAMBDA_VARIABLE_NAME_PATTERN = r"[a-zA-Z]([a-zA-Z0-9_])+"
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096),
    *(1827, 2192, 2557, 2922, 3288, 3653),
)
# AWS allows 50 tags per resource. The stack tags every resource with Env (provider
# default_tags) and the network resources with Name and Tier.
MAX_TAGS = 50
STACK_TAGS = frozenset({"Env"})
RESOURCE_TAGS = frozenset({"Name", "Tier"})
S3_BUCKET_NAME_MAX = 63
# Terraform's `bucket_prefix` appends a 26-character unique suffix to the prefix.
TERRAFORM_BUCKET_SUFFIX_LENGTH = 26
# General purpose bucket naming rules, checked 2026-12-06 (docs.aws.amazon.com/AmazonS3/
# latest/userguide/bucketnamingrules.html): reserved prefixes (`sthree-configurator` is
# covered by `sthree-`) and suffixes (access point aliases, Object Lambda, Multi-Region Access
# Points, directory buckets, table buckets). Names of the account regional namespace
# (March 2026, gpbucketnamespaces.html) end `-<12-digit account>-<region>-an`; the stack
# creates its buckets in the global namespace, where S3 refuses that shape.
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
S3_ACCOUNT_REGIONAL_SUFFIX = r"-\d{12}-[a-z]{2}(?:-[a-z]+)+-\d-an"
# S3 object keys are at most 1,024 bytes of UTF-8 (userguide/object-keys.html). Terraform's
# S3 backend with `use_lockfile` writes its lock next to the state as `<key>.tflock`.
S3_OBJECT_KEY_MAX_BYTES = 1024
TERRAFORM_LOCK_FILE_SUFFIX = ".tflock"
IAM_ROLE_NAME_MAX = 64
# `<project>-<env>` prefixes every name the stack derives; the longest derived name built on it
# is the artifacts bucket's prefix, which must leave room for Terraform's suffix in S3's 63.
ARTIFACTS_BUCKET_SUFFIX = "-artifacts-"
NAME_PREFIX_MAX = S3_BUCKET_NAME_MAX - TERRAFORM_BUCKET_SUFFIX_LENGTH - len(ARTIFACTS_BUCKET_SUFFIX)
# Names the stack derives from configured names; the derived name must fit AWS's limits too.
FUNCTION_ROLE_SUFFIX = "-role"  # the function's IAM role
# Each function's load balancer target group is `<load_balancer.name>-<function key>`.
TARGET_GROUP_NAME_MAX = 32
# Application Load Balancer quotas (Service Quotas, "Elastic Load Balancing", defaults,
# 2026-11-28): target groups per load balancer (one per function) and rules per listener, not
# counting the default rule (one per route). The path limit is `constructs_lib.paths`'.
ALB_MAX_TARGET_GROUPS = 100
ALB_MAX_LISTENER_RULES = 100
# WAF: at most 100 rule action overrides per managed rule group statement.
WAF_MAX_RULE_OVERRIDES = 100
# The managed rule groups of intelligent threat mitigation, which CreateWebACL refuses without
# their ManagedRuleGroupConfig (login or sign-up paths, inspection level, challenge settings:
# waf/latest/APIReference/API_ManagedRuleGroupConfig.html, checked 2026-12-06). The stack
# writes no such configuration, so it cannot run them.
WAF_GROUPS_NEEDING_CONFIG = frozenset(
    {
        "AWSManagedRulesACFPRuleSet",
        "AWSManagedRulesAntiDDoSRuleSet",
        "AWSManagedRulesATPRuleSet",
        "AWSManagedRulesBotControlRuleSet",
    }
)
# The shipped config/bootstrap/state.toml value; bucket names are global, so it must be changed.
PLACEHOLDER_STATE_BUCKET = "example-org-terraform-state"
# The shipped environments' `account_id`: no AWS account has it, so Terraform refuses every
# account until it is changed.
PLACEHOLDER_ACCOUNT_ID = "000000000000"
# IAM and STS names (IAM API reference: Role, CreateRole; STS API reference: AssumeRole).
# A role's path is "/" or up to 512 characters between slashes; its name 1-64 characters.
IAM_ROLE_ARN_PATTERN = r"arn:aws:iam::\d{12}:role/(?:[!-~]{0,510}/)?[A-Za-z0-9_+=,.@-]{1,64}"
IAM_PRINCIPAL_ARN_PATTERN = (
    r"arn:aws:iam::\d{12}:(?:root|(?:user|role)/(?:[!-~]{0,510}/)?[A-Za-z0-9_+=,.@-]{1,64})"
)
# GitHub: an owner (user or organization) has 1-39 letters, digits or single inner hyphens; a
# repository name 1-100 letters, digits, `.`, `_` or `-`.
GITHUB_REPOSITORY_PATTERN = (
    r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}"
)
# git check-ref-format, simplified to what a branch in a token's `sub` claim can hold.
GITHUB_BRANCH_PATTERN = (
    r"(?!/|.*(?:\.\.|//|@\{|/\.|\.lock(?:/|$)))[^\x00-\x20~^:?*\[\\\x7f]{1,255}(?<![/.])"
)
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_PROVIDER_ARN_PATTERN = (
    r"arn:aws:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com"
)
IAM_ROLE_SESSION_NAME_PATTERN = r"[A-Za-z0-9_+=,.@-]{2,64}"
IAM_EXTERNAL_ID_PATTERN = r"[A-Za-z0-9_+=,.@:/-]{2,1224}"

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
# Lambda: all environment variables of a function together, keys and values, in bytes.
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096
