"""Every configuration rule, each fed a file that breaks it.

Most cases start from the shipped `config/dev.toml`, change one or a few keys and expect one
line `FILE: key.path: message (given: value)` naming the changed key. The whole file is
otherwise valid, so a case also proves the rule does not fire on good values.
"""

import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import botocore
import pytest

from constructs_lib.zones import zone_id_region_problem
from serverless_app.config import (
    ALB_SSL_POLICIES,
    AVAILABILITY_ZONE_LETTERS,
    AWS_REGIONS,
    BootstrapConfig,
    ConfigError,
    config_warnings,
    environment_bytes,
    function_variables,
    load_config,
    load_configs,
    target_group_name,
    validate_configs,
    zones_of,
)
from tests.support import CONFIG_DIR, ENVIRONMENTS, REPO_ROOT, name_prefix, synth_config
from tests.unprivileged import unprivileged


class _Delete:
    """A change that removes the key. Its repr is fixed, so test ids are the same in every
    process (pytest-xdist workers must collect identical ids; `object()`'s has an address)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()
# A partition key for the tables the cases add.
PK = {"name": "id", "type": "S"}


def toml_value(value: Any) -> str:
    """TOML for a value; tables become inline tables (enough for every config shape)."""
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # TOML spells them inf, -inf and nan, as Python prints them
    return json.dumps(value)  # strings (JSON escapes are valid TOML), integers, floats


def write(tmp_path: Path, text: str, name: str = "env.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def write_config(tmp_path: Path, data: dict[str, Any], name: str = "env.toml") -> Path:
    return write(tmp_path, "".join(f"{key} = {toml_value(v)}\n" for key, v in data.items()), name)


def dev_with(changes: dict[str, Any]) -> dict[str, Any]:
    """The shipped dev configuration with `changes` ({"dotted.key": value}) applied."""
    data = tomllib.loads((CONFIG_DIR / "dev.toml").read_text())
    for dotted, value in changes.items():
        *parents, last = [int(key) if key.isdigit() else key for key in dotted.split(".")]
        table: Any = data
        for key in parents:
            table = table[key] if isinstance(key, int) else table.setdefault(key, {})
        if value is DELETE:
            del table[last]
        else:
            table[last] = value
    return data


def new_routes(routes: list[dict]) -> dict[str, Any]:
    """Changes replacing dev's routes, and with them the escape routes its WAF lets take
    markup (waf.markup_paths must name routes of the file)."""
    return {"routes": routes, "waf.markup_paths": DELETE}


# The least a file needs besides project and env: one function and one route to it.
ONE_FUNCTION = (
    '[functions.hello]\nsource_dir = "lambda"\n\n'
    '[[routes]]\nmethod = "GET"\npath = "/hello"\nfunction = "hello"\n'
)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return error.value.problems


# Every name dev leaves out starts with this (read from the file, not from the code).
DEV_PREFIX = name_prefix(CONFIG_DIR / "dev.toml")
A_CERTIFICATE = (
    "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-1234567890ab"
)
MANY_TAGS = {f"Tag{number}": "x" for number in range(48)}
# 4000 bytes of keys and values: over 4096 only with the stack's own variables.
# 4,065 bytes: too many only with the 37 of TABLE_REQUESTS_NAME = "hello-dev-requests".
BIG_ENVIRONMENT = {"NOTES": "n" * 4060}
EU_WEST_1 = {
    "region": "eu-west-1",
    "vpc.public_subnets.a.az": "eu-west-1a",
    "vpc.public_subnets.b.az": "eu-west-1b",
}


def key_path(dotted: str) -> str:
    """`routes.0.path` as messages write it: `routes[0].path`."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", dotted)


def case(key: str, value: Any, fragment: str, reported: str = "", also: dict | None = None):
    """dev.toml with `key` set to `value` (plus `also`) must fail with one line about
    `reported` (default: `key`) whose message contains `fragment`. A case that replaces the
    routes drops the markup paths that name dev's (`new_routes`)."""
    location = key_path(reported or key)
    changes = {**(also or {}), key: value}
    if "routes" in changes:
        changes = {**new_routes(changes["routes"]), **changes}
    return pytest.param(changes, location, fragment, id=f"{location}={value!r}"[:70])


def bucket_name(value: str, fragment: str):
    """A fixed bucket name instead of the derived prefix."""
    return case("s3.bucket_name", value, fragment)


def s3_backend(key: str, value: Any, fragment: str):
    return case(key, value, fragment, also={"backend.type": "s3", "backend.bucket": "state"})


A_ROUTE = {"method": "GET", "path": "/hello", "function": "hello"}
# A route served by the load balancer too (which cannot check IAM signatures).
PUBLIC_ON_LOAD_BALANCER = {"authorization": "NONE", "load_balancer": True}


def route(method: str, path: str, function: str = "hello") -> dict[str, str]:
    return {"method": method, "path": path, "function": function}


def only_function(key: str) -> dict[str, Any]:
    """Changes that leave dev one function, `key`, and its route."""
    return {
        "functions": {key: {"source_dir": "lambda"}},
        "routes": [{**A_ROUTE, "function": key}],
    }


