"""One function's execution environment for `make serve`: the Lambda runtime's part.

Started by scripts/sandbox.py as

    pythonX.Y -I -S -B lambda_worker.py TASK_ROOT RUNTIME_DIR HANDLER

in its own interpreter (the runtime's minor version where the machine has it): isolated from the
project (`-I`: no PYTHON* variables, no script folder or user site on sys.path; `-S`: no
site-packages), writing no byte-code (`-B`: Lambda's code folder is read-only). sys.path is the
unpacked package (TASK_ROOT, Lambda's /var/task) then RUNTIME_DIR (what the runtime provides:
boto3 and its dependencies), then the standard library.

It imports the handler as the runtime does (the init phase), then answers one JSON line per
invocation read from stdin, on the file descriptor that was stdout: the function's own prints
and logging go to stderr, its log. Errors have Lambda's shape (errorMessage, errorType,
requestId, stackTrace) and types (Runtime.ImportModuleError, ...).

Only the standard library, and code every supported Python (3.11+) runs.
"""

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[Any, Any], Any]


class Fault(Exception):
    """An error the runtime itself reports, with its own type."""

    def __init__(self, error_type: str, message: str, stack_trace: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = list(stack_trace)


def load_handler(handler: str) -> Handler:
    """The handler as awslambdaric's bootstrap finds it, with the same faults."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from None
    except SyntaxError as error:
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}'],
        ) from None
    try:
        handler_function: Handler = getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return handler_function


def lambda_error(error: BaseException, request_id: str = "") -> dict[str, Any]:
    if isinstance(error, Fault):
        return {
            "errorMessage": error.message,
            "errorType": error.error_type,
            "requestId": request_id,
            "stackTrace": error.stack_trace,
        }
    frames = traceback.extract_tb(error.__traceback__)[1:]  # without this module's frame
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


class Context:
    """The parts of Lambda's context object a handler reads."""

    def __init__(
        self,
        request_id: str,
        deadline: float,
        function_name: str,
        memory_mb: str,
        function_arn: str,
    ) -> None:
        self.aws_request_id = request_id
        self._deadline = deadline  # time.monotonic()
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = function_arn
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(handler: Handler, request: dict[str, Any]) -> str:
    """The answer line: the handler's result, or its error."""
    context = Context(
        request["request_id"],
        time.monotonic() + request["timeout_s"],
        os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ""),
        request.get("function_arn", ""),
    )
    try:
        result = handler(request["event"], context)
    except Exception as error:
        return json.dumps({"error": lambda_error(error, request["request_id"])})
    try:
        return json.dumps({"result": result})
    except (TypeError, ValueError) as error:
        fault = Fault("Runtime.MarshalError", f"Unable to marshal response: {error}")
        return json.dumps({"error": lambda_error(fault, request["request_id"])})


def main() -> int:
    task_root, runtime_dir, handler_name = sys.argv[1:4]
    # The answers get their own copy of stdout; the function's prints go to the log.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.path[:0] = [task_root, runtime_dir]
    os.chdir(task_root)  # Lambda's working directory is /var/task
    started, started_cpu = time.perf_counter(), time.process_time()
    try:
        handler = load_handler(handler_name)
    except Exception as error:
        answers.write(json.dumps({"init_error": lambda_error(error)}) + "\n")
        return 1
    # How long the init took, and how much of it was this process's CPU (which, unlike the
    # elapsed time, other processes on a busy machine hardly change).
    ready = {
        "import_s": time.perf_counter() - started,
        "import_cpu_s": time.process_time() - started_cpu,
    }
    answers.write(json.dumps({"ready": ready}) + "\n")
    for line in sys.stdin:
        answers.write(invoke(handler, json.loads(line)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
