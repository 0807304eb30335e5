"""Local delivery for `make serve`: what Lambda's pollers, SNS, EventBridge and Scheduler do
for the file's triggers, against moto.

- A queue trigger: the stack's queue and its dead-letter queue exist in moto with the redrive
  policy, so moto moves a message received `max_receive_count` times to the dead-letter queue
  at the next receive. A poller receives batches (batch size, batching window, at most Lambda's
  6 MB payload), invokes the function with SQS's event, deletes what succeeded and, with
  `report_batch_item_failures`, fails only the items of `batchItemFailures`; a function error
  fails the whole batch. Failed messages come back after the queue's visibility timeout. At
  most `maximum_concurrency` batches are in flight.
- A table trigger: scripts/local_streams.py.
- A bucket or rule trigger: an EventBridge rule in moto with the trigger's pattern, its target
  an engine-owned queue (moto sends S3's object events to EventBridge when the bucket has
  EventBridge notifications on, and matches the pattern itself); each event is one
  asynchronous invocation (scripts/local_async.py).
- A topic trigger: an engine-owned queue subscribed to the topic in moto; each notification is
  one asynchronous invocation with SNS's event.
- A schedule: fired on demand (`fire`), an asynchronous invocation with the target's input.

Time is the engine's `clock`: a received message stays hidden in moto (SQS's longest
visibility timeout) until the clock says its visibility timeout has passed, and the engine then
makes it visible; retries wait in memory until the clock says they are due. So tests drive the
engine with a clock of their own and `step()`, independent of the machine's load.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from queue import SimpleQueue
from typing import IO, Any

from constructs_lib.event_limits import ESM_MAX_PAYLOAD_BYTES, SQS_MAX_RETENTION_S
from scripts.local_async import (
    AsyncInvocation,
    InvokeFailure,
    QueuedEvents,
    fire,
    rule_invocation,
    schedule_invocation,
    topic_invocation,
)
from scripts.local_retries import counted, reported_failures
from scripts.local_streams import StreamPoller
from scripts.local_triggers import (
    LocalQueue,
    LocalTriggers,
    QueueTrigger,
    RuleTrigger,
    ScheduleTrigger,
    TopicTrigger,
)
from scripts.sandbox import FunctionError, lambda_error
from scripts.trigger_events import (
    eventbridge_event,
    queue_arn,
    record_bytes,
    records_within,
    sns_event,
    sqs_event,
)

# A function's invocation: (function key, event, request id) -> its result, or FunctionError.
Invoke = Callable[[str, Any, str], Any]
# A boto3 client of moto for a service name.
Clients = Callable[[str], Any]
Clock = Callable[[], float]
# Runs a batch's invocation: at once (the default), or in a thread of its own.
Dispatch = Callable[[Callable[[], None]], None]

# SQS's longest visibility timeout: what the engine receives with, so that only its own clock
# decides when a message is visible again.
HOLD_S = 43_200
# SQS's most messages per ReceiveMessage.
MESSAGES_PER_RECEIVE = 10
# How often `run` looks for work when there was none.
POLL_INTERVAL_S = 0.5
# A function's own dead-letter queue keeps messages as long as SQS allows, as the stack's does.
DEAD_LETTER_ATTRIBUTES = {"MessageRetentionPeriod": str(SQS_MAX_RETENTION_S)}


def run_now(work: Callable[[], None]) -> None:
    work()


@dataclass
class _Held:
    """A received message hidden until `due` on the engine's clock."""

    receipt: str
    due: float


class _QueueReader:
    """Receives from one moto queue; the messages it holds become visible at their due time."""

    def __init__(self, sqs: Any, url: str, clock: Clock) -> None:
        self.sqs, self.url, self.clock = sqs, url, clock
        self.held: list[_Held] = []

    def release_due(self) -> None:
        now = self.clock()
        for held in [held for held in self.held if held.due <= now]:
            self.sqs.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=held.receipt, VisibilityTimeout=0
            )
            self.held.remove(held)

    def receive(self, wanted: int) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=min(wanted, MESSAGES_PER_RECEIVE),
            VisibilityTimeout=HOLD_S,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def hold(self, messages: Sequence[Mapping[str, Any]], seconds: float) -> None:
        due = self.clock() + seconds
        self.held += [_Held(message["ReceiptHandle"], due) for message in messages]


