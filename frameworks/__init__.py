"""Where each framework's Python environment lives in this repository: cdktf in the .venv
(Pipfile.lock), CDK Terrain in .venv-cdktn (cdktn/requirements.txt here). The Makefile
(`FRAMEWORK=`) and app.sh (the CLIs' app command) choose between the same two."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CDKTN_PYTHON = REPO_ROOT / ".venv-cdktn" / "bin" / "python"