RULES = [
    # Alarms, releases, domain, secrets, provisioned concurrency
    case("alarms.email", ["oncall"], "an email address", "alarms.email.0"),
    case("alarms.https", ["http://hooks.example.com/x"], "https:// URL", "alarms.https.0"),
    case("alarms.period_s", 90, "multiple of 60"),
    case("alarms.period_s", 30, "greater than or equal to 60"),
    case("alarms.evaluation_periods", 1441, "less than or equal to 1440"),
    case("alarms.evaluation_periods", 25, "exceeds 86400", also={"alarms.period_s": 3600}),
    case("alarms.datapoints_to_alarm", 6, "at most evaluation_periods"),
    case("alarms.duration_p99_timeout_ratio", 1.5, "less than or equal to 1"),
    case("alarms.api_latency_p99_ms", 29001, "less than or equal to 29000"),
    case("alarms.function_errors", 0, "greater than or equal to 1"),
    case("releases.strategy", "Canary", "not a CodeDeploy Lambda strategy"),
    case("alarms.function_server_error_rate", 0, "greater than 0"),
    case("alarms.api_server_error_rate", 1.5, "less than or equal to 1"),
    case("alarms.load_balancer_server_error_rate", 0, "greater than 0"),
    case(
        "alarms.load_balancer_target_5xx",
        5,
        "replaced by alarms.load_balancer_server_error_rate",
    ),
    # The rollback alarms' window plus a minute of metric delay must fit the release.
    case(
        "alarms.evaluation_periods",
        5,
        "(300 s) plus the 60 s the metrics take to arrive exceeds the 300 s during which "
        "Canary10Percent5Minutes",
        also={"releases.strategy": "Canary10Percent5Minutes"},
    ),
    case(
        "alarms.evaluation_periods",
        3,
        "exceeds the 540 s during which Linear10PercentEvery1Minute",
        also={"releases.strategy": "Linear10PercentEvery1Minute", "alarms.period_s": 180},
    ),
    # WAF: the per-IP rate limit and the paths that take markup
    case("waf.rate_limit", 9, "greater than or equal to 10"),
    case("waf.rate_limit", 2_000_000_001, "less than or equal to 2000000000"),
    case("waf.rate_limit_window_s", 30, "not a WAF evaluation window: one of 60, 120, 300, 600"),
    case(
        "waf.markup_paths", ["/escapes"], "not a routes[].path of this file", "waf.markup_paths.0"
    ),
    case("waf.markup_paths", ["escape"], 'must start with "/"', "waf.markup_paths.0"),
    case(
        "waf.markup_paths",
        ["/escape"],
        "scopes AWSManagedRulesCommonRuleSet's XSS rules",
        also={
            "waf.managed_rule_groups": ["AWSManagedRulesKnownBadInputsRuleSet"],
            "waf.count_rules": {},
        },
    ),
    case(
        "waf.markup_paths",
        [f"/m{n:02}/{'x' * 50}" for n in range(10)],
        # ^(?:/dev)? (10) + (?: (3) + 10 paths of 55 and 9 | + )$ (2)
        "would be 574 characters, it allows 512",
        also={"routes": [route("GET", f"/m{n:02}/{'x' * 50}") for n in range(10)]},
    ),
    # Its own three alarms, seven for its 61 API routes (ten per alarm), its target group's:
    # eleven, CodeDeploy takes ten. Short names keep its policy within Lambda's 20 KB; on the
    # load balancer, so many routes of one shape need their own priorities.
    case(
        "routes",
        [
            {**route("GET", f"/{n}"), **PUBLIC_ON_LOAD_BALANCER, "priority": n + 1}
            for n in range(61)
        ],
        "its releases would stop on 11 alarms, CodeDeploy takes 10",
        reported="functions.hello",
        also={
            "waf.markup_paths": DELETE,
            "functions.hello.name": "f",
            "load_balancer.name": "lb",
        },
    ),
    case("functions.hello.provisioned_concurrency", 901, "at most 900"),
    # SnapStart: Python 3.12 and later only, never with provisioned concurrency (AWS).
    case(
        "functions.hello.snap_start",
        True,
        "SnapStart supports Python 3.12 and later, not python3.11",
        also={"functions.hello.runtime": "python3.11"},
    ),
    case(
        "functions.hello.snap_start",
        True,
        "SnapStart cannot be used together with provisioned concurrency",
        also={"functions.hello.provisioned_concurrency": 2},
    ),
    case(
        "functions.hello.provisioned_concurrency",
        6,
        "at most 5",
        also={"functions.hello.reserved_concurrency": 5},
    ),
    case(
        "functions.hello.secrets",
        {"DbPassword": "/dev/db"},
        "lowercase letters",
        reported="functions.hello.secrets.DbPassword",
    ),
    case(
        "functions.hello.secrets",
        {"db": "/aws/db"},
        "reserved by AWS",
        reported="functions.hello.secrets.db",
    ),
    case(
        "functions.hello.secrets",
        {"db": "/a b"},
        "SSM parameter name",
        reported="functions.hello.secrets.db",
    ),
    case(
        "functions.hello.secrets",
        {"db": "/" + "/".join("l" * 16)},
        "15 levels",
        reported="functions.hello.secrets.db",
    ),
    case("functions.hello.secrets", {f"s{n}": f"/p{n}" for n in range(21)}, "at most 20 items"),
    case(
        "functions.hello.secrets",
        {"log_level": "/dev/level"},
        "SECRET_LOG_LEVEL is set in environment",
        reported="functions.hello.secrets.log_level",
        also={"functions.hello.environment.SECRET_LOG_LEVEL": "x"},
    ),
    case(
        "functions.hello.secrets_kms_key_arn",
        "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-1234567890ab",
        "only used with secrets",
    ),
    case("functions.hello.secrets_kms_key_arn", "alias/aws/ssm", "a KMS key ARN"),
    case(
        "functions.hello.secrets_kms_key_arn",
        "arn:aws:kms:eu-west-1:123456789012:key/12345678-1234-1234-1234-1234567890ab",
        "must be in us-east-1",
        also={"functions.hello.secrets": {"db": "/dev/db"}},
    ),
    case("domain", {"name": "api.example.com"}, "required key is missing", "domain.hosted_zone_id"),
    case(
        "domain",
        {"name": "API.example.com", "hosted_zone_id": "Z1"},
        "lowercase host",
        "domain.name",
    ),
    case(
        "domain", {"name": "*.example.com", "hosted_zone_id": "Z1"}, "lowercase host", "domain.name"
    ),
    case(
        "domain",
        {
            "name": "api.example.com",
            "hosted_zone_id": "Z1",
            "load_balancer_name": "api.example.com",
        },
        "must differ from name",
        "domain.load_balancer_name",
    ),
    case(
        "domain",
        {"name": ".".join(["a" * 62] * 4), "hosted_zone_id": "Z1"},
        "the default alb.<name> is longer than a host name may be",
        "domain.load_balancer_name",
    ),
    case(
        "domain",
        {
            "name": "api.example.com",
            "hosted_zone_id": "Z1",
            "load_balancer_name": "www.example.com",
        },
        "only used without load_balancer.certificate_arn",
        "domain.load_balancer_name",
        also={
            "load_balancer.certificate_arn": (
                "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-1234567890ab"
            )
        },
    ),
    case(
        "domain",
        {"name": "api.example.com", "hosted_zone_id": "z1"},
        "hosted zone id",
        "domain.hosted_zone_id",
    ),
    # Unknown keys, wrong types, missing env
    case("functions.hello.memroy_mb", 512, "unknown key"),
    case("lamda", {"memory_mb": 512}, "unknown key"),
    case("functions_", {}, "unknown key"),
    case("routes.0.verb", "GET", "unknown key"),
    case("functions.hello.grants.table", "read", "unknown key; did you mean 'tables'?"),
    case("vpc.public_subnets.a.zone", "us-east-1a", "unknown key"),
    case("functions.hello.memory_mb", "512", "valid integer"),
    case("functions.hello.timeout_s", 10.5, "valid integer"),
    case("tables.requests.deletion_protection", 1, "valid boolean"),
    # v0.1.0's boolean, and AWS's traffic types in another case, are refused with the choices.
    case("vpc.flow_logs", True, "'ALL', 'ACCEPT', 'REJECT' or 'none'"),
    case("vpc.flow_logs", "reject", "'ALL', 'ACCEPT', 'REJECT' or 'none'"),
    case("vpc.flow_logs", "off", "'ALL', 'ACCEPT', 'REJECT' or 'none'"),
    case("tags", "Owner", "valid dictionary"),
    case("vpc.nat_gateways", "two", "'single', 'one_per_az' or 'none'"),
    case("env", DELETE, "required key is missing"),
    case("project", DELETE, "required key is missing"),
    # Project, environment name and region
    case("project", "Hello", "1-20 lowercase letters"),
    case("project", "p" * 21, "1-20 lowercase letters"),
    case("project", "-hello", "starting with a letter"),
    # 20 + "-" + 6 = 27: one over the prefix the artifacts bucket leaves room for.
    case(
        "project",
        "p" * 20,
        f"the name prefix '{'p' * 20}-eeeeee' is 27 characters; at most 26",
        also={"env": "e" * 6},
    ),
    # Every bucket is named after `<project>-<env>`: S3's reserved starts are refused on it.
    *(
        case("project", project, f"the artifacts bucket prefix '{prefix}-artifacts-' must not")
        for project, prefix in (
            ("xn--shop", "xn--shop-dev"),
            ("sthree-x", "sthree-x-dev"),
            ("amzn-s3-demo-x", "amzn-s3-demo-x-dev"),
        )
    ),
    # A reserved start made of project and env together.
    case(
        "project",
        "amzn-s3-demo",
        "the artifacts bucket prefix 'amzn-s3-demo-x-artifacts-' must not start with",
        also={"env": "x"},
    ),
    case("env", "Dev", "1-20 lowercase letters"),
    case("env", "d" * 21, "1-20 lowercase letters"),
    case("env", "dev-", "ending with a letter or digit"),
    case("env", "1dev", "starting with a letter"),
    case("region", "us-east-one", "not an AWS region; did you mean 'us-east-2'?"),
    case("region", "mars-1", "not an AWS region"),
    # Network
    case("vpc.cidr", "10.0.0.0/33", "not an IPv4 CIDR block"),
    case("vpc.cidr", "10.0.0.1/16", "has host bits set"),
    case("vpc.cidr", "10.0.0.0/8", "/16 to /28"),
    case("vpc.public_subnets.a.cidr", "10.0.1.0/255.255.255.0", "CIDR notation: 10.0.1.0/24"),
    case("vpc.public_subnets.b.cidr", "10.9.2.0/24", "not inside vpc.cidr 10.0.0.0/16"),
    case("vpc.private_subnets.a.cidr", "10.0.1.128/25", "overlaps vpc.public_subnets.a"),
    case("vpc.public_subnets.b.az", "us-west-2b", "not an availability zone of us-east-1"),
    case("vpc.public_subnets.b.az", "us-east-1z", "of us-east-1 (us-east-1a, us-east-1b, "),
    case(
        "vpc.private_subnets.a.az",
        "eu-west-1d",
        "not an availability zone of eu-west-1 (eu-west-1a, eu-west-1b, eu-west-1c)",
        also={**EU_WEST_1, "vpc.private_subnets.b.az": "eu-west-1b"},
    ),
    case("vpc.private_subnets.a.az", "us-east-1", "an AZ name like us-east-1a or an AZ id"),
    # AZ ids name the same zone in every account: accepted, checked against the region's prefix
    case(
        "vpc.private_subnets.b.az",
        "euw1-az2",
        "not an AZ id of us-east-1 (use1-az1, use1-az2, ...)",
        also=dict.fromkeys(
            ("vpc.public_subnets.a.az", "vpc.public_subnets.b.az", "vpc.private_subnets.a.az"),
            "use1-az1",
        )
        | {"vpc.public_subnets.b.az": "use1-az2"},
    ),
    case(
        "vpc.private_subnets.b.az",
        "use1-az2",
        "vpc.public_subnets.a.az is written 'us-east-1a': use AZ names or AZ ids, not both",
    ),
    case(
        "vpc.public_subnets.b.az",
        "us-east-1a",
        "public subnets in at least two availability zones",
        reported="vpc.public_subnets",
    ),
    case("vpc.public_subnets", {}, "public subnets in at least two availability zones"),
    case("vpc.private_subnets", {}, "at least one private subnet"),
    case(
        "vpc.private_subnets.c",
        {"cidr": "10.0.13.0/24", "az": "us-east-1c"},
        "needs a public subnet in this availability zone for its NAT gateway",
        reported="vpc.private_subnets.c.az",
        also={"vpc.nat_gateways": "one_per_az"},
    ),
    case(
        "vpc.nat_subnet",
        "c",
        "not a public subnet key (a, b)",
        also={"vpc.nat_gateways": "single"},
    ),
    case(
        "vpc.nat_subnet",
        "a",
        'only used with nat_gateways = "single"',
        also={"vpc.nat_gateways": "none"},
    ),
    case("vpc.public_subnets.A/1", {"cidr": "10.0.3.0/24", "az": "us-east-1c"}, "1-16 lowercase"),
    # Names
    bucket_name("ab", "3-63 characters"),
    bucket_name("Dev-artifacts", "only lowercase letters, digits, dots and hyphens"),
    bucket_name("-dev-artifacts", "start with a lowercase letter or digit"),
    bucket_name("dev-artifacts-", "end with a lowercase letter or digit"),
    bucket_name("dev..artifacts", "two dots in a row"),
    bucket_name("192.168.10.1", "look like an IP address"),
    bucket_name("xn--dev-artifacts", "must not start with any of xn--"),
    bucket_name("dev-artifacts-s3alias", "must not end with any of -s3alias"),
    case(
        "s3.bucket_name",
        "dev-artifacts",
        "set bucket_prefix or bucket_name, not both",
        also={"s3.bucket_prefix": "dev-artifacts-"},
    ),
    case("s3.bucket_prefix", "d" * 38, "1-37 characters"),
    case("s3.bucket_prefix", "Dev-", "only lowercase letters"),
    case("s3.bucket_prefix", "sthree-dev-", "must not start with any of"),
    case("functions.hello.name", "f" * 60, "1-59 letters"),
    case("functions.hello.name", "dev hello", "1-59 letters, digits, hyphens or underscores"),
    case("load_balancer.name", "a" * 31, "1-30 lowercase letters"),
    case("load_balancer.name", "-alb", "not starting or ending with a hyphen"),
    case("load_balancer.name", "internal-alb", "nor starting with 'internal-'"),
    case("load_balancer.name", "Dev_alb", "lowercase letters, digits or hyphens"),
    case("api.name", "a" * 244, "1-243 letters"),
    case("api.name", "dev hello", "1-243 letters, digits, dots, hyphens or underscores"),
    case("api.stage_name", "dev.1", "1-128 letters, digits, hyphens or underscores"),
    # 26 + "-escape" is 33: reported at the first public route to escape (routes[1]); hello
    # has no public route, so no target group to fit.
    case(
        "load_balancer.name",
        "a" * 26,
        "'aaaaaaaaaaaaaaaaaaaaaaaaaa-escape' is 33 characters, ELB allows 32",
        reported="routes[1].function",
    ),
    # With a public route to hello alone: 27 + "-hello" is 33.
    case(
        "load_balancer.name",
        "a" * 27,
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaa-hello' is 33 characters, ELB allows 32",
        reported="routes[0].function",
        also={"functions.escape": DELETE, "routes": [{**A_ROUTE, "authorization": "NONE"}]},
    ),
    # Lambda
    case(
        "functions.hello.runtime",
        "python3.10",
        "one of python3.11, python3.12, python3.13, python3.14",
    ),
    case("functions.hello.runtime", "nodejs22.x", "not a supported Lambda Python runtime"),
    case("functions.hello.memory_mb", 127, "greater than or equal to 128"),
    case("functions.hello.memory_mb", 10241, "less than or equal to 10240"),
    case("functions.hello.timeout_s", 0, "greater than or equal to 1"),
    case("functions.hello.timeout_s", 901, "less than or equal to 900"),
    case("functions.hello.reserved_concurrency", 0, "greater than or equal to 1"),
    case("functions.hello.reserved_concurrency", 901, "at most 900: Lambda keeps 100"),
    case("functions.hello.reserved_concurrency", 10**30, "at most 900: Lambda keeps 100"),
    case("functions.hello.reserved_concurrency", 2**63 - 1, "at most 900: Lambda keeps 100"),
    case("functions.hello.memory_mb", 2**63 - 1, "less than or equal to 10240"),
    case("functions.hello.timeout_s", 10**30, "less than or equal to 900"),
    case(
        "functions.hello.environment",
        BIG_ENVIRONMENT,
        "more than Lambda's 4096 bytes (counting TABLE_<KEY>_NAME, BUCKET_<KEY>_NAME, QUEUE_<KEY>_URL and TOPIC_<KEY>_ARN",
    ),
    # 1,991 characters but 4,098 bytes in UTF-8 with the rest: Lambda counts bytes.
    case(
        "functions.hello.environment.NOTE",
        "é" * 1991,
        "4096 bytes",
        reported="functions.hello.environment",
    ),
    case("functions.hello.environment.AWS_REGION", "x", "reserved by Lambda"),
    case("functions.hello.environment.AWS_ANYTHING", "x", "reserved by Lambda (so is every AWS_*)"),
    case("functions.hello.environment._HANDLER", "x", "reserved by Lambda"),
    case("functions.hello.environment.LAMBDA_TASK_ROOT", "x", "reserved by Lambda"),
    case("functions.hello.environment.TABLE_ORDERS_NAME", "x", "shape of the stack's TABLE_<KEY>"),
    case("functions.hello.environment.BUCKET_A_B_NAME", "x", "shape of the stack's TABLE_<KEY>"),
    case("functions.hello.environment.1X", "x", "a letter followed by one or more letters"),
    case("functions.hello.environment.MY-VAR", "x", "a letter followed by one or more letters"),
    case("functions.hello.handler", "app", "module.function"),
    case("functions.hello.handler", "main.handler", "module not found: no main.py in lambda"),
    case(
        "functions.hello.handler",
        "app.no_such_function",
        "no top-level function no_such_function in app",
    ),
    case("functions.hello.handler", "handlers.api.handler", "no handlers/api.py in lambda"),
    case("functions.hello.source_dir", "no-such-folder", "no such folder"),
    # API, load balancer, logs, bucket lifecycle
    case("api.throttling_rate_limit", 0, "greater than 0"),
    case("api.throttling_burst_limit", 0, "greater than or equal to 1"),
    case("api.throttling_burst_limit", 5001, "less than or equal to 5000"),
    case("api.throttling_burst_limit", 10**30, "less than or equal to 5000"),
    case("api.throttling_rate_limit", 10000.5, "less than or equal to 10000"),
    case("api.throttling_rate_limit", float("inf"), "finite number"),
    case("api.throttling_rate_limit", float("nan"), "finite number"),
    case("api.logging_level", "DEBUG", "'OFF', 'ERROR' or 'INFO'"),
    case("load_balancer.certificate_arn", "arn:aws:acm:us-east-1:1:certificate/x", "ACM"),
    case(
        "load_balancer.certificate_arn",
        A_CERTIFICATE.replace("us-east-1", "eu-west-1"),
        "the certificate must be in us-east-1",
    ),
    case("load_balancer.ssl_policy", "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificate_arn"),
    case(
        "load_balancer.ssl_policy",
        "TLS1.3",
        "not a security policy of Application Load Balancers",
        also={"load_balancer.certificate_arn": A_CERTIFICATE},
    ),
    case(
        "load_balancer.ssl_policy",
        "ELBSecurityPolicy-TLS13-1-2-2099-01",
        "did you mean 'ELBSecurityPolicy-TLS13-1-2-2021-06'?",
        also={"load_balancer.certificate_arn": A_CERTIFICATE},
    ),
    case(
        "load_balancer.certificate_arn",
        A_CERTIFICATE.replace("arn:aws:", "arn:aws-cn:"),
        "the certificate must be in us-east-1 (partition aws)",
    ),
    case("logs.retention_days", 10, "not a CloudWatch Logs retention: one of 1, 3, 5"),
    case("s3.noncurrent_version_expiration_days", 0, "greater than or equal to 1"),
    case("s3.noncurrent_version_expiration_days", 2**31, "less than or equal to 2147483647"),
    case("s3.noncurrent_version_expiration_days", 10**30, "less than or equal to 2147483647"),
    case("s3.prevent_destroy", True, "contradicts force_destroy = true"),
    case("load_balancer.access_log_expiration_days", 0, "greater than or equal to 1"),
    case("load_balancer.access_log_expiration_days", 3654, "less than or equal to 3653"),
    # Reserved concurrency: opt-in, and Lambda keeps 100 of the account's quota unreserved, or
    # all of a quota below 100 (new accounts: 10 or 50)
    case(
        "functions.hello.reserved_concurrency",
        50,
        "at most 20: Lambda keeps 100 of the account's 120 unreserved (account_concurrency)",
        also={"account_concurrency": 120},
    ),
    case(
        "functions.escape.provisioned_concurrency",
        20,
        "at most 30 for all functions together (40): Lambda keeps 100 of the account's 130",
        also={"account_concurrency": 130, "functions.hello.reserved_concurrency": 20},
    ),
    case(
        "functions.hello.reserved_concurrency",
        1,
        "none possible: Lambda keeps 50 of the account's 50 unreserved (account_concurrency)",
        also={"account_concurrency": 50},
    ),
    case(
        "functions.hello.provisioned_concurrency",
        1,
        "none possible: Lambda keeps 10 of the account's 10 unreserved (account_concurrency)",
        also={"account_concurrency": 10},
    ),
    case("account_concurrency", 0, "greater than or equal to 1"),
    case("account_concurrency", 10**7, "less than or equal to 1000000"),
    # WAF
    case("waf.managed_rule_groups", [], "at least 1 item"),
    case(
        "waf.managed_rule_groups",
        ["AWS Managed"],
        "1-128 letters, digits",
        reported="waf.managed_rule_groups.0",
    ),
    case(
        "waf.count_rules",
        {"AWSManagedRulesBotControlRuleSet": ["CategoryHttpLibrary"]},
        "not in managed_rule_groups",
        reported="waf.count_rules.AWSManagedRulesBotControlRuleSet",
    ),
    case(
        "waf.count_rules",
        {"AWSManagedRulesCommonRuleSet": [f"Rule{n}" for n in range(101)]},
        "at most 100 items",
        reported="waf.count_rules.AWSManagedRulesCommonRuleSet",
    ),
    # Backend
    case("backend.type", "s3", 'required with type = "s3"', reported="backend.bucket"),
    case("backend.bucket", "State_Bucket", "only lowercase", also={"backend.type": "s3"}),
    s3_backend("backend.key", "/dev.tfstate", 'not starting or ending with "/"'),
    s3_backend("backend.key", "dev//state", 'containing "//"'),
    s3_backend("backend.region", "eu-west", "not an AWS region"),
    case("backend.bucket", "state", 'only used with type = "s3"'),
    case("backend.use_lockfile", False, 'only used with type = "s3"'),
    # Functions: keys, names, code, dependencies, grants
    case("functions", {}, "at least 1 item"),
    case("functions", DELETE, "required key is missing"),
    case("functions", {f"f{n}": {"source_dir": "lambda"} for n in range(101)}, "at most 100 items"),
    case("functions.Hello", {"source_dir": "lambda"}, "1-20 lowercase letters"),
    case("functions.hello-", {"source_dir": "lambda"}, "not ending with a hyphen"),
    case("functions.f" + "x" * 20, {"source_dir": "lambda"}, "1-20 lowercase letters"),
    case("functions.hello.source_dir", DELETE, "required key is missing"),
    # hello's name is derived: a name given to another function is checked against it.
    case(
        "functions.other",
        {"source_dir": "lambda", "name": f"{DEV_PREFIX}-hello"},
        "also the name of functions.hello",
        reported="functions.other.name",
    ),
    case(
        "functions.other",
        {"source_dir": "nowhere"},
        "no such folder",
        reported="functions.other.source_dir",
    ),
    case("functions.hello.architecture", "arm", "'x86_64' or 'arm64'"),
    case(
        "functions.hello.dependencies",
        "functions/hello_deps/app.py",
        "a file named requirements.txt, uv.lock, pyproject.toml",
    ),
    case("functions.hello.dependencies", "functions/missing/requirements.txt", "no such file"),
    case("functions.hello.dependencies", 1, "valid string"),
    case(
        "functions.hello.grants.tables.requests",
        "admin",
        "'read', 'write' or 'read_write'",
    ),
    case(
        "functions.hello.grants.tables.request",
        "read",
        "not a key of [tables] (requests); did you mean 'requests'?",
    ),
    case(
        "functions.hello.grants.buckets.asset",
        "read",
        "not a key of [buckets] (assets); did you mean 'assets'?",
    ),
    case(
        "functions.hello.grants.buckets.assets",
        "all",
        'must be "read", "write", "read_write" or { read = [...], write = [...] }',
    ),
    case("functions.hello.grants.buckets.assets", {}, "grants nothing"),
    case("functions.hello.grants.buckets.assets.reed", ["a"], "did you mean 'read'?"),
    case(
        "functions.hello.grants.buckets.assets.read",
        ["a*b"],
        "'*' only as the last character",
        reported="functions.hello.grants.buckets.assets.read.0",
    ),
    case(
        "functions.hello.grants.buckets.assets.read",
        ["reports/?"],
        "'?' not at all",
        reported="functions.hello.grants.buckets.assets.read.0",
    ),
    case(
        "functions.hello.grants.buckets.assets.write",
        [""],
        "1-1024 bytes",
        reported="functions.hello.grants.buckets.assets.write.0",
    ),
    case(
        "functions.hello.grants.buckets.assets.write",
        ["k" * 1025],
        "1-1024 bytes",
        reported="functions.hello.grants.buckets.assets.write.0",
    ),
    case(
        "functions.hello.grants.buckets.assets.write",
        ["a\nb"],
        "control characters",
        reported="functions.hello.grants.buckets.assets.write.0",
    ),
    case("functions.hello.grants.buckets.assets.write", "greeting.txt", "valid list"),
    # Tables: keys, key schema, TTL, stream
    case("tables.Orders", {"partition_key": PK}, "1-20 lowercase letters"),
    case("tables.order--items", {"partition_key": PK}, "a letter after each hyphen"),
    case("tables.order-1", {"partition_key": PK}, "a letter after each hyphen"),
    case("tables.o" + "x" * 20, {"partition_key": PK}, "1-20 lowercase letters"),
    case("tables.api", {"partition_key": PK}, "names one of the stack's own resources"),
    case("tables.function-x", {"partition_key": PK}, "starting with function- or bucket-"),
    case("tables.requests.partition_key", DELETE, "required key is missing"),
    case("tables.requests.partition_key.type", "string", "'S', 'N' or 'B'"),
    case("tables.requests.partition_key.name", "", "1-255 bytes"),
    case("tables.requests.partition_key.name", "é" * 128, "1-255 bytes"),
    case("tables.requests.partion_key", PK, "did you mean 'partition_key'?"),
    case(
        "tables.requests.sort_key",
        {"name": "pk", "type": "N"},
        "is the partition key's name",
        reported="tables.requests.sort_key.name",
    ),
    case("tables.requests.ttl_attribute", "t" * 256, "1-255 characters"),
    case("tables.requests.ttl_attribute", "", "1-255 characters"),
    case("tables.requests.stream", "NEW", "'KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE'"),
    case("tables.requests.name", "ab", "3-255 letters"),
    case("tables.requests.name", "dev/requests", "3-255 letters, digits, dots"),
    case("tables.requests.point_in_time_recovery", "yes", "valid boolean"),
    # Buckets: keys, names, lifecycle, objects
    case("buckets.Assets", {}, "1-20 lowercase letters"),
    case("buckets.assets.versionning", True, "did you mean 'versioning'?"),
    case("buckets.assets.name", "Assets", "lowercase letters, digits, dots and hyphens"),
    case("buckets.assets.noncurrent_version_expiration_days", 0, "greater than or equal to 1"),
    case("buckets.assets.expiration_days", 2**31, "less than or equal to 2147483647"),
    case(
        "buckets.assets.lifecycle",
        [{"prefix": "tmp/", "expiration_days": 1}] * 1000,
        "at most 999 items",
    ),
    case(
        "buckets.assets.lifecycle",
        [{"prefix": "", "expiration_days": 1}],
        "1-1024 bytes",
        reported="buckets.assets.lifecycle.0.prefix",
    ),
    case(
        "buckets.assets.lifecycle",
        [{"prefix": "tmp/", "expiration_days": 0}],
        "greater than or equal to 1",
        reported="buckets.assets.lifecycle.0.expiration_days",
    ),
    case(
        "buckets.assets.objects",
        {"k" * 1025: "x"},
        "1-1024 bytes",
        # The key is shortened in the line, with its length.
        reported="buckets.assets.objects." + "k" * 64 + "... (1,025 characters)",
    ),
    case("buckets.assets.objects.seed", "é" * 2049, "at most 4,096 bytes"),
    case("buckets.assets.objects", {f"k{n}": "x" for n in range(101)}, "at most 100 items"),
    # The derived prefix hello-dev-<key>- must leave Terraform its 26 characters.
    case(
        "buckets.a" + "x" * 19,
        {},
        "the derived bucket prefix 'helloworld-shop-staging-a" + "x" * 19 + "-' is 45 characters",
        reported="buckets.a" + "x" * 19,
        also={"project": "helloworld-shop", "env": "staging"},
    ),
    case(
        "load_balancer.name",
        "a" * 12,
        "its target group 'aaaaaaaaaaaa-f1234567890123456789' is 33 characters",
        reported="routes[0].function",
        also={
            **only_function("f1234567890123456789"),
            "routes": [{**A_ROUTE, "function": "f1234567890123456789", "authorization": "NONE"}],
        },
    ),
    # Reserved concurrency: all functions' reservations together within the account's quota
    case(
        "functions.other",
        {"source_dir": "lambda", "reserved_concurrency": 500},
        "at most 900 for all functions together (1000): Lambda keeps 100",
        reported="functions.other.reserved_concurrency",
        also={"functions.hello.reserved_concurrency": 500},
    ),
    case(
        "functions.other",
        {"source_dir": "lambda", "provisioned_concurrency": 901},
        "at most 900: Lambda keeps 100",
        reported="functions.other.provisioned_concurrency",
    ),
    case(
        "functions.other",
        {
            "source_dir": "lambda",
            "environment": BIG_ENVIRONMENT,
            "grants": {"tables": {"requests": "read"}},
        },
        "more than Lambda's 4096 bytes",
        reported="functions.other.environment",
    ),
    # Routes: method, path syntax, function, authorization
    case("routes", [], "at least 1 item"),
    case("routes", DELETE, "required key is missing"),
    case("routes", [A_ROUTE] * 101, "at most 100 items"),
    case("routes.0.method", "HEAD", "'GET', 'POST', 'PUT', 'PATCH', 'DELETE' or 'ANY'"),
    case("routes.0.method", "get", "'GET', 'POST'"),
    case("routes.0.method", DELETE, "required key is missing"),
    case("routes.0.path", "hello", 'must start with "/"'),
    case("routes.0.path", "/hello/", 'must not end with "/"'),
    case("routes.0.path", "/a//b", 'empty segment ("//")'),
    case("routes.0.path", "", 'must start with "/"'),
    case("routes.0.path", "/hello world", "segment 'hello world' must be letters, digits"),
    case("routes.0.path", "/items/{1id}", "segment '{1id}' must be letters"),
    case("routes.0.path", "/items/{id}x", "segment '{id}x' must be letters"),
    case("routes.0.path", "/{proxy+}/x", "{proxy+} takes the rest of the path: only as the last"),
    case("routes.0.path", "/a/{id}/b/{id}", "parameter id appears twice"),
    case("routes.0.path", "/" + "p" * 128, "at most 128 characters (the load balancer's path"),
    case(
        "routes.0.function",
        "helo",
        "not a key of [functions] (hello, escape); did you mean 'hello'?",
    ),
    case("routes.0.function", "nothing", "not a key of [functions] (hello, escape) (given"),
    case("routes.0.authorization", "OPEN", "'NONE' or 'AWS_IAM'"),
    case("routes.0.load_balancer", "yes", "valid boolean"),
    # The load balancer checks no signature: an AWS_IAM route there would be anonymous.
    case(
        "routes.0.load_balancer",
        True,
        "the load balancer has no AWS_IAM authorization: the route would be public there",
        also={"routes.0.authorization": "AWS_IAM"},
    ),
    case("routes.1.priority", 0, "greater than or equal to 1"),
    case("routes.1.priority", 50001, "less than or equal to 50000"),
    case("routes.1.priority", "1", "valid integer"),
    # Two rules cannot hold one priority on a listener.
    case(
        "routes.2.priority",
        7,
        "listener priority 7 is also that of routes[1] (GET /escape): set priority = 8 on this "
        "route (unused, next to it in the load balancer's order)",
        also={"routes.1.priority": 7},
    ),
    # Routes across routes: collisions and API Gateway's one parameter per level
    case(
        "routes",
        [A_ROUTE, A_ROUTE],
        "GET /hello collides with routes[0] (GET /hello)",
        reported="routes.1.path",
    ),
    case(
        "routes",
        [A_ROUTE, {**A_ROUTE, "method": "ANY"}],
        "ANY /hello collides with routes[0] (GET /hello)",
        reported="routes.1.path",
    ),
    case(
        "routes",
        [{**A_ROUTE, "method": "ANY"}, {**A_ROUTE, "method": "DELETE"}],
        "collides with routes[0] (ANY /hello)",
        reported="routes.1.path",
    ),
    case(
        "routes",
        [route("GET", "/a/{id}"), route("GET", "/a/{name}")],
        "GET /a/{name} collides with routes[0] (GET /a/{id})",
        reported="routes.1.path",
    ),
    case(
        "routes",
        [route("GET", "/a/{p+}"), route("GET", "/a/{proxy+}")],
        "collides with routes[0]",
        reported="routes.1.path",
    ),
    case(
        "routes",
        [route("GET", "/a/{id}"), route("POST", "/a/{name}")],
        "{name} where routes[0] has {id} under /a: API Gateway allows one",
        reported="routes.1.path",
    ),
    case(
        "routes",
        [route("GET", "/a/{id}/x"), route("GET", "/a/{proxy+}")],
        "{proxy+} where routes[0] has {id} under /a",
        reported="routes.1.path",
    ),
    case(
        "routes",
        [route("GET", "/{id}"), route("GET", "/b"), route("GET", "/{key}/c")],
        "{key} where routes[0] has {id} under /",
        reported="routes.2.path",
    ),
    # Values AWS or Terraform would only refuse at apply time
    case("functions.hello.environment.X", "x", "a letter followed by one or more letters"),
    s3_backend("backend.key", "k" * 1018, "at most 1017 bytes (UTF-8): S3 keys stop at 1024"),
    # 509 characters, 1,018 bytes: S3 counts bytes.
    s3_backend("backend.key", "é" * 509, "at most 1017 bytes"),
    *(
        bucket_name(f"dev-artifacts{suffix}", "must not end with any of -s3alias, --ol-s3")
        for suffix in ("--ol-s3", ".mrap", "--x-s3", "--table-s3")
    ),
    bucket_name("amzn-s3-demo-artifacts", "must not start with any of xn--, sthree-"),
    bucket_name("dev-artifacts-123456789012-us-east-1-an", "account regional namespace"),
    case(
        "backend.bucket",
        "state-123456789012-eu-west-1-an",
        "account regional namespace",
        also={"backend.type": "s3"},
    ),
    # The access-log bucket is named `<load balancer name>-logs-...`.
    *(
        case("load_balancer.name", name, f"its access-log bucket prefix '{name}-logs-' must not")
        for name in ("xn--alb", "sthree-alb", "amzn-s3-demo-alb")
    ),
    case(
        "functions.hello.secrets_kms_key_arn",
        "arn:aws-cn:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-1234567890ab",
        "the key must be in us-east-1 (partition aws)",
        also={"functions.hello.secrets": {"db": "/dev/db"}},
    ),
    case(
        "functions.hello.secrets_kms_key_arn",
        "arn:aws:kms:us-east-1:123456789012:key/mrk-1234",
        "multi-Region mrk-... id",
        also={"functions.hello.secrets": {"db": "/dev/db"}},
    ),
    *(
        case(
            "waf.managed_rule_groups",
            ["AWSManagedRulesCommonRuleSet", group],
            "needs a ManagedRuleGroupConfig",
            reported="waf.managed_rule_groups.1",
            also={"waf.count_rules": {}},
        )
        for group in (
            "AWSManagedRulesATPRuleSet",
            "AWSManagedRulesACFPRuleSet",
            "AWSManagedRulesBotControlRuleSet",
            "AWSManagedRulesAntiDDoSRuleSet",
        )
    ),
    case(
        "routes",
        [{**route("ANY", "/a/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}"), **PUBLIC_ON_LOAD_BALANCER}],
        "6 path parameters, each a wildcard of the load balancer rule, which allows 5",
        reported="routes.0.path",
    ),
    # Seven resources per route: the 43rd route needs the 301st.
    case(
        "routes",
        [route("GET", f"/p{n}/a/b/c/d/e/f") for n in range(50)],
        "need 301 API resources",
        reported="routes.42.path",
    ),
    # One permission per route; 64 of them outgrow Lambda's 20 KB policy.
    case(
        "routes",
        [route("GET", f"/r{n}") for n in range(64)],
        "its resource-based policy would be about 2",
        reported="functions.hello",
    ),
    # Each granted key is an ARN of the role's inline policies (IAM: 10,240 characters).
    case(
        "functions.hello.grants.buckets.assets.read",
        [f"{n:02}" + "k" * 248 for n in range(30)],
        "its role's inline policies would be too long",
        reported="functions.hello.grants",
    ),
    case(
        "functions.escape.provisioned_concurrency",
        500,
        "at most 900 for all functions together (1000): Lambda keeps 100",
        also={"functions.hello.provisioned_concurrency": 500},
    ),
    # Provisioned environments of a function without a reservation come from the unreserved
    # pool, which the other function's reservation has taken.
    case(
        "functions.escape.provisioned_concurrency",
        1,
        "at most 900 for all functions together (901)",
        also={"functions.hello.reserved_concurrency": 900},
    ),
    # Paths: reported on the key, whatever the file system would say
    case("functions.hello.source_dir", "lam\x00bda", "must not contain a NUL character"),
    case(
        "functions.hello.dependencies",
        "functions/hello_deps/requirements.txt\x00",
        "must not contain a NUL character",
    ),
    case("functions.hello.source_dir", "x" * 256, "a name of 256 bytes between slashes"),
    case(
        "functions.hello.dependencies",
        "functions/" + "é" * 128 + "/requirements.txt",
        "a name of 256 bytes between slashes",
    ),
    case("functions.hello.source_dir", "/".join(["x" * 200] * 21), "at most 4,095 bytes"),
    # Tags
    case("tags.aws:owner", "x", 'must not start with "aws:"'),
    case("tags.Owner!", "x", "tag key must be 1-128 letters, digits, spaces or + - = . _ : / @"),
    # A key longer than any valid one is shortened in the line, with its length.
    case(
        "tags." + "k" * 129,
        "x",
        "tag key must be 1-128",
        reported="tags." + "k" * 64 + "... (129 characters)",
    ),
    case("tags.Owner", "v" * 257, "tag value must be 0-256"),
    case("tags.Owner", "team#1", "tag value must be 0-256 letters, digits, spaces"),
    case("tags.Env", "dev", "set by the stack"),
    case("tags", MANY_TAGS, "at most 47 tags: AWS allows 50 and the stack adds Env, Name, Tier"),
]


