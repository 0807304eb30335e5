"""Run checkov on synthesized stacks and report every failed check.

Usage: python -m scripts.checkov_gate [STACK_DIR ...]   (default: cdktf.out/stacks/*)

checkov 3.3.30's terraform_json parser crashes on the string `terraform.required_version`
("this method receives only dicts") and reports a parsing error for top-level `import` blocks,
so each `cdk.tf.json` is scanned from a copy without those keys; nothing else is changed and
neither has a security meaning (an import block only adopts an existing object into the state of
a resource that is declared, and scanned, as usual).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

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
        f"{check['check_id']} {check['resource']}" for check in report["results"]["failed_checks"]
    ]


def main(argv: list[str]) -> int:
    # Only stack folders: a stray file there (a .DS_Store) is no stack to scan.
    stacks = [Path(arg) for arg in argv] or sorted(
        entry for entry in (REPO_ROOT / "cdktf.out" / "stacks").iterdir() if entry.is_dir()
    )
    failed = 0
    for stack in stacks:
        failures = scan(stack)
        failed += len(failures)
        print(f"{stack.name}: {len(failures)} failed checks")
        for line in failures:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
