"""Synthesize one Terraform stack per environment file: `cdktf.out/stacks/<env>/cdk.tf.json`.

Usage: python main.py [--config FILE_OR_FOLDER] [--outdir DIR]
The environment variable STACK_CONFIG means the same as --config (for the cdktf CLI).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from constructs_lib.config import DEFAULT_CONFIG_PATH, ConfigError, load_configs

EXIT_BAD_CONFIG = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("STACK_CONFIG") or DEFAULT_CONFIG_PATH),
        help="a config file or a folder of *.toml files (default: $STACK_CONFIG or config/)",
    )
    parser.add_argument(
        "--outdir",
        default=os.environ.get("CDKTF_OUTDIR", "cdktf.out"),
        help="where to write the synthesized stacks (default: cdktf.out)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        configs = load_configs(args.config)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_CONFIG

    # Imported only after validation: loading the provider bindings takes seconds.
    from cdktf import App

    from constructs_lib.stack import ServerlessStack

    app = App(outdir=args.outdir, stack_traces=False)
    for _, config in configs:
        ServerlessStack(app, config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
