"""What the local delivery engine's tests share: moto in server mode, a real function process
that records each event it gets, and a harness that runs the engine on a clock the tests move.

The function: a record whose text holds FAIL is reported as a failed item; an event holding
CRASH raises. The harness can also make the machinery fail (`machinery_down`): then no
invocation reaches the function, as when Lambda's Invoke call fails.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scripts.local_delivery import DeliveryEngine, run_now
from scripts.local_triggers import LocalTriggers
from scripts.sandbox import FunctionSpec, Sandbox
from tests.moto_server import emulator_clients, moto_server, reset

REGION = "us-east-1"
# A record whose text holds FAIL is reported as a failed item; an event holding CRASH raises.
WORKER_APP = """import json
import os


def handler(event, context):
    with open(os.environ["RECORD"], "a", encoding="utf-8") as record:
        record.write(json.dumps(event) + "\\n")
    if "CRASH" in json.dumps(event):
        raise RuntimeError("asked to crash")
    records = event.get("Records", []) if isinstance(event, dict) else []
    failed = [
        record.get("messageId") or record["dynamodb"]["SequenceNumber"]
        for record in records
        if "FAIL" in json.dumps(record)
    ]
    return {"batchItemFailures": [{"itemIdentifier": item} for item in failed]}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# Each fixture goes by the name tests use; a test module imports the `*_fixture` functions.
@pytest.fixture(scope="module", name="moto_url")
def moto_url_fixture() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module", name="worker")
def worker_fixture(tmp_path_factory) -> Iterator[tuple[Sandbox, Path]]:
    """The function every trigger invokes, in its own process; it appends each event to a
    file."""
    folder = tmp_path_factory.mktemp("worker")
    (folder / "app.py").write_text(WORKER_APP)
    record = folder / "events.jsonl"
    spec = FunctionSpec(
        key="worker",
        name="t-dev-worker",
        source_dir=folder,
        handler="app.handler",
        runtime="python3.13",
        architecture="x86_64",
        dependencies=None,
        timeout_s=30,
        memory_mb=128,
        environment={"RECORD": str(record)},
    )
    sandbox = Sandbox(spec, {}, log=open(folder / "log.txt", "w"))  # noqa: SIM115
    yield sandbox, record
    sandbox.stop()


@pytest.fixture(name="aws")
def aws_fixture(moto_url):
    reset(moto_url)
    return emulator_clients(moto_url, REGION)


class Harness:
    def __init__(
        self,
        aws: Any,
        worker: tuple[Sandbox, Path],
        triggers: LocalTriggers,
        *,
        dispatch: Callable[[Callable[[], None]], None] = run_now,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.aws = aws
        self.sandbox, self.record = worker
        self.record.write_text("")
        self.clock = FakeClock()
        self.log = io.StringIO()
        self.machinery_down = False
        self.engine = DeliveryEngine(
            aws, REGION, self._invoke, clock=self.clock, now=now, log=self.log, dispatch=dispatch
        )
        self.engine.setup(triggers)

    def _invoke(self, key: str, event: Any, request_id: str) -> Any:
        assert key == "worker"
        if self.machinery_down:
            raise OSError("the function's process could not be started")
        return self.sandbox.invoke(event, request_id)

    def events(self) -> list[Any]:
        """The events the function received since the last call."""
        lines = self.record.read_text().splitlines()
        self.record.write_text("")
        return [json.loads(line) for line in lines]

    def bodies(self) -> list[list[str]]:
        """Per invocation since the last call, the bodies of its SQS records."""
        return [[record["body"] for record in event["Records"]] for event in self.events()]

    def queue_url(self, name: str) -> str:
        return self.aws("sqs").get_queue_url(QueueName=name)["QueueUrl"]

    def send(self, queue: str, *bodies: str) -> None:
        for body in bodies:
            self.aws("sqs").send_message(QueueUrl=self.queue_url(queue), MessageBody=body)

    def visible_bodies(self, queue: str) -> list[str]:
        return sorted(message["Body"] for message in self.messages(queue))

    def messages(self, queue: str) -> list[dict[str, Any]]:
        """The queue's visible messages (up to 10), with their attributes, left visible."""
        answer = self.aws("sqs").receive_message(
            QueueUrl=self.queue_url(queue),
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
        )
        return answer.get("Messages", [])

    def run_for(self, seconds: float, tick: float = 1) -> None:
        """Step the engine every `tick` seconds of its clock for `seconds`."""
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.engine.step()
            self.clock.advance(tick)
        self.engine.step()


def attributes(message: dict[str, Any]) -> dict[str, str]:
    """A message's attributes, name -> value."""
    return {
        name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()
    }
