"""Local delivery for `make serve`: what Lambda's pollers, SNS, EventBridge and Scheduler do
for the file's triggers, against moto.

- A queue trigger: the stack's queue and its dead-letter queue exist in moto with the redrive
  policy, so moto moves a message received `max_receive_count` times to the dead-letter queue
  at the next receive. A poller receives batches (batch size, batching window), invokes the
  function with SQS's event, deletes what succeeded and, with `report_batch_item_failures`,
  fails only the items of `batchItemFailures`; a function error fails the whole batch. Failed
  messages come back after the queue's visibility timeout.
- A table trigger: the stream's records in batches, in order; a failed batch is tried again
  (from the first failed record when the function reports batch item failures) until
  `maximum_retry_attempts`.
- A bucket or rule trigger: an EventBridge rule in moto with the trigger's pattern, its target
  an engine-owned queue (moto sends S3's object events to EventBridge when the bucket has
  EventBridge notifications on, and matches the pattern itself); each event is one
  asynchronous invocation.
- A topic trigger: an engine-owned queue subscribed to the topic in moto; each notification is
  one asynchronous invocation with SNS's event.
- A schedule: fired on demand (`fire`), with the target's input.

Asynchronous invocations are tried three times as Lambda does (two retries, a minute and two
minutes after the failure), then dropped with a line in the log (on AWS the function's own
dead-letter queue gets them).

Time is the engine's `clock`: a received message stays hidden in moto (SQS's longest
visibility timeout) until the clock says its visibility timeout or retry delay has passed, and
the engine then makes it visible. So tests drive the engine with a clock of their own and
`step()`, independent of the machine's load.
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
from typing import IO, Any

from constructs_lib.event_limits import SQS_MAX_RETENTION_S
from scripts.local_triggers import (
    LocalQueue,
    LocalTriggers,
    QueueTrigger,
    RuleTrigger,
    ScheduleTrigger,
    TableTrigger,
    TopicTrigger,
)
from scripts.sandbox import FunctionError, lambda_error
from scripts.trigger_events import (
    dynamodb_stream_event,
    eventbridge_event,
    queue_arn,
    schedule_arn,
    scheduler_input,
    sns_event,
    sqs_event,
)

# A function's invocation: (function key, event, request id) -> its result, or FunctionError.
Invoke = Callable[[str, Any, str], Any]
# A boto3 client of moto for a service name.
Clients = Callable[[str], Any]
Clock = Callable[[], float]

# SQS's longest visibility timeout: what the engine receives with, so that only its own clock
# decides when a message is visible again.
HOLD_S = 43_200
# SQS's most messages per ReceiveMessage.
MESSAGES_PER_RECEIVE = 10
# Lambda's asynchronous invocation: two retries, about one and two minutes after the failures.
ASYNC_RETRY_DELAYS_S = (60, 120)
# How long a failed stream batch waits before it is tried again.
STREAM_RETRY_DELAY_S = 1
# How often `run` looks for work when there was none.
POLL_INTERVAL_S = 0.5


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def reported_failures(response: Any, batch_ids: Sequence[str]) -> set[str]:
    """The items a function's partial batch response fails, as Lambda reads it ("Reporting
    batch item failures"): no response, no list or an empty one fail nothing; an item without
    a known identifier, or a response that is not an object, fails the whole batch."""
    everything = set(batch_ids)
    if response is None:
        return set()
    if not isinstance(response, dict):
        return everything
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    identifiers = [
        item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures
    ]
    if not all(isinstance(found, str) and found in everything for found in identifiers):
        return everything
    return set(identifiers)  # type: ignore[arg-type]


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

    def step(self) -> int:
        self.reader.release_due()
        while len(self.batch) < self.trigger.batch_size:
            received = self.reader.receive(self.trigger.batch_size - len(self.batch))
            if not received:
                break
            if not self.batch:
                self.batch_started = self.engine.clock()
            self.batch += received
        waited = self.engine.clock() - self.batch_started
        full = len(self.batch) >= self.trigger.batch_size
        if not self.batch or not (full or waited >= self.trigger.batching_window_s):
            return 0
        batch, self.batch = self.batch, []
        failed = self._failed_items(batch)
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
        return 1

    def _failed_items(self, batch: Sequence[Mapping[str, Any]]) -> set[str]:
        identifiers = [message["MessageId"] for message in batch]
        event = sqs_event(batch, self.arn, self.engine.region)
        try:
            response = self.engine.invoke(self.trigger.function, event)
        except FunctionError:
            return set(identifiers)
        if not self.trigger.report_batch_item_failures:
            return set()
        return reported_failures(response, identifiers)


class _AsyncPoller:
    """One asynchronous invocation per message of an engine-owned queue (a rule's target or a
    topic's subscription), tried as Lambda tries asynchronous invocations."""

    def __init__(
        self,
        engine: DeliveryEngine,
        url: str,
        function: str,
        source: str,
        to_event: Callable[[dict[str, Any]], Any],
    ) -> None:
        self.engine, self.function, self.source, self.to_event = engine, function, source, to_event
        self.reader = _QueueReader(engine.sqs, url, engine.clock)

    def step(self) -> int:
        self.reader.release_due()
        messages = self.reader.receive(MESSAGES_PER_RECEIVE)
        for message in messages:
            attempt = int(message["Attributes"]["ApproximateReceiveCount"])
            try:
                self.engine.invoke(self.function, self.to_event(json.loads(message["Body"])))
            except FunctionError:
                if attempt <= len(ASYNC_RETRY_DELAYS_S):
                    delay = ASYNC_RETRY_DELAYS_S[attempt - 1]
                    self.reader.hold([message], delay)
                    self.engine.note(
                        f"{self.function} <- {self.source}: failed, again in {delay} s"
                    )
                    continue
                self.engine.note(
                    f"{self.function} <- {self.source}: failed {attempt} times, dropped "
                    "(on AWS: to the function's dead-letter queue)"
                )
            else:
                self.engine.note(f"{self.function} <- {self.source}: 1 event")
            self.reader.delete([message])
        return len(messages)


class _StreamPoller:
    """Lambda's event source mapping on a table's stream: batches in order; a failed batch is
    tried again, from its first failed record when the function reports them."""

    def __init__(self, engine: DeliveryEngine, trigger: TableTrigger) -> None:
        self.engine, self.trigger = engine, trigger
        self.streams = engine.clients("dynamodbstreams")
        self.arn = _stream_arn(engine.clients("dynamodb"), trigger)
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self.iterator: str = self.streams.get_shard_iterator(
            StreamArn=self.arn,
            ShardId=shards[0]["ShardId"],
            ShardIteratorType=trigger.starting_position,
        )["ShardIterator"]
        self.records: list[dict[str, Any]] = []
        self.attempts = 0
        self.retry_at = 0.0

    def step(self) -> int:
        if self.engine.clock() < self.retry_at:
            return 0
        if not self.records:
            answer = self.streams.get_records(
                ShardIterator=self.iterator, Limit=self.trigger.batch_size
            )
            self.iterator, self.records = answer["NextShardIterator"], answer["Records"]
        batch = self.records[: self.trigger.batch_size]
        if not batch:
            return 0
        numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        failed = self._failed_items(batch, numbers)
        source = f"{self.trigger.function} <- table {self.trigger.table_name}"
        if not failed:
            self._advance(len(batch))
            self.engine.note(f"{source}: {counted(len(batch), 'record')}")
            return 1
        self.attempts += 1
        limit = self.trigger.maximum_retry_attempts
        if 0 <= limit < self.attempts:
            self._advance(len(batch))
            self.engine.note(
                f"{source}: {counted(len(batch), 'record')} failed {self.attempts} times, skipped"
            )
            return 1
        first_failed = min(numbers.index(number) for number in failed)
        self.records = self.records[first_failed:]
        self.retry_at = self.engine.clock() + STREAM_RETRY_DELAY_S
        again = counted(len(batch) - first_failed, "record")
        self.engine.note(f"{source}: {again} from the first failed one, tried again")
        return 1

    def _advance(self, count: int) -> None:
        self.records = self.records[count:]
        self.attempts = 0

    def _failed_items(self, batch: Sequence[Mapping[str, Any]], numbers: list[str]) -> set[str]:
        try:
            response = self.engine.invoke(
                self.trigger.function, dynamodb_stream_event(batch, self.arn)
            )
        except FunctionError:
            return set(numbers)
        if not self.trigger.report_batch_item_failures:
            return set()
        return reported_failures(response, numbers)


def _stream_arn(dynamodb: Any, trigger: TableTrigger) -> str:
    """The table's stream, turned on with the trigger's view when the table has none (the stack
    turns it on for a trigger too)."""
    table = dynamodb.describe_table(TableName=trigger.table_name)["Table"]
    if "LatestStreamArn" not in table:
        specification = {"StreamEnabled": True, "StreamViewType": trigger.stream_view}
        table = dynamodb.update_table(
            TableName=trigger.table_name, StreamSpecification=specification
        )["TableDescription"]
    arn: str = table["LatestStreamArn"]
    return arn


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
    ) -> None:
        self.clients, self.region, self.clock, self.now, self.log = clients, region, clock, now, log
        self._invoke = invoke
        self.sqs = clients("sqs")
        self.schedules: dict[str, ScheduleTrigger] = {}
        self.pollers: list[_QueuePoller | _AsyncPoller | _StreamPoller] = []

    def invoke(self, function: str, event: Any) -> Any:
        """The function's result, or FunctionError: a failure of the machinery itself counts
        as the function's (logged), so what was received goes back rather than stay hidden."""
        request_id = str(uuid.uuid4())
        try:
            return self._invoke(function, event, request_id)
        except FunctionError:
            raise
        except Exception as error:
            self.note(f"{function}: local delivery failed: " + traceback.format_exc().rstrip())
            raise FunctionError(
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
        self.pollers += [
            _QueuePoller(self, trigger, queues[trigger.queue])
            for trigger in triggers.queue_triggers
        ]
        self.pollers += [_StreamPoller(self, trigger) for trigger in triggers.table_triggers]
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

    def _create_queue(self, queue: LocalQueue) -> None:
        fifo = {"FifoQueue": "true"} if queue.fifo else {}
        # The dead-letter queue keeps what it gets as long as SQS allows, as the stack's does.
        dead_letter_url = self.sqs.create_queue(
            QueueName=queue.dead_letter_name,
            Attributes={**fifo, "MessageRetentionPeriod": str(SQS_MAX_RETENTION_S)},
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

    def _own_queue(self, name: str) -> tuple[str, str]:
        """An engine-owned queue standing in for a Lambda target: its URL and ARN."""
        url: str = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, queue_arn(self.region, name)

    def _subscribe(self, index: int, trigger: TopicTrigger, topic_arn: str) -> _AsyncPoller:
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
        return _AsyncPoller(
            self,
            url,
            trigger.function,
            f"topic {trigger.topic}",
            lambda body: sns_event(body, subscription),
        )

    def _rule(self, index: int, trigger: RuleTrigger) -> _AsyncPoller:
        url, arn = self._own_queue(f"local-rule-{index}")
        events = self.clients("events")
        rule = f"local-{index}-{trigger.name}"[:64]
        events.put_rule(Name=rule, EventPattern=json.dumps(trigger.pattern), State="ENABLED")
        events.put_targets(Rule=rule, Targets=[{"Id": "function", "Arn": arn}])
        source = f"bucket {trigger.bucket}" if trigger.bucket else f"rule {trigger.name}"
        return _AsyncPoller(self, url, trigger.function, source, eventbridge_event)

    def step(self) -> int:
        """One round over every poller: how many invocations (or queued events) it handled."""
        return sum(poller.step() for poller in self.pollers)

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
        """Invoke a schedule's function now, with its target's input; its result, or
        FunctionError."""
        schedule = self.schedules.get(name)
        if schedule is None:
            raise UnknownSchedule(name)
        arn = schedule_arn(self.region, schedule.group, schedule.schedule_name)
        result = self.invoke(schedule.function, scheduler_input(schedule.input, arn, self.now()))
        self.note(f"{schedule.function} <- schedule {name}: fired")
        return result

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
            elif isinstance(poller, _StreamPoller):
                yield f"  stream of {poller.trigger.table_name} -> {poller.trigger.function}"
            else:
                yield f"  {poller.source} -> {poller.function}"
        for name, schedule in self.schedules.items():
            yield f"  schedule {name} ({schedule.expression}) -> {schedule.function}: on demand"