# The edge of each rule above, on the side AWS accepts: the check must not refuse them.
ACCEPTED_BY_AWS = {
    "two-letter variable name": {"functions.hello.environment.XY": "x"},
    # Its latency alarm `<name>-latency-p99` is then 255 characters, CloudWatch's limit.
    "243-character API name": {"api.name": "a" * 243},
    "project that only resembles a reserved start": {"project": "xn-shop", "env": "sthree"},
    "multi-Region KMS key": {
        "functions.hello.secrets": {"db": "/dev/db"},
        "functions.hello.secrets_kms_key_arn": (
            "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
        ),
    },
    "1017-byte state key": {
        "backend.type": "s3",
        "backend.bucket": "tf-state",
        "backend.key": "k" * 1017,
    },
    "reserved prefix without access logs": {
        "load_balancer.name": "xn--alb",
        "load_balancer.access_logs": False,
    },
    "six parameters off the load balancer": new_routes(
        [{**route("GET", "/a/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}"), "load_balancer": False}]
    ),
    "five parameters on the load balancer": new_routes(
        [{**route("ANY", "/a/{p1}/{p2}/{p3}/{p4}/{p5}"), **PUBLIC_ON_LOAD_BALANCER}]
    ),
    # 42 x 7 + 6 resources.
    "300 API resources": new_routes(
        [route("GET", f"/p{n}/a/b/c/d/e/f") for n in range(42)] + [route("GET", "/q/a/b/c/d/e")]
    ),
    "60 routes to one function": new_routes([route("GET", f"/r{n}") for n in range(60)]),
    # Ten alarms stop its releases: its own three, six for its routes, its target group's
    # (so many routes of one shape on the load balancer need their own priorities).
    "60 public routes to one function": new_routes(
        [{**route("GET", f"/{n}"), **PUBLIC_ON_LOAD_BALANCER, "priority": n + 1} for n in range(60)]
    ),
    "25 long object keys": {
        "functions.hello.grants.buckets.assets.read": [f"{n:02}" + "k" * 248 for n in range(25)]
    },
    "SnapStart on python3.12 and python3.13": {
        "functions.hello.snap_start": True,
        "functions.hello.runtime": "python3.12",
        "functions.escape.snap_start": True,
    },
    "provisioned concurrency filling the pool": {
        "functions.hello.provisioned_concurrency": 450,
        "functions.escape.provisioned_concurrency": 450,
    },
}


