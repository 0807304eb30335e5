"""Shift an applied stack's `live` alias to its newest published version through CodeDeploy.

    python -m scripts.release [--env prod] [--function api] [--version N] [--dry-run] [--wait]
    python -m scripts.release --outputs outputs.json ...   # a saved `terraform output -json`

What to release comes from the stack's current outputs (`terraform output -json` in
cdktf.out/stacks/<env>, or --stack-dir): `codedeploy_application` and, from `functions`, the
function's `function_name`, `live_alias_arn` (alias name and region) and `deployment_group`.
`--function` names the function's key in the configuration; it may be left out when the stack
has one function. `terraform apply` publishes a new
version but leaves the alias where it is (Terraform ignores the alias' version after
creation); this starts the CodeDeploy deployment that moves it, with the deployment group's
strategy and alarm rollback. `--dry-run` prints the AppSpec for `aws deploy
create-deployment` instead. To roll back by hand, run it with `--version` set to the previous
version (or stop the running deployment: `aws deploy stop-deployment --deployment-id ID
--auto-rollback-enabled`).

Exit status: 0 started (or nothing to do), 1 the deployment failed (--wait), 2 nothing to
release (no outputs, no published version).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.terraform_outputs import OutputsError, read_outputs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_APPSPEC_TYPE = "AWS::Lambda::Function"
# The stack outputs a release needs (serverless_app/stack.py `_outputs`), and what it reads of
# each function in `functions`.
REQUIRED_OUTPUTS = ("functions", "codedeploy_application")
FUNCTION_OUTPUTS = ("function_name", "live_alias_arn", "deployment_group")
EXIT_FAILED = 1
EXIT_NOTHING_TO_RELEASE = 2


class ReleaseError(Exception):
    """Nothing to release: no outputs, no published version. One line for stderr."""


@dataclass(frozen=True)
class Target:
    """What one release moves, read from the stack's outputs."""

    function: str
    alias: str
    region: str
    application: str
    group: str


def target_from_outputs(outputs: dict[str, Any], key: str | None = None) -> Target:
    """The outputs as `terraform output -json` prints them ({name: {"value": ...}}); `key`:
    the function's key in the configuration (None: the stack's only function)."""
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise ReleaseError(
            f"no {', '.join(missing)} output: has the stack (with its live alias) been applied?"
        )
    functions: dict[str, dict[str, str]] = outputs["functions"]["value"]
    if key is None and len(functions) != 1:
        raise ReleaseError(f"--function is needed: one of {', '.join(sorted(functions))}")
    key = key if key is not None else next(iter(functions))
    if key not in functions:
        raise ReleaseError(f"no function {key!r} in the outputs ({', '.join(sorted(functions))})")
    values = {name: str(functions[key].get(name)) for name in FUNCTION_OUTPUTS}
    # arn:<partition>:lambda:<region>:<account>:function:<name>:<alias>
    parts = values["live_alias_arn"].split(":")
    if len(parts) != 8 or parts[2] != "lambda" or parts[5] != "function":
        raise ReleaseError(f"live_alias_arn is not an alias ARN: {values['live_alias_arn']}")
    return Target(
        function=values["function_name"],
        alias=parts[7],
        region=parts[3],
        application=str(outputs["codedeploy_application"]["value"]),
        group=values["deployment_group"],
    )


def appspec(function: str, alias: str, current: str, target: str) -> dict[str, Any]:
    """The AppSpec CodeDeploy needs to move `alias` from `current` to `target`."""
    return {
        "version": 0.0,
        "Resources": [
            {
                function: {
                    "Type": LAMBDA_APPSPEC_TYPE,
                    "Properties": {
                        "Name": function,
                        "Alias": alias,
                        "CurrentVersion": current,
                        "TargetVersion": target,
                    },
                }
            }
        ],
    }


def latest_version(lambda_client: Any, function: str) -> str:
    """The highest published version number (`$LATEST` is not a version CodeDeploy can use)."""
    versions: list[int] = []
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(
        FunctionName=function
    ):
        versions += [int(v["Version"]) for v in page["Versions"] if v["Version"].isdigit()]
    if not versions:
        raise ReleaseError(f"{function} has no published version: is publish_versions on?")
    return str(max(versions))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--env", default="dev", help="stack whose outputs to read (default dev)")
    parser.add_argument(
        "--stack-dir",
        type=Path,
        help="folder to run `terraform output` in (default cdktf.out/stacks/<env>)",
    )
    parser.add_argument(
        "--outputs", type=Path, help="a saved `terraform output -json`; skips terraform"
    )
    parser.add_argument(
        "--function", help="the function's key in the configuration (default: the only one)"
    )
    parser.add_argument("--version", help="target version (default: newest published)")
    parser.add_argument("--dry-run", action="store_true", help="print the AppSpec only")
    parser.add_argument("--wait", action="store_true", help="wait for the deployment to end")
    return parser.parse_args(argv)


def release(args: argparse.Namespace, target: Target) -> int:
    import boto3  # only here: the module's helpers are importable without AWS access

    lambda_client = boto3.client("lambda", region_name=target.region)
    current = lambda_client.get_alias(FunctionName=target.function, Name=target.alias)[
        "FunctionVersion"
    ]
    version = args.version or latest_version(lambda_client, target.function)
    if version == current:
        print(f"{target.function}:{target.alias} already serves version {current}; nothing to do")
        return 0
    spec = appspec(target.function, target.alias, current, version)
    if args.dry_run:
        print(json.dumps(spec, indent=2))
        return 0
    codedeploy = boto3.client("codedeploy", region_name=target.region)
    deployment = codedeploy.create_deployment(
        applicationName=target.application,
        deploymentGroupName=target.group,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(spec)},
        },
        description=f"{target.alias}: version {current} -> {version}",
    )["deploymentId"]
    print(f"deployment {deployment}: {target.function}:{target.alias} {current} -> {version}")
    if args.wait:
        from botocore.exceptions import WaiterError

        try:
            codedeploy.get_waiter("deployment_successful").wait(deploymentId=deployment)
        except WaiterError as error:
            print(f"deployment {deployment} did not succeed: {error}", file=sys.stderr)
            return EXIT_FAILED
        print(f"deployment {deployment} succeeded")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.outputs is not None:
            outputs = json.loads(args.outputs.read_text())
        else:
            stack_dir = args.stack_dir or PROJECT_ROOT / "cdktf.out" / "stacks" / args.env
            outputs = read_outputs(stack_dir)
        return release(args, target_from_outputs(outputs, args.function))
    except (ReleaseError, OutputsError) as error:
        print(f"release: {error}", file=sys.stderr)
        return EXIT_NOTHING_TO_RELEASE


if __name__ == "__main__":
    sys.exit(main())
