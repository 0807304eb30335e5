"""The request metric every function of the stack emits, in CloudWatch's embedded metric
format: one JSON line per answer on stdout, which CloudWatch Logs turns into the metric
`ServerError` (1 for an answer with status 5XX, else 0) in the namespace
`ServerlessApp/Requests`, per function and per executed version. Its Average is the share of
5XX answers: a handled error (a broken code path, a denied grant, a missing table) that
Lambda's Errors metric never counts. The stack's `<function>-server-errors` alarm watches it
and stops a release; constructs_lib/monitoring.py names the same namespace and metric (a
function's package cannot import the constructs; a test keeps them equal).

Printed rather than logged, so LOG_LEVEL never silences it. functions/hello_deps/ links to
this file: one source, packaged with each function.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

NAMESPACE = "ServerlessApp/Requests"
SERVER_ERROR = "ServerError"
# The function over all its versions (what the alarm reads), and each version on its own.
DIMENSION_SETS = [["FunctionName"], ["FunctionName", "ExecutedVersion"]]


def record(status: int, timestamp_ms: int) -> dict[str, Any]:
    """The embedded-metric-format record of one answer with `status`. Lambda sets the
    function's name and version in the environment; elsewhere (tests, `make serve`) they read
    `local` and `$LATEST`."""
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": DIMENSION_SETS,
                    "Metrics": [{"Name": SERVER_ERROR, "Unit": "Count"}],
                }
            ],
        },
        "FunctionName": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
        "ExecutedVersion": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        SERVER_ERROR: int(status >= 500),
    }


def emit(status: int) -> None:
    """Write the record of one answer to stdout, where Lambda sends it to CloudWatch Logs."""
    sys.stdout.write(json.dumps(record(status, int(time.time() * 1000))) + "\n")
    sys.stdout.flush()
