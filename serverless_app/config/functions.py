"""`[functions.<key>]`: each function's code, settings and grants, and the rules across
the functions of a file."""

from __future__ import annotations

import ast
import functools
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from pydantic import Field

from constructs_lib.concurrency import (
    provisioned_within_reserved_problem,
    reservable,
    why_reservable,
)
from constructs_lib.dependencies import DEPENDENCY_FILE_NAMES, dependency_file_problem
from constructs_lib.limits import (
    LAMBDA_MAX_TIMEOUT_S,
    LAMBDA_PYTHON_RUNTIMES,
    MAX_SECRETS_PER_FUNCTION,
    SECRET_VARIABLE_PREFIX,
    SNAP_START_MIN_PYTHON,
    SNAP_START_UNSUPPORTED_REGIONS,
    Architecture,
    snap_start_concurrency_problem,
    snap_start_region_problem,
    snap_start_runtime_problem,
)
from serverless_app.config.base import PROJECT_ROOT, StrictModel, rule
from serverless_app.config.data import FunctionGrants
from serverless_app.config.problems import Problem
from serverless_app.config.rules import (
    KmsKeyArn,
    LambdaFunctionName,
    LambdaHandler,
    LambdaVariableName,
    LocalPath,
    SecretName,
    SsmParameterName,
    arn_in,
    one_of,
    partition_of,
)


class FunctionConfig(StrictModel):
    """One function (`[functions.<key>]`): its code, settings and grants. Each function has its
    own role `<name>-role`, log group, dead-letter queue and target group."""

    name: LambdaFunctionName = Field(
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
    timeout_s: Annotated[int, Field(ge=1, le=LAMBDA_MAX_TIMEOUT_S)] = Field(
        default=10,
        description=(
            "above 29 a warning when a route calls the function (API Gateway stops waiting at 29 s)"
        ),
    )
    # Run in the private subnets (egress through NAT / VPC endpoints only).
    in_vpc: bool = Field(
        default=True,
        description=(
            "run in the private subnets (egress through NAT and the gateway endpoints only); "
            "`false`: outside any VPC, with the internet open to it and no network-interface "
            "permissions, and the security gate lets this function fail `CKV_AWS_117`"
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
            "stack's shape (`TABLE_<KEY>_NAME`, `BUCKET_<KEY>_NAME`, `QUEUE_<KEY>_URL`, "
            "`TOPIC_<KEY>_ARN`); all keys and values with the stack's variables for the grants "
            "and the `SECRET_*` ones at most 4096 bytes (UTF-8)"
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
    snap_start: bool = Field(
        default=False,
        description=(
            "Lambda SnapStart on the published versions the `live` alias uses: each version is "
            "initialized once and new execution environments resume from its snapshot; "
            f"python{'.'.join(map(str, SNAP_START_MIN_PYTHON))} or later, not with "
            "`provisioned_concurrency`, not in "
            f"{' or '.join(SNAP_START_UNSUPPORTED_REGIONS)} (AWS, 2026-12-06). Code that makes "
            "unique values or connections at import must make them per request "
            "(docs/functions.md)"
        ),
    )

    @property
    def source_path(self) -> Path:
        return (PROJECT_ROOT / self.source_dir).resolve()

    @property
    def dependencies_path(self) -> Path | None:
        if self.dependencies is None:
            return None
        return (PROJECT_ROOT / self.dependencies).resolve()

    @rule("snap_start", "runtime", "provisioned_concurrency")
    def _snap_start_where_lambda_offers_it(self) -> Iterator[Problem]:
        if not self.snap_start:
            return
        for problem in (
            snap_start_runtime_problem(self.runtime),
            snap_start_concurrency_problem(self.provisioned_concurrency),
        ):
            if problem is not None:
                yield Problem(("snap_start",), problem, self.snap_start)

    @rule("provisioned_concurrency", "reserved_concurrency")
    def _provisioned_within_reserved(self) -> Iterator[Problem]:
        count = self.provisioned_concurrency
        problem = provisioned_within_reserved_problem(count, self.reserved_concurrency)
        if problem is not None:
            yield Problem(("provisioned_concurrency",), problem, count)

    @rule("secrets_kms_key_arn", "secrets")
    def _key_needs_secrets(self) -> Iterator[Problem]:
        if self.secrets_kms_key_arn is not None and not self.secrets:
            yield Problem(
                ("secrets_kms_key_arn",), "only used with secrets", self.secrets_kms_key_arn
            )

    @rule("secrets", "environment")
    def _secret_variables_free(self) -> Iterator[Problem]:
        for name in self.secrets:
            variable = f"{SECRET_VARIABLE_PREFIX}{name.upper()}"
            if variable in self.environment:
                yield Problem(
                    ("secrets", name), f"its variable {variable} is set in environment", name
                )

    @rule("source_dir", "handler")
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

    @rule("dependencies")
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


def duplicate_function_names(functions: dict[str, FunctionConfig]) -> Iterator[Problem]:
    first_key: dict[str, str] = {}
    for key, function in functions.items():
        if function.name in first_key:
            message = f"also the name of functions.{first_key[function.name]}"
            yield Problem((key, "name"), message, function.name)
        else:
            first_key[function.name] = key


def concurrency_problems(functions: dict[str, FunctionConfig], account: int) -> Iterator[Problem]:
    """Reserved concurrency, and provisioned concurrency outside a reservation, come out of the
    account's quota, of which Lambda keeps part unreserved (`constructs_lib.concurrency`): the
    claims of all functions together must leave it. Reported on the claim that goes over."""
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


def secrets_keys_in_region(functions: dict[str, FunctionConfig], region: str) -> Iterator[Problem]:
    for key, function in functions.items():
        arn = function.secrets_kms_key_arn
        if arn is not None and not arn_in(arn, region):
            message = (
                f"the key must be in {region} (partition {partition_of(region)}): SSM decrypts "
                "with a key of its region"
            )
            yield Problem((key, "secrets_kms_key_arn"), message, arn)


def snap_start_in_region(functions: dict[str, FunctionConfig], region: str) -> Iterator[Problem]:
    problem = snap_start_region_problem(region)
    if problem is not None:
        yield from (
            Problem((key, "snap_start"), problem, True)
            for key, function in functions.items()
            if function.snap_start
        )