@pytest.mark.parametrize("changes", ACCEPTED_BY_AWS.values(), ids=list(ACCEPTED_BY_AWS))
def test_values_aws_accepts_pass(tmp_path, changes):
    load_config(write_config(tmp_path, dev_with(changes)))


@pytest.mark.parametrize(("changes", "location", "fragment"), RULES)
def test_rule_reports_the_key_and_the_value(tmp_path, changes, location, fragment):
    path = write_config(tmp_path, dev_with(changes))
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: {location}: "), problems[0]
    assert fragment in problems[0]


def test_secrets_too_long_for_the_role_are_too_long_for_the_environment_too(tmp_path):
    """Both rules read the secrets; each reports its own limit (neither hides the other)."""
    secrets = {f"s{n}": f"/{n:02}" + "p" * 600 for n in range(15)}
    path = write_config(tmp_path, dev_with({"functions.hello.secrets": secrets}))
    [role, environment] = problems_of(path)
    assert role.startswith(f"{path}: functions.hello.secrets: its role's inline policies")
    assert "IAM allows 10,240 characters per role" in role
    assert environment.startswith(
        f"{path}: functions.hello.environment: keys and values total more than Lambda's 4096 bytes"
    )


def test_subnets_may_name_their_zones_by_az_id(tmp_path):
    zones = {
        "vpc.public_subnets.a.az": "use1-az1",
        "vpc.public_subnets.b.az": "use1-az6",
        "vpc.private_subnets.a.az": "use1-az1",
        "vpc.private_subnets.b.az": "use1-az6",
    }
    config = load_config(write_config(tmp_path, dev_with(zones)))
    assert {subnet.az for _, _, subnet in config.vpc.subnets()} == {"use1-az1", "use1-az6"}


