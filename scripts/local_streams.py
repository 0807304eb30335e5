"""Lambda's event source mapping on a table's stream, in `make serve` ("Retain discarded records
for a DynamoDB event source", "Configuring partial batch response with DynamoDB", Lambda
guide):

- Batches of `batch_size` records, in order, gathered for up to `batching_window_s`, within
  Lambda's 6 MB payload; the next batch only after this one succeeded or was discarded.
- A function error retries the batch; with `bisect_on_error` a failed batch of two or more
  records is split in two and the halves are tried in order first (splitting uses no retry).
- With `report_batch_item_failures`, the batch is retried from the first failed record (the
  checkpoint); the records before it are done.
- A batch retried `maximum_retry_attempts` times (-1: no limit), or records older than
  `maximum_record_age_s` (-1: no limit), are discarded: the `on_failure` queue gets the
  invocation record describing them (the records themselves stay in the stream).
- A failure to invoke at all (locally: the machinery) is retried without using up retries.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from constructs_lib.event_limits import ESM_MAX_PAYLOAD_BYTES
from scripts.local_async import InvokeFailure
from scripts.local_retries import counted, reported_failures, send_dead_letter
from scripts.sandbox import FunctionError
from scripts.trigger_events import (
    dynamodb_stream_event,
    iso_seconds,
    record_bytes,
    records_within,
)

if TYPE_CHECKING:
    from scripts.local_delivery import DeliveryEngine
    from scripts.local_triggers import TableTrigger

# How long a failed stream batch waits before it is tried again.
STREAM_RETRY_DELAY_S = 1
# The conditions an invocation record names ("condition" of its requestContext).
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"
NO_LIMIT = -1


def _created(record: Mapping[str, Any]) -> datetime:
    created = record["dynamodb"]["ApproximateCreationDateTime"]
    return created if isinstance(created, datetime) else datetime.fromtimestamp(created, UTC)


class StreamPoller:
    """Lambda's event source mapping on one table's stream for one function."""

    def __init__(self, engine: DeliveryEngine, trigger: TableTrigger) -> None:
        self.engine, self.trigger = engine, trigger
        self.streams = engine.clients("dynamodbstreams")
        self.arn = _stream_arn(engine.clients("dynamodb"), trigger)
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self.shard = shards[0]["ShardId"]
        self.iterator: str = self.streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=self.shard, ShardIteratorType=trigger.starting_position
        )["ShardIterator"]
        self.records: list[dict[str, Any]] = []
        # The sizes of the next batches, front first, once a batch was retried or split;
        # empty: up to `batch_size`.
        self.batch_sizes: list[int] = []
        self.retries = 0
        self.invocations = 0  # of the batch at the front, for its invocation record
        self.last_error: FunctionError | None = None
        self.retry_at = 0.0
        self.gathering_since = 0.0
        self.record_bytes: dict[str, int] = {}  # by sequence number, while unread

    @property
    def label(self) -> str:
        return f"{self.trigger.function} <- table {self.trigger.table_name}"

    def step(self) -> int:
        if self.engine.clock() < self.retry_at:
            return 0
        self._gather()
        if self._discard_expired():
            return 1
        if self.batch_sizes:
            batch = self.records[: self.batch_sizes[0]]  # a retried or split batch: at once
        else:
            batch = self._new_batch()
            if self._window_open(batch):
                return 0
        if not batch:
            return 0
        self._invoke(batch)
        return 1

    def _gather(self) -> None:
        """Read up to a batch of records; the batching window starts with the first."""
        wanted = self.trigger.batch_size - len(self.records)
        if wanted <= 0:
            return
        answer = self.streams.get_records(ShardIterator=self.iterator, Limit=wanted)
        if answer["Records"] and not self.records:
            self.gathering_since = self.engine.clock()
        self.iterator = answer["NextShardIterator"]
        self.records += answer["Records"]

    def _record_bytes(self, record: Mapping[str, Any]) -> int:
        """The size of the record in the stream's event, measured once per record."""
        number = record["dynamodb"]["SequenceNumber"]
        if number not in self.record_bytes:
            self.record_bytes[number] = record_bytes(dynamodb_stream_event([record], self.arn))
        return self.record_bytes[number]

    def _new_batch(self) -> list[dict[str, Any]]:
        """Up to `batch_size` records from the front, within Lambda's 6 MB payload."""
        batch = self.records[: self.trigger.batch_size]
        return batch[: records_within(map(self._record_bytes, batch), ESM_MAX_PAYLOAD_BYTES)]

    def _window_open(self, batch: list[dict[str, Any]]) -> bool:
        """A new batch that is not full waits until `batching_window_s` has passed since its
        first record was read."""
        full = len(batch) >= self.trigger.batch_size or len(batch) < len(self.records)
        waited = self.engine.clock() - self.gathering_since
        return not full and waited < self.trigger.batching_window_s

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        self.invocations += 1
        try:
            response = self.engine.invoke(
                self.trigger.function, dynamodb_stream_event(batch, self.arn), str(uuid.uuid4())
            )
        except InvokeFailure:
            # Lambda never reached the function: tried again, no retry used up.
            self.invocations -= 1
            self.retry_at = self.engine.clock() + STREAM_RETRY_DELAY_S
            self.engine.note(f"{self.label}: Invoke failed, tried again")
            return
        except FunctionError as error:
            self.last_error = error
            if self.trigger.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                self.batch_sizes[:1] = [half, len(batch) - half]
                self.engine.note(f"{self.label}: {counted(len(batch), 'record')} failed, split")
                return
            self._retry(len(batch), "")
            return
        failed = set()
        if self.trigger.report_batch_item_failures:
            failed = reported_failures(response, numbers)
        if not failed:
            self._forget(len(batch))
            self.engine.note(f"{self.label}: {counted(len(batch), 'record')}")
            return
        # The records before the first failed one are done: the retry starts at that one.
        checkpoint = min(numbers.index(number) for number in failed)
        self.records = self.records[checkpoint:]
        self.last_error = None
        self._retry(len(batch) - checkpoint, " from the first failed one")

    def _retry(self, count: int, which: str) -> None:
        """The batch at the front, its first `count` records, again; or discarded once it
        was retried `maximum_retry_attempts` times."""
        limit = self.trigger.maximum_retry_attempts
        if limit != NO_LIMIT and self.retries >= limit:
            self._discard(count, RETRIES_EXHAUSTED)
            return
        self.retries += 1
        self.batch_sizes[:1] = [count]
        self.retry_at = self.engine.clock() + STREAM_RETRY_DELAY_S
        self.engine.note(f"{self.label}: {counted(count, 'record')}{which}, tried again")

    def _forget(self, count: int) -> None:
        """The batch at the front, its first `count` records, needs no more invocations."""
        for record in self.records[:count]:
            self.record_bytes.pop(record["dynamodb"]["SequenceNumber"], None)
        self.records = self.records[count:]
        self.batch_sizes[:1] = []
        self.retries = self.invocations = 0
        self.last_error = None

    def _discard_expired(self) -> bool:
        """Discard the records at the front older than `maximum_record_age_s`."""
        if self.trigger.maximum_record_age_s == NO_LIMIT:
            return False
        oldest = self.engine.now() - timedelta(seconds=self.trigger.maximum_record_age_s)
        expired = 0
        while expired < len(self.records) and _created(self.records[expired]) < oldest:
            expired += 1
        if expired:
            self.batch_sizes = []
            self._discard(expired, RECORD_AGE_EXCEEDED)
        return expired > 0

    def _discard(self, count: int, condition: str) -> None:
        record = self._invocation_record(self.records[:count], condition)
        self._forget(count)
        what = f"{self.label}: {counted(count, 'record')} discarded ({condition})"
        if self.trigger.on_failure is None:
            self.engine.note(what)
            return
        send_dead_letter(self.engine.sqs, self.trigger.on_failure, record, {})
        self.engine.note(f"{what}, described to {self.trigger.on_failure}")

    def _invocation_record(self, records: Sequence[Mapping[str, Any]], condition: str) -> Any:
        """What Lambda sends an on-failure destination for discarded stream records: the
        invocation's context and where the records are, not the records."""
        request: dict[str, Any] = {
            "requestId": self.last_error.error["requestId"] if self.last_error else None,
            "functionArn": self.trigger.target_arn,
            "condition": condition,
            "approximateInvokeCount": self.invocations,
        }
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if self.last_error is not None:
            response["functionError"] = "Unhandled"
        return {
            "requestContext": request,
            "responseContext": response,
            "version": "1.0",
            "timestamp": self.engine.now()
            .astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": self.shard,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso_seconds(_created(records[0])),
                "approximateArrivalOfLastRecord": iso_seconds(_created(records[-1])),
                "batchSize": len(records),
                "streamArn": self.arn,
            },
        }


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
