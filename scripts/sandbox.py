"""Each function of `make serve` in its own interpreter, from the package the stack ships.

A `Sandbox` builds the function's zip with the code that builds it for the stack
(`constructs_lib.function_package`: its dependencies installed for its runtime, its byte-code),
unpacks it once per content hash under `.cache/local-packages/<hash>/` and runs
`scripts/lambda_worker.py` on it in a separate interpreter of the runtime's minor version (where
the machine has one, see `constructs_lib.bytecode.find_interpreter`). That process sees the
unpacked package, what the Lambda runtime provides (boto3 and its dependencies, below) and the
standard library: nothing of the project's virtualenv. A function whose import fails, raises
or times out fails its own requests with Lambda's error (shape and type), logged on stderr; the
other functions and the server go on.

Before each request the sandbox compares its sources (code folder and dependency file, by
content) with those it last packaged; on a change it packages again and, when the zip differs,
starts a fresh process on it: edit, save, request.

What stands in for the runtime's own boto3 is the project's locked one (Pipfile.lock) and its
dependencies, copied from this virtualenv and compiled for the runtime; AWS's runtimes carry a
version that depends on the runtime's release and region.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import platform
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

from constructs_lib.bytecode import BytecodeUnavailable, compile_sources, find_interpreter
from constructs_lib.dependencies import Target, dependency_spec
from constructs_lib.function_package import build_function_package
from constructs_lib.packaging import Package, PackagingError, package_files

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).with_name("lambda_worker.py")
LOCAL_CACHE = PROJECT_ROOT / ".cache"
# What the Lambda Python runtimes put on sys.path besides the function's package: the SDK and
# the packages it needs (the same set on every Python runtime).
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
# Lambda's machine names.
_ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
# Lambda's own variables for a function (the configured ones come after and cannot be these).
_LAMBDA_PATH = "/usr/local/bin:/usr/bin:/bin"


class FunctionError(Exception):
    """An invocation failed as Lambda reports it: `error` has errorMessage, errorType,
    requestId and stackTrace."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error['errorType']}: {error['errorMessage']}")
        self.error = error


@dataclass(frozen=True)
class FunctionSpec:
    """One function as the stack deploys it."""

    key: str
    name: str
    source_dir: Path
    handler: str
    runtime: str
    architecture: str
    dependencies: Path | None
    timeout_s: int
    memory_mb: int
    environment: Mapping[str, str]


@dataclass(frozen=True)
class PackageFacts:
    """The package a sandbox runs: the stack's `source_code_hash` for it, and its size."""

    base64_sha256: str
    size: int


def host_architecture() -> str | None:
    return _ARCHITECTURES.get(platform.machine().lower())


def lambda_error(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": [],
    }


def runtime_standin(runtime: str, root: Path) -> Path:
    """A folder with the runtime-provided packages, as this virtualenv has them, with byte-code
    for `runtime` where its interpreter is available; made once per runtime and boto3 version."""
    folder = root / f"{runtime}-boto3-{importlib.metadata.version('boto3')}"
    if folder.is_dir():
        return folder
    files = {
        file.as_posix(): Path(str(distribution.locate_file(file)))
        for distribution in map(importlib.metadata.distribution, RUNTIME_PROVIDED)
        for file in distribution.files or []
        # Console scripts live outside site-packages (`../../bin/...`); byte-code is redone.
        if file.parts[0] != ".." and "__pycache__" not in file.parts
    }
    return _publish(folder, {**files, **compile_sources(files, runtime).files})


def unpacked(package: Package, root: Path) -> Path:
    """The package's content in a folder named after its hash, extracted once."""
    digest = base64.b64decode(package.base64_sha256).hex()[:32]
    folder = root / digest
    if folder.is_dir():
        return folder
    with zipfile.ZipFile(package.path) as archive:
        return _publish(folder, {name: archive.read(name) for name in archive.namelist()})


