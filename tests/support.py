"""Helpers shared by the tests: build constructs in a throwaway stack and read the JSON back."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

import pytest

from frameworks import CDKTN_PYTHON
from serverless_app.config import StackConfig, load_config
from serverless_app.summary import json_strings

if TYPE_CHECKING:
    from cdktf import TerraformStack
    from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup

    from constructs_lib.apigw import LambdaRestApi, RestApiProps
    from constructs_lib.lambda_function import FunctionProps, ServerlessFunction
    from constructs_lib.load_balancer import FunctionLoadBalancer, LoadBalancerProps
    from constructs_lib.releases import InvokeTarget
    from constructs_lib.routes import Route
    from constructs_lib.s3 import SecureBucket

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
# The Node LTS pinned in tools/node/package-lock.json, as `make setup` installs it.
PINNED_NODE_BIN = REPO_ROOT / "tools" / "node" / "node_modules" / ".bin"


def environment_files(folder: Path = CONFIG_DIR) -> dict[str, Path]:
    """Every environment file in `folder` by its `env`, in file-name order (main.py's order):
    the tests follow the files that are there, an added environment included."""
    return {tomllib.loads(path.read_text())["env"]: path for path in sorted(folder.glob("*.toml"))}


ENVIRONMENT_FILES = environment_files()
ENVIRONMENTS = tuple(ENVIRONMENT_FILES)

# The shipped files name no account (`make check` refuses the placeholder); a file the tests
# check names this one.
PLACEHOLDER_ACCOUNT_LINE = 'account_id = "000000000000"'
TEST_ACCOUNT_ID = "111122223333"


def with_test_account(config_text: str) -> str:
    """A shipped environment file naming TEST_ACCOUNT_ID instead of the placeholder."""
    assert config_text.count(PLACEHOLDER_ACCOUNT_LINE) == 1
    return config_text.replace(PLACEHOLDER_ACCOUNT_LINE, f'account_id = "{TEST_ACCOUNT_ID}"')


def checkable_copy(source: Path, target: Path) -> Path:
    """`source` (a shipped environment file) written to `target` naming TEST_ACCOUNT_ID."""
    target.write_text(with_test_account(source.read_text()))
    return target


def framework_python(framework: str) -> Path:
    """The Python whose environment holds `framework`: this one for cdktf, .venv-cdktn's for
    CDK Terrain (a failure naming `make setup` when it is missing)."""
    if framework == "cdktf":
        return Path(sys.executable)
    if not CDKTN_PYTHON.is_file():
        pytest.fail(f"{CDKTN_PYTHON} is missing: `make setup` installs CDK Terrain's environment")
    return CDKTN_PYTHON


def run_main(
    *args: str,
    main_py: Path = REPO_ROOT / "main.py",
    cwd: Path = REPO_ROOT,
    python: Path = Path(sys.executable),
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """`python main.py ARGS` as a user starts it, in a fresh interpreter."""
    return subprocess.run(
        [str(python), str(main_py), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def synth(
    *args: str,
    main_py: Path = REPO_ROOT / "main.py",
    cwd: Path = REPO_ROOT,
    python: Path = Path(sys.executable),
    **env: str,
):
    """`run_main` that must succeed."""
    result = run_main(*args, main_py=main_py, cwd=cwd, python=python, **env)
    assert result.returncode == 0, result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes: equal snapshots mean byte-identical trees."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def load_function_module(source: Path, name: str) -> ModuleType:
    """A function's module imported afresh from its file, with its folder on sys.path while
    it loads, as Lambda has the package root (it imports its neighbours, request_metrics).
    Its neighbours are imported afresh too: their state (clients, caches) belongs to the new
    execution environment, not to one an earlier test loaded."""
    for neighbour in source.parent.glob("*.py"):
        sys.modules.pop(neighbour.stem, None)
    spec = importlib.util.spec_from_file_location(name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered like any import: dataclasses look their module up while it executes.
    sys.modules[spec.name] = module
    sys.path.insert(0, str(source.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(source.parent))
    return module


def synth_construct(build: Callable[[TerraformStack], Any]) -> dict:
    """Build one construct inside a bare stack with an AWS provider and return its JSON."""
    # Imported here, not at the top: conftest installs the provider loader after importing
    # this module, and the loader only takes effect before the provider's first import.
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    app = Testing.app()
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region="us-east-1")
    build(stack)
    return json.loads(Testing.synth(stack))


def synth_config(config: StackConfig) -> dict:
    from cdktf import Testing

    from serverless_app.stack import ServerlessStack

    return json.loads(Testing.synth(ServerlessStack(Testing.app(), config)))


def env_config(env: str) -> StackConfig:
    return load_config(ENVIRONMENT_FILES[env])


def file_values(path: Path) -> dict[str, Any]:
    """A configuration file as TOML reads it: what a test expects, taken from the file rather
    than from the configuration code under test."""
    return tomllib.loads(path.read_text())


def name_prefix(path: Path) -> str:
    """`<project>-<env>` of a configuration file: the start of every name the stack derives."""
    values = file_values(path)
    return f"{values['project']}-{values['env']}"


def load_balancer_functions(path: Path) -> set[str]:
    """The keys of the functions a file puts on the load balancer: those with a public route
    (`authorization = "NONE"`, unless `load_balancer = false`); an AWS_IAM route never is."""
    return {
        route["function"]
        for route in file_values(path)["routes"]
        if route.get("load_balancer", route.get("authorization", "AWS_IAM") == "NONE")
    }


def stack_env(synthesized: dict) -> str:
    """The `env` a synthesized stack was built from (its `Env` default tag)."""
    return synthesized["provider"]["aws"][0]["default_tags"][0]["tags"]["Env"]


# API Gateway's OpenAPI extension for "every method" (a route's ANY).
ANY_METHOD = "x-amazon-apigateway-any-method"


def api_document(synthesized: dict) -> dict:
    """The OpenAPI document the stack's one REST API is defined by (its `body`)."""
    [api] = resources(synthesized, "aws_api_gateway_rest_api").values()
    return json.loads(api["body"])


# How API Gateway's OpenAPI import spells AWS_IAM authorization (SigV4).
SIGV4_SCHEME = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "x-amazon-apigateway-authtype": "awsSigv4",
}


