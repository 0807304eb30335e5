#!/bin/sh
# The app command of cdktf.json, which both CLIs read: `main.py` on the framework's Python.
# `npx cdktf synth` runs CDK for Terraform; `FRAMEWORK=cdktn npx cdktn synth` CDK Terrain
# (docs/frameworks.md).
case "${FRAMEWORK:-cdktf}" in
  cdktf) exec .tools/pipenv/bin/pipenv run python main.py ;;
  cdktn) exec .venv-cdktn/bin/python main.py ;;
  *) echo "FRAMEWORK is cdktf or cdktn, not '$FRAMEWORK'" >&2; exit 2 ;;
esac