class _QueuePoller:
    """Lambda's event source mapping on one queue for one function."""

    def __init__(self, engine: DeliveryEngine, trigger: QueueTrigger, queue: LocalQueue) -> None:
        self.engine, self.trigger, self.queue = engine, trigger, queue
        self.arn = queue_arn(engine.region, queue.name)
        url = engine.sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        self.reader = _QueueReader(engine.sqs, url, engine.clock)
        self.batch: list[dict[str, Any]] = []
        self.batch_started = 0.0
        self.in_flight = 0
        self.record_bytes: dict[str, int] = {}  # by receipt handle, while the batch gathers
        # (batch, failed message ids) of each invocation that ended, for `step` to settle.
        self.ended: SimpleQueue[tuple[list[dict[str, Any]], set[str]]] = SimpleQueue()

    def step(self) -> int:
        settled = self._settle()
        limit = self.trigger.maximum_concurrency
        if limit is not None and self.in_flight >= limit:
            return settled  # the messages wait in the queue, as Lambda leaves them
        self.reader.release_due()
        while len(self.batch) < self.trigger.batch_size and not self._too_large(self.batch):
            received = self.reader.receive(self.trigger.batch_size - len(self.batch))
            if not received:
                break
            if not self.batch:
                self.batch_started = self.engine.clock()
            self.batch += received
        waited = self.engine.clock() - self.batch_started
        full = len(self.batch) >= self.trigger.batch_size or self._too_large(self.batch)
        if not self.batch or not (full or waited >= self.trigger.batching_window_s):
            return settled
        fitting = self._fitting(self.batch)
        batch, self.batch = self.batch[:fitting], self.batch[fitting:]
        for message in batch:
            self.record_bytes.pop(message["ReceiptHandle"], None)
        self.batch_started = self.engine.clock()
        self.in_flight += 1
        self.engine.dispatch(lambda: self.ended.put((batch, self._failed_items(batch))))
        self._settle()  # at once when the dispatch ran it at once
        return settled + 1

    def _event(self, batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return sqs_event(batch, self.arn, self.engine.region)

    def _too_large(self, batch: Sequence[Mapping[str, Any]]) -> bool:
        return self._fitting(batch) < len(batch)

    def _fitting(self, batch: Sequence[Mapping[str, Any]]) -> int:
        """How many messages from the front make an event of at most 6 MB."""
        return records_within(map(self._record_bytes, batch), ESM_MAX_PAYLOAD_BYTES)

    def _record_bytes(self, message: Mapping[str, Any]) -> int:
        """The size of the message's record in SQS's event, measured once per message."""
        key = message["ReceiptHandle"]
        if key not in self.record_bytes:
            self.record_bytes[key] = record_bytes(self._event([message]))
        return self.record_bytes[key]

    def _settle(self) -> int:
        """Delete what the ended invocations did, hold what they failed."""
        settled = 0
        while not self.ended.empty():
            batch, failed = self.ended.get()
            self.in_flight -= 1
            settled += 1
            self.reader.delete([message for message in batch if message["MessageId"] not in failed])
            self.reader.hold(
                [message for message in batch if message["MessageId"] in failed],
                self.queue.visibility_timeout_s,
            )
            back = f", back after {self.queue.visibility_timeout_s} s" if failed else ""
            self.engine.note(
                f"{self.trigger.function} <- queue {self.queue.key}: "
                f"{counted(len(batch), 'message')}, {len(failed)} failed{back}"
            )
        return settled

    def _failed_items(self, batch: Sequence[Mapping[str, Any]]) -> set[str]:
        identifiers = [message["MessageId"] for message in batch]
        try:
            response = self.engine.invoke(self.trigger.function, self._event(batch))
        except FunctionError:
            return set(identifiers)
        if not self.trigger.report_batch_item_failures:
            return set()
        return reported_failures(response, identifiers)


class UnknownSchedule(LookupError):
    pass


class DeliveryEngine:
    """Creates what the triggers need in moto (`setup`), then delivers (`step`, `run`)."""

    def __init__(
        self,
        clients: Clients,
        region: str,
        invoke: Invoke,
        *,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        log: IO[str] = sys.stderr,
        dispatch: Dispatch = run_now,
    ) -> None:
        self.clients, self.region, self.clock, self.now, self.log = clients, region, clock, now, log
        self.dispatch = dispatch
        self._invoke = invoke
        self.sqs = clients("sqs")
        self.schedules: dict[str, ScheduleTrigger] = {}
        self.schedule_invocations: dict[str, AsyncInvocation] = {}
        self.function_dead_letter_queues: Mapping[str, str] = {}
        self.pollers: list[_QueuePoller | QueuedEvents | StreamPoller] = []

    def invoke(self, function: str, event: Any, request_id: str | None = None) -> Any:
        """The function's result, or FunctionError; InvokeFailure when the machinery itself
        failed (logged), so that what was received goes back rather than stay hidden."""
        request_id = request_id or str(uuid.uuid4())
        try:
            return self._invoke(function, event, request_id)
        except FunctionError:
            raise
        except Exception as error:
            self.note(f"{function}: local delivery failed: " + traceback.format_exc().rstrip())
            raise InvokeFailure(
                lambda_error("Local.DeliveryError", str(error), request_id)
            ) from error

    def note(self, line: str) -> None:
        self.log.write(line + "\n")
        self.log.flush()

    def setup(self, triggers: LocalTriggers) -> None:
        queues = {queue.key: queue for queue in triggers.queues}
        for queue in triggers.queues:
            self._create_queue(queue)
        topic_arns = {
            topic.key: self.clients("sns").create_topic(Name=topic.name)["TopicArn"]
            for topic in triggers.topics
        }
        self.function_dead_letter_queues = dict(triggers.function_dead_letter_queues)
        for name in self.function_dead_letter_queues.values():
            self._ensure_queue(name)
        self.pollers += [
            _QueuePoller(self, trigger, queues[trigger.queue])
            for trigger in triggers.queue_triggers
        ]
        self.pollers += [StreamPoller(self, trigger) for trigger in triggers.table_triggers]
        for index, subscriber in enumerate(triggers.topic_triggers):
            self.pollers.append(self._subscribe(index, subscriber, topic_arns[subscriber.topic]))
        for index, rule in enumerate(triggers.rules):
            if rule.bucket is not None:
                self.clients("s3").put_bucket_notification_configuration(
                    Bucket=rule.bucket,
                    NotificationConfiguration={"EventBridgeConfiguration": {}},
                )
            self.pollers.append(self._rule(index, rule))
        self.schedules = {schedule.name: schedule for schedule in triggers.schedules}
        for schedule in triggers.schedules:
            if schedule.dead_letter_queue is not None:
                self._ensure_queue(schedule.dead_letter_queue)
            self.schedule_invocations[schedule.name] = schedule_invocation(self, schedule)

    def _create_queue(self, queue: LocalQueue) -> None:
        fifo = {"FifoQueue": "true"} if queue.fifo else {}
        # The dead-letter queue keeps what it gets as long as SQS allows, as the stack's does.
        dead_letter_url = self.sqs.create_queue(
            QueueName=queue.dead_letter_name, Attributes={**fifo, **DEAD_LETTER_ATTRIBUTES}
        )["QueueUrl"]
        dead_letter_arn = self.sqs.get_queue_attributes(
            QueueUrl=dead_letter_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        redrive = {
            "deadLetterTargetArn": dead_letter_arn,
            "maxReceiveCount": queue.max_receive_count,
        }
        self.sqs.create_queue(
            QueueName=queue.name,
            Attributes={
                **fifo,
                "VisibilityTimeout": str(queue.visibility_timeout_s),
                "MessageRetentionPeriod": str(queue.retention_s),
                "RedrivePolicy": json.dumps(redrive),
            },
        )

    def _ensure_queue(self, name: str) -> None:
        """A dead-letter queue the stack creates beside a function or schedule, unless it is
        one of the file's queues (`on_failure`), which exists already."""
        try:
            self.sqs.get_queue_url(QueueName=name)
        except self.sqs.exceptions.QueueDoesNotExist:
            self.sqs.create_queue(QueueName=name, Attributes=DEAD_LETTER_ATTRIBUTES)

    def _own_queue(self, name: str) -> tuple[str, str]:
        """An engine-owned queue standing in for a Lambda target: its URL and ARN."""
        url: str = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, queue_arn(self.region, name)

    def _subscribe(self, index: int, trigger: TopicTrigger, topic_arn: str) -> QueuedEvents:
        """moto delivers to a queue subscription, with the filter policy applied."""
        url, arn = self._own_queue(f"local-topic-{index}")
        policy = {}
        if trigger.filter_policy is not None:
            policy["FilterPolicy"] = json.dumps(trigger.filter_policy)
        if trigger.filter_policy_scope is not None:
            policy["FilterPolicyScope"] = trigger.filter_policy_scope
        subscription = self.clients("sns").subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes=policy,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        invocation = topic_invocation(self, trigger.function, f"topic {trigger.topic}")
        return QueuedEvents(self, url, invocation, lambda body: sns_event(body, subscription))

    def _rule(self, index: int, trigger: RuleTrigger) -> QueuedEvents:
        url, arn = self._own_queue(f"local-rule-{index}")
        events = self.clients("events")
        rule = f"local-{index}-{trigger.name}"[:64]
        rule_arn = events.put_rule(
            Name=rule, EventPattern=json.dumps(trigger.pattern), State="ENABLED"
        )["RuleArn"]
        events.put_targets(Rule=rule, Targets=[{"Id": "function", "Arn": arn}])
        source = f"bucket {trigger.bucket}" if trigger.bucket else f"rule {trigger.name}"
        invocation = rule_invocation(self, trigger, rule_arn, source)
        return QueuedEvents(self, url, invocation, eventbridge_event)

    def step(self) -> int:
        """One round over every poller and retry: how many invocations (or queued events) it
        handled."""
        retried = sum(invocation.step() for invocation in self.schedule_invocations.values())
        return retried + sum(poller.step() for poller in self.pollers)

    def run(self, wait: Callable[[float], bool]) -> None:
        """Deliver until `wait` (a threading.Event's wait, say) returns True; it is called with
        the poll interval whenever a round found nothing to do. A failing round is logged and
        the next one goes on."""
        while True:
            try:
                busy = self.step()
            except Exception:
                self.note("local delivery: " + traceback.format_exc().rstrip())
                busy = 0
            if not busy and wait(POLL_INTERVAL_S):
                return

    def fire(self, name: str) -> Any:
        """Invoke a schedule's function now, with its target's input, as Scheduler does (its
        retry policy and dead-letter queue included); the first attempt's result, or
        FunctionError."""
        invocation = self.schedule_invocations.get(name)
        if invocation is None:
            raise UnknownSchedule(name)
        self.note(f"{invocation.function} <- schedule {name}: fired")
        return fire(invocation, self.now())

    def describe(self) -> Iterator[str]:
        """One line per trigger, for the start-up output."""
        for poller in self.pollers:
            if isinstance(poller, _QueuePoller):
                trigger, queue = poller.trigger, poller.queue
                yield (
                    f"  queue {queue.name} -> {trigger.function} (batch {trigger.batch_size}, "
                    f"window {trigger.batching_window_s} s; to {queue.dead_letter_name} "
                    f"after {queue.max_receive_count} receives)"
                )
            elif isinstance(poller, StreamPoller):
                yield f"  stream of {poller.trigger.table_name} -> {poller.trigger.function}"
            else:
                yield f"  {poller.source} -> {poller.function}"
        for name, schedule in self.schedules.items():
            yield f"  schedule {name} ({schedule.expression}) -> {schedule.function}: on demand"