def operation_authorization(document: dict, operation: dict) -> str:
    """`AWS_IAM` when an operation of an OpenAPI document requires a SigV4 security scheme,
    `NONE` when it requires none, else the name of the one authorizer it requires."""
    # No document-wide default: an operation without `security` must be public.
    assert "security" not in document
    schemes = document.get("components", {}).get("securitySchemes", {})
    required = [name for requirement in operation.get("security", []) for name in requirement]
    if not required:
        return "NONE"
    [name] = required
    if schemes[name] == SIGV4_SCHEME:
        return "AWS_IAM"
    assert "x-amazon-apigateway-authorizer" in schemes[name], name
    return str(name)


def api_operations(synthesized: dict) -> dict[str, dict]:
    """`GET /items/{id}` -> its operation in the API's document (`ANY` for the any-method)."""
    return {
        f"{'ANY' if method == ANY_METHOD else method.upper()} {path}": operation
        for path, methods in api_document(synthesized)["paths"].items()
        for method, operation in methods.items()
    }


def resources(synthesized: dict, resource_type: str) -> dict[str, dict]:
    return synthesized.get("resource", {}).get(resource_type, {})


def only(synthesized: dict, resource_type: str) -> dict:
    """The single resource of a type; fails if there are none or several."""
    found = resources(synthesized, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def data_sources(synthesized: dict, data_type: str) -> dict[str, dict]:
    return synthesized.get("data", {}).get(data_type, {})


def function_scope(key: str) -> str:
    """The id prefix of everything the stack builds for function `key` (scope `function-<key>`;
    keys hold no `_`, so `function-a_` never matches `function-a-b_...`)."""
    return f"function-{key}_"


def of_function(synthesized: dict, resource_type: str, key: str) -> dict[str, dict]:
    """The resources of a type built in function `key`'s scope, by id."""
    return {
        rid: body
        for rid, body in resources(synthesized, resource_type).items()
        if rid.startswith(function_scope(key))
    }


def only_of_function(synthesized: dict, resource_type: str, key: str) -> dict:
    """The single resource of a type in function `key`'s scope."""
    found = of_function(synthesized, resource_type, key)
    assert len(found) == 1, f"expected one {resource_type} of {key}, found {sorted(found)}"
    return next(iter(found.values()))


def function_ref(synthesized: dict, resource_type: str, key: str, attribute: str) -> str:
    """`${type.id.attribute}` of the single resource of a type in function `key`'s scope."""
    [rid] = of_function(synthesized, resource_type, key)
    return f"${{{resource_type}.{rid}.{attribute}}}"


def function_keys(synthesized: dict) -> set[str]:
    """The keys of the functions in a synthesized stack, read from its Lambda functions' ids."""
    return {
        rid.removeprefix("function-").split("_", 1)[0]
        for rid in resources(synthesized, "aws_lambda_function")
    }


def tagged(synthesized: dict, resource_type: str, **tags: str) -> dict[str, dict]:
    """The resources of a type whose tags include every given key and value."""
    return {
        rid: body
        for rid, body in resources(synthesized, resource_type).items()
        if tags.items() <= body.get("tags", {}).items()
    }


def ref(synthesized: dict, resource_type: str, name_contains: str, attribute: str) -> str:
    """The `${type.id.attribute}` token for the resource whose id contains `name_contains`."""
    matches = [rid for rid in resources(synthesized, resource_type) if name_contains in rid]
    assert len(matches) == 1, f"{resource_type} matching {name_contains!r}: {matches}"
    return f"${{{resource_type}.{matches[0]}.{attribute}}}"


_INTERPOLATION = re.compile(r"\$\{((?:[^{}]|\{[^{}]*\})*)\}")
# `type.name` or `data.type.name` not preceded by a dot or word char and not a function call.
_REFERENCE = re.compile(r"(?<![\w.\"])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*)(?![\w(-])")
_BUILTIN_PREFIXES = ("path.", "terraform.", "each.", "count.", "self.")


def references(synthesized: dict) -> set[str]:
    """Every `type.name`, `data.type.name`, `var.x` or `local.x` referenced from `${...}`."""
    found: set[str] = set()
    for text in json_strings(synthesized):
        for expression in _INTERPOLATION.findall(text):
            for match in _REFERENCE.findall(expression):
                if not match.startswith(_BUILTIN_PREFIXES):
                    found.add(match)
    return found


def declared_addresses(synthesized: dict) -> set[str]:
    addresses = {
        f"{rtype}.{rid}"
        for rtype, items in synthesized.get("resource", {}).items()
        for rid in items
    }
    addresses |= {
        f"data.{dtype}.{did}"
        for dtype, items in synthesized.get("data", {}).items()
        for did in items
    }
    addresses |= {f"var.{name}" for name in synthesized.get("variable", {})}
    addresses |= {f"local.{name}" for name in synthesized.get("locals", {})}
    return addresses


TEST_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/test"
# The shipped config/bootstrap/state.toml holds a placeholder bucket name that is refused.
BOOTSTRAP_TEST_CONFIG = REPO_ROOT / "tests" / "config" / "bootstrap.toml"


def function_props(bucket: SecureBucket, **overrides: Any) -> FunctionProps:
    """A function built from lambda/ with small test values; `overrides` replace any of them."""
    from constructs_lib.lambda_function import FunctionProps

    values: dict[str, Any] = {
        "function_name": "t-hello",
        "role_name": "t-hello-role",
        "source_dir": REPO_ROOT / "lambda",
        "code_bucket": bucket,
        "kms_key_arn": TEST_KEY_ARN,
        "handler": "app.handler",
        "runtime": "python3.13",
        "memory_mb": 256,
        "timeout_s": 10,
        "environment": {},
        "reserved_concurrency": None,
        "log_retention_days": 365,
        "vpc": None,
    }
    return FunctionProps(**{**values, **overrides})


def load_balancer_props(**overrides: Any) -> LoadBalancerProps:
    """A plain-HTTP load balancer with access logs; `overrides` replace any value."""
    from constructs_lib.load_balancer import LoadBalancerProps

    values: dict[str, Any] = {
        "name": "t-alb",
        "region": "us-east-1",
        "certificate_arn": None,
        "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "deletion_protection": False,
        "access_logs": True,
        "access_log_expiration_days": 90,
        "force_destroy": False,
    }
    return LoadBalancerProps(**{**values, **overrides})


def unqualified_target(function: ServerlessFunction) -> InvokeTarget:
    """What invokes `function` itself, at no alias (the stack always invokes `live`)."""
    from constructs_lib.releases import InvokeTarget

    return InvokeTarget(function.function_name, function.function_arn, function.invoke_arn)


def greet_route(
    function: ServerlessFunction, target: InvokeTarget | None = None, **overrides: Any
) -> Route:
    """`GET /greet` with IAM authorization to `target` (default: the unqualified function)."""
    from constructs_lib.routes import Route

    values: dict[str, Any] = {
        "method": "GET",
        "path": "/greet",
        "target": target or unqualified_target(function),
        "authorization": "AWS_IAM",
    }
    return Route(**{**values, **overrides})


def rest_api_props(
    function: ServerlessFunction, target: InvokeTarget | None = None, **overrides: Any
) -> RestApiProps:
    """A REST API for `function` at GET /greet on stage beta; `overrides` replace any value."""
    from constructs_lib.apigw import RestApiProps

    values: dict[str, Any] = {
        "name": "t-api",
        "stage_name": "beta",
        "routes": [greet_route(function, target)],
        "kms_key_arn": TEST_KEY_ARN,
        "throttling_rate_limit": 50,
        "throttling_burst_limit": 100,
        "logging_level": "ERROR",
        "log_retention_days": 365,
    }
    return RestApiProps(**{**values, **overrides})


# One function, API and load balancer for the tests of constructs that build on them.
def build_function(stack: TerraformStack, **overrides: Any) -> ServerlessFunction:
    """Function `t-fn` from lambda/, with its code bucket; `overrides` go to its props."""
    from constructs_lib.lambda_function import ServerlessFunction
    from constructs_lib.s3 import SecureBucket, SecureBucketProps

    bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
    props = function_props(bucket, function_name="t-fn", role_name="t-fn-role", **overrides)
    return ServerlessFunction(stack, "fn", props)


def build_two_targets(
    stack: TerraformStack,
) -> tuple[ServerlessFunction, dict[str, InvokeTarget]]:
    """Function `t-fn` (target `fn`, unqualified) and `t-other` reached through its live alias
    (target `other`), for the tests of constructs that route to several functions."""
    from constructs_lib.lambda_function import ServerlessFunction
    from constructs_lib.releases import LiveAlias, LiveAliasProps
    from constructs_lib.s3 import SecureBucket, SecureBucketProps

    fn = build_function(stack)
    bucket = SecureBucket(stack, "other-code", SecureBucketProps(bucket_prefix="u-"))
    props = function_props(
        bucket, function_name="t-other", role_name="t-other-role", publish_versions=True
    )
    other = ServerlessFunction(stack, "other", props)
    alias = LiveAlias(stack, "live", other, LiveAliasProps())
    return fn, {"fn": unqualified_target(fn), "other": alias.target}


def build_api(
    stack: TerraformStack,
    function: ServerlessFunction,
    target: InvokeTarget | None = None,
    **overrides: Any,
) -> LambdaRestApi:
    from constructs_lib.apigw import LambdaRestApi

    return LambdaRestApi(stack, "api", rest_api_props(function, target, **overrides))


def build_load_balancer(stack: TerraformStack, **overrides: Any) -> FunctionLoadBalancer:
    """Load balancer `t-lb` without access logs in two made-up subnets."""
    from constructs_lib.load_balancer import FunctionLoadBalancer

    props = load_balancer_props(**{"name": "t-lb", "access_logs": False, **overrides})
    return FunctionLoadBalancer(
        stack, "lb", props, vpc_id="vpc-1", subnet_ids=["subnet-1", "subnet-2"]
    )


def route_load_balancer(
    balancer: FunctionLoadBalancer,
    function: ServerlessFunction,
    target: InvokeTarget | None = None,
) -> LbTargetGroup:
    """Target group `t-lb-fn` for `function` (or `target`) and a rule for `GET /greet`."""
    target = target or unqualified_target(function)
    target_group = balancer.add_function_target("fn", "t-lb-fn", target)
    balancer.add_routes([(greet_route(function, target), target_group)])
    return target_group


def bare_type(annotation: Any) -> Any:
    """The type inside `Annotated[...]` and `X | None` (for tests that walk the config schema)."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            [annotation] = [arg for arg in get_args(annotation) if arg is not type(None)]
        else:
            return annotation


def value_at(data: Any, key: str | int) -> Any:
    """`data[key]` for a table or a list, else None."""
    if isinstance(data, dict):
        return data.get(key)
    if isinstance(data, list) and isinstance(key, int) and key < len(data):
        return data[key]
    return None
