"""Rules across keys run whenever the keys they read are valid: a broken key elsewhere in the
file, or in the same table, hides none of them, whatever order the keys come in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from serverless_app.config import ConfigError, StackConfig, StrictModel, load_config
from serverless_app.config.backend import S3State
from serverless_app.config.base import rule
from tests.terraform_cycle import toml_text
from tests.test_config import DELETE
from tests.test_config import dev_with as dev_changed

ROUTE = {"method": "GET", "path": "/hello", "function": "hello"}


def dev_with(changes: dict[str, Any]) -> dict[str, Any]:
    """dev.toml with `changes` ({"table.key": value}) applied; new routes replace dev's, and
    the WAF's markup paths that name dev's go with them."""
    markup_paths = {"waf.markup_paths": DELETE} if "routes" in changes else {}
    return dev_changed({**markup_paths, **changes})


def written(tmp_path: Path, data: dict[str, Any]) -> Path:
    """`data` as the environment file tmp_path/env.toml."""
    path = tmp_path / "env.toml"
    path.write_text(toml_text(data))
    return path


def loaded(tmp_path: Path, data: dict[str, Any]) -> StackConfig:
    return load_config(written(tmp_path, data))


def problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    path = written(tmp_path, data)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    prefix = f"{path}: "
    assert all(line.startswith(prefix) for line in error.value.problems)
    return [line.removeprefix(prefix) for line in error.value.problems]


def assert_one_problem(tmp_path: Path, data: dict[str, Any], key: str, message: str) -> None:
    """The file has exactly one problem, on `key`, and its line says `message`."""
    lines = problems(tmp_path, data)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{key}: "), lines
    assert message in lines[0], lines


# Two independent problems, in the order of the keys in the model: before, a rule across keys
# was never checked while another key of its table (or of the file) was broken.
TWO_PROBLEMS = {
    "a bad tag key and an alarm window the release cannot watch": (
        {
            "tags.aws:team": "x",
            "alarms.evaluation_periods": 5,
            "releases.strategy": "Canary10Percent5Minutes",
        },
        [
            ("tags.aws:team", 'tag key must not start with "aws:"'),
            ("alarms.evaluation_periods", "exceeds the 300 s during which Canary10Percent5Minutes"),
        ],
    ),
    "a bad address and a period of no whole minutes, in one table": (
        {"alarms.email": ["oncall"], "alarms.period_s": 90},
        [
            ("alarms.email[0]", "must be an email address"),
            ("alarms.period_s", "must be a multiple of 60"),
        ],
    ),
    "two rules of one table": (
        {"alarms.period_s": 90, "alarms.datapoints_to_alarm": 4},
        [
            ("alarms.period_s", "must be a multiple of 60"),
            ("alarms.datapoints_to_alarm", "at most evaluation_periods"),
        ],
    ),
    "a TLS policy without HTTPS and a reserved access-log bucket prefix": (
        {"load_balancer.ssl_policy": "ELBSecurityPolicy-2016-08", "load_balancer.name": "xn--alb"},
        [
            ("load_balancer.ssl_policy", "only used with certificate_arn (HTTPS)"),
            ("load_balancer.name", "its access-log bucket prefix 'xn--alb-logs-'"),
        ],
    ),
    "two routes for one request and a route with too many wildcards": (
        {
            "routes": [
                ROUTE,
                ROUTE,
                {
                    "method": "GET",
                    "path": "/a/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}",
                    "function": "hello",
                    "authorization": "NONE",
                },
            ]
        },
        [
            ("routes[1].path", "GET /hello collides with routes[0] (GET /hello)"),
            ("routes[2].path", "6 path parameters, each a wildcard of the load balancer rule"),
        ],
    ),
    "a flow-log traffic type that does not exist and a subnet outside the network": (
        {
            "vpc.flow_logs": "yes",
            "vpc.private_subnets": {"a": {"cidr": "10.9.0.0/24", "az": "us-east-1a"}},
        },
        [
            ("vpc.private_subnets.a.cidr", "not inside vpc.cidr 10.0.0.0/16"),
            ("vpc.flow_logs", "Input should be 'ALL', 'ACCEPT', 'REJECT' or 'none'"),
        ],
    ),
    "too little memory and a handler module that is missing": (
        {"functions.hello.memory_mb": 64, "functions.hello.handler": "missing.handler"},
        [
            ("functions.hello.handler", "module not found: no missing.py in lambda"),
            ("functions.hello.memory_mb", "greater than or equal to 128"),
        ],
    ),
    # A rule whose own key is broken stays quiet (the zones are not checked against a region
    # that does not exist); the others still run.
    "an unknown region and an alarm window the release cannot watch": (
        {
            "region": "mars-east-1",
            "alarms.evaluation_periods": 5,
            "releases.strategy": "Canary10Percent5Minutes",
        },
        [
            ("region", "not an AWS region"),
            ("alarms.evaluation_periods", "exceeds the 300 s during which Canary10Percent5Minutes"),
        ],
    ),
}


@pytest.mark.parametrize("keys_order", ["as in dev.toml", "reversed"])
@pytest.mark.parametrize(("changes", "expected"), TWO_PROBLEMS.values(), ids=list(TWO_PROBLEMS))
def test_independent_problems_are_all_reported(tmp_path, changes, expected, keys_order):
    data = dev_with(changes)
    if keys_order == "reversed":
        data = dict(reversed(data.items()))
    lines = problems(tmp_path, data)
    assert [line.split(": ", 1)[0] for line in lines] == [location for location, _ in expected]
    for line, (_, fragment) in zip(lines, expected, strict=True):
        assert fragment in line


def test_a_rule_must_read_keys_of_its_table():
    with pytest.raises(TypeError, match="reads no such key"):

        class Table(StrictModel):
            size: int = 1

            @rule("size", "sise")
            def _size_rule(self):
                return iter(())


# The least a file needs, and a table: every name the stack uses is derived from project and env.
SHORT = (
    'project = "shop"\nenv = "qa"\nregion = "eu-west-1"\n'
    '[functions.hello]\nsource_dir = "lambda"\n'
    '[tables.orders]\npartition_key = { name = "id", type = "S" }\n'
    '[[routes]]\nmethod = "GET"\npath = "/hello"\nfunction = "hello"\n'
)


def test_the_stack_gets_every_name_resolved_and_nothing_it_can_change(tmp_path):
    path = tmp_path / "env.toml"
    path.write_text(SHORT)
    config = load_config(path)
    names = (
        config.load_balancer.name,
        config.api.name,
        config.api.stage_name,
        config.tables["orders"].name,
        config.alarms.topic_name,
        config.functions["hello"].name,
    )
    assert names == (
        "shop-qa",
        "shop-qa",
        "qa",
        "shop-qa-orders",
        "shop-qa-alarms",
        "shop-qa-hello",
    )
    with pytest.raises(ValidationError, match="frozen"):
        config.api.name = "other"
    with pytest.raises(ValidationError, match="frozen"):
        config.functions["hello"].memory_mb = 512


@pytest.mark.parametrize(
    ("backend", "state"),
    [
        ("", None),
        (
            '[backend]\ntype = "s3"\nbucket = "tf-state"\n',
            S3State("tf-state", "shop/qa/terraform.tfstate", "eu-west-1", True, True),
        ),
        (
            '[backend]\ntype = "s3"\nbucket = "tf-state"\nkey = "qa.tfstate"\n'
            'region = "us-east-2"\nencrypt = false\nuse_lockfile = false\n',
            S3State("tf-state", "qa.tfstate", "us-east-2", False, False),
        ),
    ],
    ids=["local", "s3 with derived key and region", "s3 as written"],
)
def test_the_state_location_is_resolved_for_the_stack(tmp_path, backend, state):
    path = tmp_path / "env.toml"
    path.write_text(SHORT + backend)
    assert load_config(path).backend.s3_state() == state


# A key no rule of its table reads, broken: every rule of that table (and of the file) then
# runs on its own keys alone, and finds what it finds in the valid file: nothing.
BROKEN_KEY_NO_RULE_READS = {
    "tags.aws:team": "x",
    "alarms.https": ["http://hooks.example.com"],
    "vpc.flow_logs": "yes",
    "load_balancer.deletion_protection": "yes",
    "functions.hello.memory_mb": 64,
    "waf.rate_limit": 1,
    "s3.noncurrent_version_expiration_days": 0,
    "logs.retention_days": 2,
}


@pytest.mark.parametrize("key", list(BROKEN_KEY_NO_RULE_READS))
def test_rules_read_only_the_keys_they_name(tmp_path, key):
    [line] = problems(tmp_path, dev_with({key: BROKEN_KEY_NO_RULE_READS[key]}))
    assert line.startswith(f"{key}")


def test_a_broken_route_key_leaves_the_other_route_rules_running(tmp_path):
    routes = [{**ROUTE, "method": "FETCH"}, {**ROUTE, "path": "/other", "priority": 7}]
    lines = problems(tmp_path, dev_with({"routes": routes}))
    assert [line.split(": ", 1)[0] for line in lines] == ["routes[0].method", "routes[1].priority"]