@pytest.mark.parametrize("account", [10, 50, 99])
def test_small_account_quotas_are_accepted_without_reservations(tmp_path, account):
    config = load_config(write_config(tmp_path, dev_with({"account_concurrency": account})))
    assert config.account_concurrency == account


def test_problem_line_has_file_key_message_and_value(tmp_path):
    path = write_config(tmp_path, dev_with({"functions.hello.memory_mb": 64}))
    assert problems_of(path) == [
        f"{path}: functions.hello.memory_mb: Input should be greater than or equal to 128 "
        "(given: 64)"
    ]


def test_a_requirement_without_a_value_shows_no_value(tmp_path):
    path = write_config(tmp_path, dev_with({"backend.type": "s3"}))
    assert problems_of(path) == [f'{path}: backend.bucket: required with type = "s3"']


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    changes = {
        "region": "mars-1",
        "tags.aws:x": "1",
        "vpc.cidr": "10.0.0.0/8",
        "functions.hello.runtime": "python2.7",
        "functions.hello.environment.AWS_REGION": "x",
        "routes.0.path": "a/b",
        "tables.requests.name": "x",
        "logs.retention_days": 2,
    }
    problems = problems_of(write_config(tmp_path, dev_with(changes)))
    reported = [line.split(": ")[1] for line in problems]
    assert reported == [
        "region",
        "tags.aws:x",
        "vpc.cidr",
        "tables.requests.name",
        "functions.hello.runtime",
        "functions.hello.environment.AWS_REGION",
        "routes[0].path",
        "logs.retention_days",
    ]


def test_network_rules_report_every_broken_subnet(tmp_path):
    changes = {
        "vpc.nat_gateways": "one_per_az",
        "vpc.public_subnets.b.cidr": "10.7.2.0/24",
        "vpc.private_subnets.b.cidr": "10.0.11.0/24",
        "vpc.private_subnets.c": {"cidr": "10.0.13.0/24", "az": "us-east-1c"},
    }
    problems = problems_of(write_config(tmp_path, dev_with(changes)))
    assert [line.split(": ")[1] for line in problems] == [
        "vpc.public_subnets.b.cidr",  # outside the VPC
        "vpc.private_subnets.b.cidr",  # overlaps private a
        "vpc.private_subnets.c.az",  # no public subnet for its NAT gateway
    ]


