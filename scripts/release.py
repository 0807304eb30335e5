"""Shift a function's `live` alias to its newest published version through CodeDeploy.

Usage: python scripts/release.py FUNCTION --application APP [--group GROUP] [--alias live]
                                 [--version N] [--dry-run] [--wait]

`terraform apply` publishes a new version but leaves the alias where it is (Terraform ignores
the alias' version after creation). This script starts the CodeDeploy deployment that moves
it, with the deployment group's strategy and alarm rollback; `--dry-run` prints the AppSpec
for `aws deploy create-deployment` instead. To roll back by hand, run it with `--version`
set to the previous version (or stop the running deployment: `aws deploy stop-deployment
--deployment-id ID --auto-rollback-enabled`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

LAMBDA_APPSPEC_TYPE = "AWS::Lambda::Function"


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
        raise SystemExit(f"{function} has no published version: is publish_versions on?")
    return str(max(versions))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function")
    parser.add_argument("--application", required=True, help="CodeDeploy application name")
    parser.add_argument("--group", help="deployment group (default: the function name)")
    parser.add_argument("--alias", default="live")
    parser.add_argument("--version", help="target version (default: newest published)")
    parser.add_argument("--dry-run", action="store_true", help="print the AppSpec only")
    parser.add_argument("--wait", action="store_true", help="wait for the deployment to end")
    args = parser.parse_args(argv)

    import boto3  # only here: the module's helpers are importable without AWS access

    lambda_client = boto3.client("lambda")
    current = lambda_client.get_alias(FunctionName=args.function, Name=args.alias)[
        "FunctionVersion"
    ]
    target = args.version or latest_version(lambda_client, args.function)
    if target == current:
        print(f"{args.function}:{args.alias} already serves version {current}; nothing to do")
        return 0
    spec = appspec(args.function, args.alias, current, target)
    if args.dry_run:
        print(json.dumps(spec, indent=2))
        return 0
    codedeploy = boto3.client("codedeploy")
    deployment = codedeploy.create_deployment(
        applicationName=args.application,
        deploymentGroupName=args.group or args.function,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(spec)},
        },
        description=f"{args.alias}: version {current} -> {target}",
    )["deploymentId"]
    print(f"deployment {deployment}: {args.function}:{args.alias} {current} -> {target}")
    if args.wait:
        codedeploy.get_waiter("deployment_successful").wait(deploymentId=deployment)
        print(f"deployment {deployment} succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
