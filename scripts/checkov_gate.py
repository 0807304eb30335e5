"""Run checkov on synthesized stacks and report every failed check.

Usage: python -m scripts.checkov_gate [--config FILE_OR_FOLDER] [STACK_DIR ...]
       (default: cdktf.out/stacks/*)

checkov 3.3.30's terraform_json parser crashes on the string `terraform.required_version`
("this method receives only dicts") and reports a parsing error for top-level `import` blocks,
so each `cdk.tf.json` is scanned from a copy without those keys; nothing else is changed and
neither has a security meaning (an import block only adopts an existing object into the state of
a resource that is declared, and scanned, as usual).

A few checks judge a cost choice an environment may make on purpose (shorter log retention, no
flow log, a function outside the VPC). `.checkov.yaml` skips a check for every stack; these are
instead waived per environment: a failure passes only where that environment's file makes the
documented choice for exactly that resource (WAIVABLE), and the gate prints which key did.
The environment files are read from --config (default: $STACK_CONFIG or config/, as main.py),
matched to stack folders by `env`; a stack without a file (bootstrap) gets no waiver.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serverless_app.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    StackConfig,
    load_configs,
    shown,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKOV = REPO_ROOT / ".tools" / "checkov" / "bin" / "checkov"
CONFIG = REPO_ROOT / ".checkov.yaml"


def scan(stack_dir: Path) -> list[str]:
    """Failed checks of one stack folder, as `CHECK_ID resource` lines."""
    if not CHECKOV.exists():
        raise SystemExit(f"{CHECKOV}: checkov is not installed; run `make setup`")
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    document.get("terraform", {}).pop("required_version", None)
    document.pop("import", None)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "cdk.tf.json"
        copy.write_text(json.dumps(document))
        # --quiet leaves the passed checks out of the report (40 MB of JSON for dev, 2.5 s to
        # print and parse); the summary still counts them and the failed ones are all there.
        result = subprocess.run(
            [str(CHECKOV), "--config-file", str(CONFIG), "-f", str(copy), "-o", "json", "--quiet"],
            capture_output=True,
            text=True,
            cwd=scratch,
        )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed on {stack_dir}: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    summary = report["summary"]
    if summary["parsing_errors"]:
        raise RuntimeError(f"checkov could not parse {stack_dir}")
    if summary["passed"] == 0:
        raise RuntimeError(f"checkov ran no check on {stack_dir}")
    return [
        f"{check['check_id']} {_address(document, check['resource'])}"
        for check in report["results"]["failed_checks"]
    ]


def _address(document: dict[str, Any], resource: str) -> str:
    """`aws_vpc.network_vpc_1A2B3C4D` for checkov's `resource.network_vpc_1A2B3C4D`: its
    terraform_json runner leaves the type out. A name under two types stays as checkov said."""
    name = resource.removeprefix("resource.")
    types = [kind for kind, bodies in document.get("resource", {}).items() if name in bodies]
    return f"{types[0]}.{name}" if len(types) == 1 else resource


@dataclass(frozen=True)
class WaivableCheck:
    """A check an environment may fail on purpose: `chosen` names the choice of the file (the
    key and its value) that makes one resource of `resource_type` fail it, or None."""

    check_id: str
    resource_type: str
    key: str
    chosen: Callable[[StackConfig, dict[str, Any]], str | None]


def _no_flow_log(config: StackConfig, vpc: dict[str, Any]) -> str | None:
    return 'vpc.flow_logs = "none"' if config.vpc.flow_logs == "none" else None


def _retention(config: StackConfig, log_group: dict[str, Any]) -> str | None:
    days = config.logs.retention_days
    return f"logs.retention_days = {days}" if log_group.get("retention_in_days") == days else None


def _outside_vpc(config: StackConfig, function: dict[str, Any]) -> str | None:
    return next(
        (
            f"functions.{key}.in_vpc = false"
            for key, function_config in config.functions.items()
            if not function_config.in_vpc and function_config.name == function.get("function_name")
        ),
        None,
    )


def _open_url(config: StackConfig, url: dict[str, Any]) -> str | None:
    return next(
        (
            f"functions.{key}.url.public_reason = {function_config.url.public_reason!r}"
            for key, function_config in config.functions.items()
            if function_config.url is not None
            and function_config.url.public_reason is not None
            and function_config.name == url.get("function_name")
            and url.get("authorization_type") == "NONE"
        ),
        None,
    )


WAIVABLE = (
    WaivableCheck("CKV2_AWS_11", "aws_vpc", "vpc.flow_logs", _no_flow_log),
    WaivableCheck("CKV_AWS_338", "aws_cloudwatch_log_group", "logs.retention_days", _retention),
    WaivableCheck("CKV_AWS_117", "aws_lambda_function", "functions.<key>.in_vpc", _outside_vpc),
    WaivableCheck(
        "CKV_AWS_258", "aws_lambda_function_url", "functions.<key>.url.public_reason", _open_url
    ),
)


def waivers(document: dict[str, Any], environment: tuple[Path, StackConfig]) -> dict[str, str]:
    """`CHECK_ID resource` lines the environment's file (path, model) lets fail, each with the
    key and value that chose it."""
    config_file, config = environment
    allowed = {}
    for check in WAIVABLE:
        for name, body in document.get("resource", {}).get(check.resource_type, {}).items():
            if choice := check.chosen(config, body):
                allowed[f"{check.check_id} {check.resource_type}.{name}"] = (
                    f"{choice} in {shown(config_file)}"
                )
    return allowed


@dataclass(frozen=True)
class Verdict:
    failed: list[str]
    # `CHECK_ID resource` -> why the environment's file lets it fail.
    waived: dict[str, str] = field(default_factory=dict)


def judge(stack_dir: Path, environment: tuple[Path, StackConfig] | None) -> Verdict:
    """The stack's failed checks, less those its environment's file (path, model) waives."""
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    return verdict(scan(stack_dir), document, environment)


def verdict(
    failures: list[str], document: dict[str, Any], environment: tuple[Path, StackConfig] | None
) -> Verdict:
    """`failures` of the stack `document`, split into those its environment waives and the
    rest; no environment, no waiver."""
    allowed = waivers(document, environment) if environment else {}
    return Verdict(
        failed=[line for line in failures if line not in allowed],
        waived={line: allowed[line] for line in failures if line in allowed},
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("STACK_CONFIG") or DEFAULT_CONFIG_PATH),
        help="the environment files the stacks were synthesized from "
        "(default: $STACK_CONFIG or config/)",
    )
    parser.add_argument("stacks", nargs="*", type=Path, metavar="STACK_DIR")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        environments = {config.env: (file, config) for file, config in load_configs(args.config)}
    except ConfigError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 2
    # Only stack folders: a stray file there (a .DS_Store) is no stack to scan.
    stacks = args.stacks or sorted(
        entry for entry in (REPO_ROOT / "cdktf.out" / "stacks").iterdir() if entry.is_dir()
    )
    failed = 0
    for stack in stacks:
        result = judge(stack, environments.get(stack.name))
        failed += len(result.failed)
        print(f"{stack.name}: {len(result.failed)} failed checks")
        for line in result.failed:
            print(f"  {line}")
        if result.waived:
            print(f"{stack.name}: {len(result.waived)} waived by a documented choice of its file")
            for line, reason in result.waived.items():
                print(f"  {line}: {reason}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