def test_toml_syntax_error_names_the_file_and_the_line(tmp_path):
    path = write(tmp_path, 'env = "qa"\n[functions.hello]\nmemory_mb = = 5\n')
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: invalid TOML: ")
    assert "line 3" in problem


def test_a_key_twice_in_one_table_is_a_toml_error(tmp_path):
    text = 'env = "qa"\n[vpc.public_subnets]\na = { cidr = "10.0.1.0/24", az = "us-east-1a" }\n'
    (problem,) = problems_of(
        write(tmp_path, text + 'a = { cidr = "10.0.2.0/24", az = "us-east-1b" }\n')
    )
    assert "invalid TOML" in problem and "line 4" in problem


def test_shipped_configs_load_in_name_order():
    loaded = load_configs(CONFIG_DIR)
    files = sorted(CONFIG_DIR.glob("*.toml"))
    assert [path for path, _ in loaded] == files
    assert [config.env for _, config in loaded] == list(ENVIRONMENTS)


# A short file: everything but project, env, functions and routes is left out.
SHORT = 'project = "shop"\nenv = "qa"\nregion = "eu-west-1"\n' + ONE_FUNCTION


def test_short_file_gets_defaults_derived_from_project_and_env(tmp_path):
    config = load_config(write(tmp_path, SHORT + '[functions.api-v2]\nsource_dir = "lambda"\n'))
    assert {key: function.name for key, function in config.functions.items()} == {
        "hello": "shop-qa-hello",
        "api-v2": "shop-qa-api-v2",
    }
    hello = config.functions["hello"]
    assert (hello.handler, hello.runtime, hello.architecture) == (
        "app.handler",
        "python3.13",
        "x86_64",
    )
    assert hello.dependencies is None and hello.dependencies_path is None
    # No table, no bucket, no grant: valid.
    assert hello.grants.model_dump() == {"tables": {}, "buckets": {}, "queues": {}, "topics": {}}
    assert config.tables == {} and config.buckets == {}
    assert config.queues == {} and config.topics == {} and config.triggers == []
    [route] = config.routes
    # AWS_IAM by default, and so not on the load balancer, which cannot check it.
    assert (route.authorization, route.load_balancer, route.priority) == ("AWS_IAM", False, None)
    assert config.account_concurrency == 1000
    assert config.load_balancer.name == "shop-qa"
    assert (config.api.name, config.api.stage_name) == ("shop-qa", "qa")
    assert config.s3.bucket_prefix == "shop-qa-artifacts-"
    assert config.s3.bucket_name is None
    assert config.alarms.topic_name == "shop-qa-alarms"
    assert {s.az for s in config.vpc.public_subnets.values()} == {"eu-west-1a", "eu-west-1b"}
    assert {s.az for s in config.vpc.private_subnets.values()} == {"eu-west-1a", "eu-west-1b"}
    assert config.vpc.nat_gateways == "single"
    assert config.backend.type == "local" and config.backend.key is None


def test_declared_tables_and_buckets_get_defaults_and_names_from_project_env_and_key(tmp_path):
    text = SHORT + (
        '[tables.order-items]\npartition_key = { name = "order", type = "S" }\n'
        '[tables.named]\nname = "Legacy.Table_1"\npartition_key = { name = "id", type = "N" }\n'
        "[buckets.uploads]\n"
        '[functions.hello.grants]\ntables = { order-items = "read_write" }\n'
        'buckets = { uploads = "write" }\n'
    )
    config = load_config(write(tmp_path, text))
    orders, named = config.tables["order-items"], config.tables["named"]
    assert (orders.name, named.name) == ("shop-qa-order-items", "Legacy.Table_1")
    assert (orders.sort_key, orders.ttl_attribute, orders.stream) == (None, None, None)
    assert (orders.point_in_time_recovery, orders.deletion_protection) == (True, False)
    uploads = config.buckets["uploads"]
    assert uploads.model_dump() == {
        "name": None,
        "versioning": True,
        "noncurrent_version_expiration_days": 30,
        "expiration_days": None,
        "lifecycle": [],
        "objects": {},
    }
    # A verb on a bucket is every object.
    grants = config.functions["hello"].grants
    assert grants.buckets["uploads"].model_dump() == {"read": [], "write": ["*"]}
    assert function_variables(config, "hello") == {
        "TABLE_ORDER_ITEMS_NAME": "shop-qa-order-items",
        # Terraform completes the prefix shop-qa-uploads- with 26 characters: a stand-in.
        "BUCKET_UPLOADS_NAME": "x" * 42,
    }


@pytest.mark.parametrize(
    ("route_settings", "on_load_balancer"),
    [
        ({}, False),
        ({"authorization": "AWS_IAM"}, False),
        ({"authorization": "NONE"}, True),
        ({"authorization": "NONE", "load_balancer": False}, False),
        ({"authorization": "AWS_IAM", "load_balancer": False}, False),
    ],
    ids=["default", "AWS_IAM", "NONE", "NONE kept off", "AWS_IAM kept off"],
)
def test_only_public_routes_go_on_the_load_balancer_by_default(
    tmp_path, route_settings, on_load_balancer
):
    routes = [{**A_ROUTE, **route_settings}]
    config = load_config(write_config(tmp_path, dev_with(new_routes(routes))))
    assert config.routes[0].load_balancer is on_load_balancer


def test_a_given_priority_is_kept_and_refused_on_a_route_off_the_load_balancer(tmp_path):
    routes = [
        {**A_ROUTE, "authorization": "NONE", "priority": 50000},
        # Not a listener rule: a priority would silently mean nothing.
        {**A_ROUTE, "path": "/a", "priority": 50000},
    ]
    path = write_config(tmp_path, dev_with(new_routes(routes)))
    assert problems_of(path) == [
        f"{path}: routes[1].priority: only used for a route on the load balancer "
        "(load_balancer = true) (given: 50000)"
    ]
    config = load_config(write_config(tmp_path, dev_with(new_routes(routes[:1])), "one.toml"))
    assert [(r.load_balancer, r.priority) for r in config.routes] == [(True, 50000)]


def colliding_paths() -> tuple[str, str]:
    """Two GET paths whose derived listener priorities are equal: within a class of routes the
    place is a hash, so some pairs collide (found by search, whatever the hash)."""
    from constructs_lib.paths import listener_priority

    seen: dict[int, str] = {}
    for number in itertools.count():
        path = f"/r{number}"
        priority = listener_priority("GET", path)
        if priority in seen:
            return seen[priority], path
        seen[priority] = path
    raise AssertionError("unreachable")


def test_two_derived_priorities_that_collide_are_refused_until_one_is_given(tmp_path):
    first, second = colliding_paths()
    public = {"function": "hello", "method": "GET", "authorization": "NONE"}
    routes: list[dict[str, Any]] = [A_ROUTE, {**public, "path": first}, {**public, "path": second}]
    path = write_config(tmp_path, dev_with(new_routes(routes)))
    [problem] = problems_of(path)
    found = re.fullmatch(
        re.escape(f"{path}: routes[2].priority: listener priority ")
        + r"(\d+)"
        + re.escape(f" is also that of routes[1] (GET {first}): set priority = ")
        + r"(\d+)"
        + re.escape(" on this route (unused, next to it in the load balancer's order)"),
        problem,
    )
    assert found, problem
    shared, suggested = (int(number) for number in found.groups())
    # The suggestion is the next number: free, and between the same neighbours in the order.
    assert suggested == shared + 1
    suggestion = [*routes[:2], {**routes[2], "priority": suggested}]
    load_config(write_config(tmp_path, dev_with(new_routes(suggestion)), "suggested.toml"))
    # Signed, the two are not on the load balancer: nothing to collide.
    signed = [
        A_ROUTE,
        {**routes[1], "authorization": "AWS_IAM"},
        {**routes[2], "authorization": "AWS_IAM"},
    ]
    load_config(write_config(tmp_path, dev_with(new_routes(signed)), "signed.toml"))
    routes[2] = {**routes[2], "priority": 1}
    config = load_config(write_config(tmp_path, dev_with(new_routes(routes)), "given.toml"))
    assert config.routes[2].priority == 1


def test_s3_backend_defaults_come_from_project_env_and_region(tmp_path):
    text = SHORT + '[backend]\ntype = "s3"\nbucket = "tf-state"\n'
    backend = load_config(write(tmp_path, text)).backend
    assert (backend.key, backend.region) == ("shop/qa/terraform.tfstate", "eu-west-1")


def test_derived_names_are_checked_too(tmp_path):
    path = write(tmp_path, 'project = "internal"\nenv = "qa"\n' + ONE_FUNCTION)
    assert problems_of(path) == [
        f"{path}: load_balancer.name: must be 1-30 lowercase letters, digits or hyphens, not "
        "starting or ending with a hyphen nor starting with 'internal-' (each function's target "
        "group '<name>-<function key>' must fit 32; it also prefixes the access-log bucket) "
        "(given: 'internal-qa')"
    ]


@pytest.mark.parametrize(
    ("names", "reported"),
    [
        ('project = "shop"\nenv = "Dev_1"\n', ["env"]),
        ('project = "Shop_1"\nenv = "qa"\n', ["project"]),
        ('env = "qa"\n', ["project"]),
        ('project = "shop"\n', ["env"]),
    ],
    ids=["bad env", "bad project", "no project", "no env"],
)
def test_a_bad_name_part_is_reported_once_not_through_every_derived_name(tmp_path, names, reported):
    # Two functions: names that could not be derived must not be reported as equal either.
    text = names + ONE_FUNCTION + '[functions.other]\nsource_dir = "lambda"\n'
    path = write(tmp_path, text)
    assert [line.split(": ")[1] for line in problems_of(path)] == reported


def test_the_longest_name_prefix_gives_valid_derived_names(tmp_path):
    # 20 + "-" + 5 = 26: the most the artifacts bucket's prefix leaves room for.
    project, env = "p" * 20, "e" * 5
    config = load_config(write(tmp_path, f'project = "{project}"\nenv = "{env}"\n' + ONE_FUNCTION))
    assert config.s3.bucket_prefix == f"{project}-{env}-artifacts-"
    # Terraform appends 26 characters: S3's 63 exactly.
    assert len(config.s3.bucket_prefix) + 26 == 63
    assert config.functions["hello"].name == f"{project}-{env}-hello"
    assert config.load_balancer.name == config.api.name == f"{project}-{env}"


