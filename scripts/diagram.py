"""Draw one architecture picture per stack from the synthesized Terraform JSON.

Usage: python -m scripts.diagram [--synth-dir cdktf.out] [--outdir docs] [STACK ...]
Reads <synth-dir>/stacks/<stack>/cdk.tf.json (run `make synth` first), writes <outdir>/<stack>.png.

What a picture shows is read from the JSON by `scripts.diagram_model` (every resource, nothing
hand-listed); `scripts.diagram_render` draws it with Graphviz and leaves a PNG that already shows
it as it is, so the committed pictures stay byte-stable on a fresh clone.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from scripts.diagram_model import build_picture
from scripts.diagram_render import draw
from serverless_app.summary import synthesized_stacks

EXIT_BAD_INPUT = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="*", help="stack names (default: every synthesized stack)")
    parser.add_argument("--synth-dir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--outdir", type=Path, default=Path("docs"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if shutil.which("dot") is None:
        print("Graphviz `dot` not found on PATH: apt-get install graphviz", file=sys.stderr)
        return EXIT_BAD_INPUT
    manifest = args.synth_dir / "manifest.json"
    if not manifest.is_file():
        print(f"{manifest}: not found; run `make synth` first", file=sys.stderr)
        return EXIT_BAD_INPUT
    stacks = {stack.name: stack for stack in synthesized_stacks(args.synth_dir)}
    unknown = [name for name in args.stacks if name not in stacks]
    if unknown:
        print(
            f"{manifest}: stacks: no stack named {', '.join(unknown)} (found: {', '.join(stacks)})",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    for name in args.stacks or list(stacks):
        png = args.outdir / f"{name}.png"
        written = draw(build_picture(name, stacks[name].document), png)
        print(f"wrote {png}" if written else f"{png}: unchanged (it shows this stack)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