def _publish(folder: Path, contents: Mapping[str, Path | bytes]) -> Path:
    """Write `contents` (name -> file to copy or bytes) into `folder`, which appears complete
    or not at all (another server may be making the same one)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=folder.parent) as scratch:
        staging = Path(scratch) / "content"
        for name, content in contents.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                shutil.copyfile(content, target)
        try:
            staging.rename(folder)
        except OSError:
            if not folder.is_dir():
                raise
    return folder


def sources_digest(spec: FunctionSpec) -> str:
    """What the package is made of, by content: the packaged files and the dependency inputs."""
    digest = hashlib.sha256()
    inputs = [
        (f"code/{name.as_posix()}", spec.source_dir / name)
        for name in package_files(spec.source_dir)
    ]
    if spec.dependencies is not None:
        try:
            inputs += [
                (f"deps/{path.name}", path) for path in dependency_spec(spec.dependencies).inputs
            ]
        except PackagingError:
            inputs.append(("deps/file", spec.dependencies))
    for name, path in inputs:
        digest.update(name.encode() + b"\0")
        digest.update((path.read_bytes() if path.is_file() else b"(missing)") + b"\0")
    return digest.hexdigest()


def worker_command(
    interpreter: Path, task_root: Path, runtime_dir: Path, handler: str
) -> list[str]:
    """lambda_worker.py in `interpreter`, isolated (see its docstring)."""
    return [
        str(interpreter),
        "-I",
        "-S",
        "-B",
        str(WORKER),
        str(task_root),
        str(runtime_dir),
        handler,
    ]


def lambda_environment(
    spec: FunctionSpec, task_root: Path, runtime_dir: Path, aws_environment: Mapping[str, str]
) -> dict[str, str]:
    """The variables Lambda sets for the function, then the AWS settings, then its own."""
    return {
        "PATH": _LAMBDA_PATH,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "_HANDLER": spec.handler,
        **aws_environment,
        **spec.environment,
    }


class Worker:
    """One running lambda_worker.py process and the thread reading its answers."""

    def __init__(self, command: list[str], environment: dict[str, str], log: IO[str]) -> None:
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=environment,
            text=True,
            encoding="utf-8",
        )
        self.answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(json.loads(line))
        self.answers.put(None)  # the process ended

    def next_answer(self, timeout_s: float | None) -> dict[str, Any] | None:
        """The next answer; None when the process ended; queue.Empty after `timeout_s`."""
        return self.answers.get(timeout=timeout_s)

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class Sandbox:
    """One function's execution environment: one request at a time, like one Lambda
    execution environment, in arrival order."""

    def __init__(
        self,
        spec: FunctionSpec,
        aws_environment: Mapping[str, str],
        *,
        cache_root: Path = LOCAL_CACHE,
        log: IO[str] = sys.stderr,
        on_reload: Callable[[str], None] | None = None,
    ) -> None:
        self.spec = spec
        self._aws_environment = dict(aws_environment)
        self._cache_root = cache_root
        self._log = log
        self._on_reload = on_reload
        self._turns = TakingTurns()
        self._worker: Worker | None = None
        self._task_root: Path | None = None
        self._runtime_dir: Path | None = None
        self._packaged_digest: str | None = None
        self._package_error: str | None = None
        self.target = Target(spec.runtime, host_architecture() or spec.architecture)
        try:
            self.interpreter: Path = find_interpreter(spec.runtime).path
            self.interpreter_note = ""
        except BytecodeUnavailable:
            self.interpreter = Path(sys.executable)
            self.interpreter_note = (
                f"no {spec.runtime} on this machine: runs on Python "
                f"{sys.version_info[0]}.{sys.version_info[1]}"
            )
        self.package: PackageFacts | None = None

    def describe(self) -> str:
        """One line: what runs the function, and from which package."""
        notes = [self.interpreter_note] if self.interpreter_note else []
        if self.target.architecture != self.spec.architecture:
            notes.append(
                f"dependencies for {self.target.architecture} (this machine), "
                f"not {self.spec.architecture}"
            )
        package = (
            f"package {self.package.base64_sha256[:12]} ({self.package.size:,} B)"
            if self.package is not None
            else f"no package: {self._package_error}"
        )
        return f"{self.spec.key}: {self.interpreter} {package}" + "".join(
            f"; {note}" for note in notes
        )

    def prepare(self) -> None:
        """Package the function if its sources changed since the last package (and start afresh
        when the package differs); a packaging failure is kept for the next requests."""
        if self._runtime_dir is None:
            self._runtime_dir = runtime_standin(
                self.spec.runtime, self._cache_root / "local-runtime"
            )
        digest = sources_digest(self.spec)
        if digest == self._packaged_digest:
            return
        scratch = Path(tempfile.mkdtemp(prefix="local-package-"))
        try:
            package = build_function_package(
                self.spec.source_dir,
                scratch / "package.zip",
                dependencies=self.spec.dependencies,
                target=self.target,
            )
            task_root = unpacked(package, self._cache_root / "local-packages")
            self.package = PackageFacts(package.base64_sha256, package.path.stat().st_size)
        except (PackagingError, OSError) as error:
            self._package_error = str(error)
            self._packaged_digest = None
            self._stop_worker()
            self.package = self._task_root = None
            return
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self._packaged_digest, self._package_error = digest, None
        if task_root != self._task_root:
            reloaded = self._task_root is not None
            self._stop_worker()
            self._task_root = task_root
            if reloaded and self._on_reload is not None:
                self._on_reload(self.spec.key)

    def invoke(self, event: dict[str, Any], request_id: str) -> Any:
        """The handler's result, or FunctionError with Lambda's error."""
        with self._turns:
            self.prepare()
            if self._task_root is None:
                self._fail(
                    lambda_error("Local.PackagingError", str(self._package_error), request_id)
                )
            worker = self._worker or self._start(request_id)
            worker.send(
                {"event": event, "request_id": request_id, "timeout_s": self.spec.timeout_s}
            )
            try:
                answer = worker.next_answer(self.spec.timeout_s)
            except queue.Empty:
                self._stop_worker()
                self._fail(
                    lambda_error(
                        "Sandbox.Timedout",
                        f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {request_id} Task timed out "
                        f"after {self.spec.timeout_s:.2f} seconds",
                        request_id,
                    )
                )
            if answer is None:
                self._stop_worker()
                self._fail(self._exit_error(worker, request_id))
            if "error" in answer:
                self._fail(answer["error"])
            return answer["result"]

    def _start(self, request_id: str) -> Worker:
        """A fresh process through its init phase (the handler imported), or the init error:
        Lambda tries the init again at the next request."""
        assert self._task_root is not None and self._runtime_dir is not None
        runtime_dir = self._runtime_dir
        worker = Worker(
            worker_command(self.interpreter, self._task_root, runtime_dir, self.spec.handler),
            lambda_environment(self.spec, self._task_root, runtime_dir, self._aws_environment),
            self._log,
        )
        ready = worker.next_answer(None)
        if ready is None or "init_error" in ready:
            worker.stop()
            error = self._exit_error(worker, request_id) if ready is None else ready["init_error"]
            self._fail({**error, "requestId": request_id})
        self._worker = worker
        return worker

    def _exit_error(self, worker: Worker, request_id: str) -> dict[str, Any]:
        status = worker.process.wait()
        return lambda_error(
            "Runtime.ExitError",
            f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}",
            request_id,
        )

    def _fail(self, error: dict[str, Any]) -> NoReturn:
        """Log the error as Lambda writes it to the function's log, then raise it."""
        lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
        if error.get("stackTrace"):
            lines += ["Traceback (most recent call last):", *error["stackTrace"]]
        self._log.write(
            "".join(f"{self.spec.key}: {line.rstrip()}\n" for line in "\n".join(lines).splitlines())
        )
        self._log.flush()
        raise FunctionError(error)

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def stop(self) -> None:
        with self._turns:
            self._stop_worker()


class TakingTurns:
    """A lock granted in arrival order: with threading.Lock, which is not fair, one unlucky
    request could wait behind many later ones."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._now_serving = 0

    def __enter__(self) -> None:
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._changed.wait_for(lambda: self._now_serving == ticket)

    def __exit__(self, *exc_info: object) -> None:
        with self._changed:
            self._now_serving += 1
            self._changed.notify_all()