def test_long_timeout_is_a_warning_not_an_error(tmp_path):
    path = write_config(tmp_path, dev_with({"functions.hello.timeout_s": 60}))
    assert config_warnings(path, load_config(path)) == [
        f"{path}: functions.hello.timeout_s: warning: API Gateway stops waiting after 29 s: "
        "callers get a 504 while the function keeps running (given: 60)"
    ]
    assert config_warnings(path, load_config(write_config(tmp_path, dev_with({}), "ok.toml"))) == []


def test_a_long_timeout_without_a_route_is_no_warning(tmp_path):
    worker = {"source_dir": "lambda", "timeout_s": 900}
    path = write_config(tmp_path, dev_with({"functions.worker": worker}))
    assert config_warnings(path, load_config(path)) == []


def test_route_parameters_and_the_routes_of_a_function(tmp_path):
    routes = [
        {"method": "GET", "path": "/hello", "function": "hello"},
        {"method": "ANY", "path": "/items/{id}/files/{path+}", "function": "hello"},
        {"method": "POST", "path": "/", "function": "other"},
    ]
    other = {"source_dir": "functions/hello_deps", "dependencies": DEPENDENCIES}
    config = load_config(
        write_config(tmp_path, dev_with({**new_routes(routes), "functions.other": other}))
    )
    assert [route.parameters for route in config.routes] == [[], ["id", "path"], []]
    assert [route.path for route in config.routes_of("hello")] == [
        "/hello",
        "/items/{id}/files/{path+}",
    ]
    assert config.functions["other"].dependencies_path == REPO_ROOT / DEPENDENCIES
    assert config.functions["other"].source_path == REPO_ROOT / "functions" / "hello_deps"


@pytest.mark.parametrize(
    "paths",
    [
        ["/a/{id}", "/a/b"],  # a literal next to a parameter: API Gateway prefers the literal
        ["/a/{id}", "/a/{id}/b", "/a/{id}/{rest+}"],
        ["/", "/{proxy+}"],
        ["/a/{id}", "/b/{name}"],
    ],
)
def test_routes_that_api_gateway_tells_apart_pass(tmp_path, paths):
    routes = [{"method": "GET", "path": path, "function": "hello"} for path in paths]
    config = load_config(write_config(tmp_path, dev_with(new_routes(routes))))
    assert len(config.routes) == len(paths)


def test_the_same_path_with_other_methods_passes(tmp_path):
    routes = [{"method": m, "path": "/items/{id}", "function": "hello"} for m in ("GET", "PUT")]
    assert len(load_config(write_config(tmp_path, dev_with(new_routes(routes)))).routes) == 2


def test_every_route_problem_is_reported_at_once(tmp_path):
    routes = [
        {"method": "GET", "path": "/hello", "function": "hello"},
        {"method": "GET", "path": "/hello", "function": "hello"},
        {"method": "GET", "path": "/x", "function": "nope"},
        {"method": "GET", "path": "/a/{id}", "function": "hello"},
        {"method": "PUT", "path": "/a/{name}", "function": "hello"},
    ]
    problems = problems_of(write_config(tmp_path, dev_with(new_routes(routes))))
    assert [line.split(": ")[1] for line in problems] == [
        "routes[2].function",
        "routes[1].path",
        "routes[4].path",
    ]


def test_every_function_problem_is_reported_at_once(tmp_path):
    changes = {
        "load_balancer.name": "a" * 27,
        "functions.other": {
            "source_dir": "lambda",
            "name": f"{DEV_PREFIX}-hello",
            "reserved_concurrency": 950,
        },
        "functions.hello.dependencies": "functions/hello_deps/app.py",
        "functions.hello.handler": "app.missing",
    }
    problems = problems_of(write_config(tmp_path, dev_with(changes)))
    assert [line.split(": ")[1] for line in problems] == [
        "functions.hello.handler",
        "functions.hello.dependencies",
        # The routes' own check runs beside the functions': escape's target group
        # 'aaa...-escape' is 27 + 7 characters.
        "routes[1].function",
    ]
    del changes["functions.hello.dependencies"], changes["functions.hello.handler"]
    problems = problems_of(write_config(tmp_path, dev_with(changes)))
    assert [line.split(": ")[1] for line in problems] == [
        "functions.other.name",
        "functions.other.reserved_concurrency",
        # escape's target group 'aaa...-escape' is 27 + 7 characters; hello and other have no
        # public route, so no target group.
        "routes[1].function",
    ]


def test_problems_of_all_files_are_collected(tmp_path):
    write(tmp_path, "x = 1\n", "a.toml")
    write(tmp_path, "y = 1\n", "b.toml")
    with pytest.raises(ConfigError) as error:
        load_configs(tmp_path)
    assert {p.split(":")[0] for p in error.value.problems} == {
        str(tmp_path / "a.toml"),
        str(tmp_path / "b.toml"),
    }


def test_a_copy_of_dev_with_only_env_changed_passes_check_next_to_dev(tmp_path):
    """The README's recipe: every name is derived from project and env."""
    dev = (CONFIG_DIR / "dev.toml").read_text()
    assert dev.count('\nenv = "dev"') == 1
    (tmp_path / "dev.toml").write_text(dev)
    (tmp_path / "staging.toml").write_text(dev.replace('\nenv = "dev"', '\nenv = "staging"'))
    result = run_check("--config", str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    assert (
        result.stdout
        == f"{tmp_path / 'dev.toml'}: dev ok\n{tmp_path / 'staging.toml'}: staging ok\n"
    )


def test_one_name_prefix_in_two_files_clashes_on_every_derived_name(tmp_path):
    """`a-b` + `c` and `a` + `b-c` are two environments with one prefix, `a-b-c`: every name
    derived from it is reported, each naming the other file and its key."""
    first = write_config(tmp_path, dev_with({"project": "a-b", "env": "c"}), "a.toml")
    second = write_config(tmp_path, dev_with({"project": "a", "env": "b-c"}), "b.toml")
    loaded, problems = validate_configs(tmp_path)
    assert [path for path, _ in loaded] == [first]
    assert sorted(problems) == sorted(
        f"{second}: {key}: {kind} also used by {first} ({key}); environments must differ "
        f"(given: {value!r})"
        for key, kind, value in [
            ("project", "name prefix", "a-b-c"),
            ("api.name", "API name", "a-b-c"),
            ("alarms.topic_name", "alarm topic", "a-b-c-alarms"),
            ("functions.hello.name", "function name", "a-b-c-hello"),
            ("functions.escape.name", "function name", "a-b-c-escape"),
            ("tables.requests.name", "table name", "a-b-c-requests"),
            ("s3.bucket_prefix", "bucket prefix", "a-b-c-artifacts-"),
            ("load_balancer.name", "load balancer name", "a-b-c"),
        ]
    )


S3_STATE = {"backend.type": "s3", "backend.bucket": "tf-state", "backend.key": "state"}
A_DOMAIN = {"domain": {"name": "api.example.com", "hosted_zone_id": "Z1"}}
# (reported key, what the message calls it, the first file's key, changes to both files,
# changes to the second file only); the second file is dev with env "qa" besides.
CLASHES = [
    # Another project's dev: only the stack name is shared.
    ("env", "env", "env", {}, {"project": "other", "env": "dev"}),
    ("api.name", "API name", "api.name", {"api.name": "shared-api"}, {}),
    ("api.name", "API name", "api.name", {}, {"api.name": DEV_PREFIX}),
    (
        "alarms.topic_name",
        "alarm topic",
        "alarms.topic_name",
        {},
        {"alarms.topic_name": f"{DEV_PREFIX}-alarms"},
    ),
    (
        "domain.name",
        "custom domain",
        "domain.name",
        A_DOMAIN,
        {"domain": {**A_DOMAIN["domain"], "load_balancer_name": "alb.qa.example.com"}},
    ),
    # The load balancer's name (default `alb.<domain.name>`) is a host name of the zone too.
    (
        "domain.load_balancer_name",
        "custom domain",
        "domain.load_balancer_name",
        A_DOMAIN,
        {
            "domain": {
                **A_DOMAIN["domain"],
                "name": "qa.example.com",
                "load_balancer_name": "alb.api.example.com",
            }
        },
    ),
    (
        "domain.name",
        "custom domain",
        "domain.load_balancer_name",
        A_DOMAIN,
        {"domain": {**A_DOMAIN["domain"], "name": "alb.api.example.com"}},
    ),
    (
        "functions.hello.name",
        "function name",
        "functions.hello.name",
        {},
        {"functions.hello.name": f"{DEV_PREFIX}-hello"},
    ),
    # Every function's name, whichever function of the other file has it.
    (
        "functions.other.name",
        "function name",
        "functions.hello.name",
        {},
        {"functions.other": {"source_dir": "lambda", "name": f"{DEV_PREFIX}-hello"}},
    ),
    (
        "functions.hello.name",
        "function name",
        "functions.other.name",
        {"functions.other": {"source_dir": "lambda"}},
        {"functions.hello.name": f"{DEV_PREFIX}-other"},
    ),
    (
        "tables.requests.name",
        "table name",
        "tables.requests.name",
        {},
        {"tables.requests.name": f"{DEV_PREFIX}-requests"},
    ),
    (
        "buckets.assets.name",
        "bucket name",
        "buckets.assets.name",
        {"buckets.assets.name": "shared-assets"},
        {},
    ),
    ("s3.bucket_name", "bucket name", "s3.bucket_name", {"s3.bucket_name": "shared-code"}, {}),
    (
        "s3.bucket_prefix",
        "bucket prefix",
        "s3.bucket_prefix",
        {},
        {"s3.bucket_prefix": f"{DEV_PREFIX}-artifacts-"},
    ),
    (
        "load_balancer.name",
        "load balancer name",
        "load_balancer.name",
        {},
        {"load_balancer.name": DEV_PREFIX},
    ),
    ("backend.key", "state object", "backend.key", S3_STATE, {}),
]


@pytest.mark.parametrize(
    ("location", "kind", "other_key", "both", "second_only"),
    CLASHES,
    ids=[f"{c[0]}-{n}" for n, c in enumerate(CLASHES)],
)
def test_two_environments_may_not_share_a_name(
    tmp_path, location, kind, other_key, both, second_only
):
    first = write_config(tmp_path, dev_with(both), "a.toml")
    second = write_config(tmp_path, dev_with({"env": "qa", **both, **second_only}), "b.toml")
    loaded, problems = validate_configs(tmp_path)
    assert [path for path, _ in loaded] == [first]
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        f"{second}: {location}: {kind} also used by {first} ({other_key}); "
        "environments must differ (given: "
    ), problems[0]


def test_environments_with_names_of_their_own_pass(tmp_path):
    write_config(tmp_path, dev_with(S3_STATE), "a.toml")
    write_config(tmp_path, dev_with({"env": "qa", **S3_STATE, "backend.key": "qa"}), "b.toml")
    loaded, problems = validate_configs(tmp_path)
    assert (len(loaded), problems) == (2, [])


def test_region_list_matches_botocore():
    """The static list in config.py (no botocore at run time) against the installed botocore."""

    partitions = json.loads((Path(botocore.__file__).parent / "data/partitions.json").read_text())
    regions = {
        region
        for partition in partitions["partitions"]
        if partition["id"] in ("aws", "aws-us-gov", "aws-cn")
        for region in partition["regions"]
        if not region.endswith("-global")
    }
    assert regions == AWS_REGIONS


def test_availability_zones_cover_every_region_and_every_zone_moto_knows():
    """moto's zone names are real ones; the static table must know each (and every region)."""
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    assert set(AVAILABILITY_ZONE_LETTERS) == AWS_REGIONS
    missing = [
        zone.name
        for region, zones in RegionsAndZonesBackend.zones.items()
        if region in AWS_REGIONS
        for zone in zones
        if zone.name not in zones_of(region)
    ]
    assert missing == []


def test_az_id_prefixes_match_every_zone_id_moto_knows():
    """moto's zone ids are real ones (use1-az6 is us-east-1's): the derived prefix of each
    region must be theirs, and every one of them must pass the region check."""
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    known = {
        region: {zone.zone_id for zone in zones}
        for region, zones in RegionsAndZonesBackend.zones.items()
        if region in AWS_REGIONS
    }
    assert len(known) > 30
    refused = {
        zone_id: zone_id_region_problem(zone_id, region)
        for region, zone_ids in known.items()
        for zone_id in zone_ids
        if zone_id_region_problem(zone_id, region) is not None
    }
    assert refused == {}
    # ... and none of them passes for another region.
    assert zone_id_region_problem("use1-az1", "us-east-2") is not None
    assert zone_id_region_problem("apne1-az1", "ap-northeast-2") is not None


def test_ssl_policies_include_every_policy_moto_knows():
    from moto.elbv2.ssl_policies import SSL_POLICIES

    assert set(SSL_POLICIES) - ALB_SSL_POLICIES == set()


def test_the_stack_sets_the_variables_the_size_rule_counts():
    config = load_config(CONFIG_DIR / "dev.toml")
    synthesized = synth_config(config)
    for key, function in config.functions.items():
        [resource] = [
            body
            for body in synthesized["resource"]["aws_lambda_function"].values()
            if body["function_name"] == function.name
        ]
        variables = resource.get("environment", {"variables": {}})["variables"]
        added = set(variables) - set(function.environment)
        assert added == set(function_variables(config, key))
    assert set(function_variables(config, "hello")) == {"TABLE_REQUESTS_NAME", "BUCKET_ASSETS_NAME"}
    assert function_variables(config, "escape") == {}


DEPENDENCIES = "functions/hello_deps/requirements.txt"


def test_the_largest_accepted_values_pass(tmp_path):
    changes = {
        "functions.hello.memory_mb": 10240,
        "functions.hello.timeout_s": 900,
        "functions.hello.reserved_concurrency": 900,
        "functions.hello.provisioned_concurrency": 900,
        "api.throttling_rate_limit": 10000.0,
        "api.throttling_burst_limit": 5000,
        "s3.noncurrent_version_expiration_days": 2**31 - 1,
        # With LOG_LEVEL and the stack's 98 bytes: 4096 exactly. The stack's: TABLE_REQUESTS_NAME
        # and hello-dev-requests, BUCKET_ASSETS_NAME and 17 + 26 characters.
        "functions.hello.environment.NOTES": "n" * (4096 - 14 - 98 - 5),
    }
    config = load_config(write_config(tmp_path, dev_with(changes)))
    assert environment_bytes(config, "hello") == 4096


def test_a_handler_bound_by_assignment_or_import_is_found(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text("from os import getcwd as handler\nasync def other(): pass\n")
    for handler in ("app.handler", "app.other"):
        changes = {"functions.hello.source_dir": str(source), "functions.hello.handler": handler}
        config = load_config(write_config(tmp_path, dev_with(changes)))
        assert config.functions["hello"].handler == handler


def run_check(*args: str, command_prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*command_prefix, sys.executable, "main.py", "--check", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a config file that blocks the run fails the test instead of hanging it
    )


def symlink_loop(tmp_path: Path) -> Path:
    loop = tmp_path / "loop.toml"
    loop.symlink_to(tmp_path / "other.toml")
    (tmp_path / "other.toml").symlink_to(loop)
    return loop


def with_bom(tmp_path: Path) -> Path:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (CONFIG_DIR / "dev.toml").read_bytes())
    return path


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "x.toml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (symlink_loop, "cannot read: Too many levels of symbolic links"),
        (with_bom, "starts with a byte order mark (BOM), which TOML does not allow"),
        (fifo, "not a regular file"),
    ],
    ids=["symlink loop", "BOM", "FIFO"],
)
def test_a_bad_config_file_is_one_line_naming_it(tmp_path, make, message):
    path = make(tmp_path)
    result = run_check("--config", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}: {message}")
    assert result.stderr.count("\n") == 1, result.stderr


def test_a_fifo_in_a_config_folder_is_reported_not_waited_for(tmp_path):
    fifo(tmp_path)
    shutil.copy(CONFIG_DIR / "dev.toml", tmp_path / "dev.toml")
    result = run_check("--config", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == f"{tmp_path / 'x.toml'}: not a regular file\n"
    assert result.stdout == f"{tmp_path / 'dev.toml'}: dev ok\n"


def test_an_unreadable_config_folder_says_so(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(CONFIG_DIR / "dev.toml", folder / "dev.toml")
    folder.chmod(0)
    try:
        result = subprocess.run(
            unprivileged([sys.executable, "main.py", "--check", "--config", str(folder)]),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
    finally:
        folder.chmod(0o755)
    assert (result.returncode, result.stderr) == (
        2,
        f"{folder}: cannot read the folder: Permission denied\n",
    )


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]
)
def test_china_and_govcloud_regions_are_refused_with_a_reason(tmp_path, region, partition):
    path = write(tmp_path, f'project = "t"\nenv = "x"\nregion = "{region}"\n' + ONE_FUNCTION)
    assert problems_of(path) == [
        f"{path}: region: the {partition} partition is not supported (service principals and "
        f"WAF managed rules differ there); use a region of the aws partition (given: '{region}')"
    ]


SHIPPED_FUNCTIONS = {"dev": ["hello", "escape"], "prod": ["hello"]}


def test_reserved_concurrency_is_opt_in_in_the_shipped_files():
    for env, keys in SHIPPED_FUNCTIONS.items():
        config = load_config(CONFIG_DIR / f"{env}.toml")
        assert {k: f.reserved_concurrency for k, f in config.functions.items()} == dict.fromkeys(
            keys
        )
        assert config.account_concurrency == 1000


def test_the_shipped_functions_and_routes_in_the_new_shape():
    for env, keys in SHIPPED_FUNCTIONS.items():
        path = CONFIG_DIR / f"{env}.toml"
        config = load_config(path)
        prefix = name_prefix(path)
        assert list(config.functions) == keys
        hello = config.functions["hello"]
        assert (hello.name, hello.source_path, hello.architecture) == (
            f"{prefix}-hello",
            REPO_ROOT / "lambda",
            "x86_64",
        )
        assert hello.grants.model_dump() == {
            "tables": {"requests": "write"},
            "buckets": {"assets": {"read": ["greeting.txt"], "write": []}},
            "queues": {},
            "topics": {},
        }
        assert target_group_name(config, "hello") == f"{prefix}-hello"
        # Signed callers only, so on the API alone.
        hello_route = {
            "method": "GET",
            "path": "/hello",
            "function": "hello",
            "authorization": "AWS_IAM",
            "load_balancer": False,
            "priority": None,
        }
        if env == "prod":
            assert [route.model_dump() for route in config.routes] == [hello_route]
            continue
        escape = config.functions["escape"]
        # Named after project, env and key; MarkupSafe for Graviton; no grants at all.
        assert (escape.name, escape.source_path, escape.architecture) == (
            f"{prefix}-escape",
            REPO_ROOT / "functions" / "hello_deps",
            "arm64",
        )
        assert escape.dependencies_path == REPO_ROOT / "functions/hello_deps/requirements.txt"
        assert escape.grants.model_dump() == {"tables": {}, "buckets": {}}
        assert target_group_name(config, "escape") == f"{prefix}-escape"
        # Public, so on the API and the load balancer.
        public = {
            **hello_route,
            "function": "escape",
            "authorization": "NONE",
            "load_balancer": True,
        }
        assert [route.model_dump() for route in config.routes] == [
            hello_route,
            {**public, "path": "/escape"},
            {**public, "path": "/escape/{name}"},
        ]


def test_bootstrap_refuses_the_placeholder_bucket_name(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_config(CONFIG_DIR / "bootstrap" / "state.toml", BootstrapConfig)
    [line] = error.value.problems
    assert line.endswith(
        "state.toml: bucket_name: is the shipped placeholder: set a globally unique bucket "
        "name of yours (given: 'example-org-terraform-state')"
    )


@pytest.mark.parametrize(
    ("region", "refused"), [("ap-east-2", True), ("ap-southeast-6", True), ("eu-west-1", False)]
)
def test_snap_start_is_refused_where_aws_does_not_offer_it(tmp_path, region, refused):
    path = tmp_path / "qa.toml"
    path.write_text(
        f'project = "t"\nenv = "qa"\nregion = "{region}"\n'
        '[functions.hello]\nsource_dir = "lambda"\nsnap_start = true\n'
        '[[routes]]\nmethod = "GET"\npath = "/hello"\nfunction = "hello"\n'
    )
    if not refused:
        assert load_config(path).functions["hello"].snap_start is True
        return
    assert problems_of(path) == [
        f"{path}: functions.hello.snap_start: SnapStart is not offered in {region} (given: True)"
    ]
