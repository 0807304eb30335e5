"""Lambda event source mappings: a queue or a DynamoDB stream polled by Lambda on behalf of a
function alias (a release that moves the alias moves the mapping's traffic with it), and the
statements the function's role needs for that source alone."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingDestinationConfig,
    LambdaEventSourceMappingDestinationConfigOnFailure,
    LambdaEventSourceMappingScalingConfig,
)
from constructs import Construct

from constructs_lib.event_limits import (
    BATCH_SIZE_WITHOUT_WINDOW_MAX,
    ESM_MAX_BATCH_SIZE,
    ESM_MAX_BATCHING_WINDOW_S,
    ESM_MAX_MAXIMUM_CONCURRENCY,
    ESM_MIN_MAXIMUM_CONCURRENCY,
    FIFO_MAX_BATCH_SIZE,
    QUEUE_DEFAULT_BATCH_SIZE,
    REPORT_BATCH_ITEM_FAILURES,
    STREAM_DEFAULT_BATCH_SIZE,
    STREAM_MAX_RECORD_AGE_S,
    STREAM_MAX_RETRY_ATTEMPTS,
    STREAM_MIN_RECORD_AGE_S,
    StartingPosition,
)
from constructs_lib.iam import Grantable
from constructs_lib.permissions import statement_name
from constructs_lib.queues import QUEUE_SEND_ACTIONS, EventQueue
from constructs_lib.releases import InvokeTarget

# What a mapping on a DynamoDB stream needs (AWSLambdaDynamoDBExecutionRole, for one stream).
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


def _check_range(key: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise ValueError(f"{key} must be {low}-{high}, got {value}")


@dataclass(frozen=True)
class QueueMappingProps:
    batch_size: int = QUEUE_DEFAULT_BATCH_SIZE
    batching_window_seconds: int = 0
    # Default: no limit but the function's and the account's concurrency.
    maximum_concurrency: int | None = None
    # The function answers which messages failed; only those are received again.
    report_batch_item_failures: bool = True

    def __post_init__(self) -> None:
        _check_range("batch_size", self.batch_size, 1, ESM_MAX_BATCH_SIZE)
        _check_range(
            "batching_window_seconds", self.batching_window_seconds, 0, ESM_MAX_BATCHING_WINDOW_S
        )
        _check_range(
            "maximum_concurrency",
            self.maximum_concurrency,
            ESM_MIN_MAXIMUM_CONCURRENCY,
            ESM_MAX_MAXIMUM_CONCURRENCY,
        )


@dataclass(frozen=True)
class StreamMappingProps:
    batch_size: int = STREAM_DEFAULT_BATCH_SIZE
    batching_window_seconds: int = 0
    starting_position: StartingPosition = "LATEST"
    report_batch_item_failures: bool = True
    bisect_on_error: bool = False
    # Default None: Lambda's -1, retried until the record expires (24 h); the iterator age
    # alarm shows a stuck shard.
    retry_attempts: int | None = None
    # Default None: Lambda's -1, no limit.
    maximum_record_age_seconds: int | None = None

    def __post_init__(self) -> None:
        _check_range("batch_size", self.batch_size, 1, ESM_MAX_BATCH_SIZE)
        _check_range(
            "batching_window_seconds", self.batching_window_seconds, 0, ESM_MAX_BATCHING_WINDOW_S
        )
        _check_range("retry_attempts", self.retry_attempts, 0, STREAM_MAX_RETRY_ATTEMPTS)
        _check_range(
            "maximum_record_age_seconds",
            self.maximum_record_age_seconds,
            STREAM_MIN_RECORD_AGE_S,
            STREAM_MAX_RECORD_AGE_S,
        )


def _response_types(report_batch_item_failures: bool) -> list[str] | None:
    return [REPORT_BATCH_ITEM_FAILURES] if report_batch_item_failures else None


def map_queue(
    scope: Construct,
    id: str,
    queue: EventQueue,
    target: InvokeTarget,
    grantee: Grantable,
    props: QueueMappingProps | None = None,
) -> LambdaEventSourceMapping:
    """Lambda polls `queue` and invokes `target` (the alias) with batches; `grantee` (the
    function) may consume that queue and no other."""
    props = props or QueueMappingProps()
    if queue.props.fifo and props.batch_size > FIFO_MAX_BATCH_SIZE:
        raise ValueError(f"a FIFO queue gives batches of at most {FIFO_MAX_BATCH_SIZE}")
    if queue.props.fifo and props.batching_window_seconds:
        raise ValueError("a FIFO queue takes no batching window")
    if (
        not queue.props.fifo
        and props.batch_size > BATCH_SIZE_WITHOUT_WINDOW_MAX
        and props.batching_window_seconds < 1
    ):
        raise ValueError(
            f"a batch_size above {BATCH_SIZE_WITHOUT_WINDOW_MAX} needs batching_window_seconds >= 1"
        )
    queue.grant_consume(grantee)
    return LambdaEventSourceMapping(
        scope,
        id,
        event_source_arn=queue.queue_arn,
        function_name=target.arn,
        batch_size=props.batch_size,
        maximum_batching_window_in_seconds=None
        if queue.props.fifo
        else props.batching_window_seconds,
        scaling_config=LambdaEventSourceMappingScalingConfig(
            maximum_concurrency=props.maximum_concurrency
        )
        if props.maximum_concurrency is not None
        else None,
        function_response_types=_response_types(props.report_batch_item_failures),
    )


def map_stream(
    scope: Construct,
    id: str,
    stream_arn: str,
    target: InvokeTarget,
    grantee: Grantable,
    props: StreamMappingProps | None = None,
    on_failure: EventQueue | None = None,
) -> LambdaEventSourceMapping:
    """Lambda reads the DynamoDB stream `stream_arn` and invokes `target` with batches;
    `grantee` may read that stream and send to `on_failure` (a standard queue that receives a
    description of each batch that failed every retry). The statements are named after
    `scope`'s id."""
    props = props or StreamMappingProps()
    # Named after `scope`: one function may read several streams.
    grant_id = scope.node.id
    grantee.add_to_role_policy(
        statement_name("ReadStream", grant_id), STREAM_READ_ACTIONS, [stream_arn]
    )
    destination = None
    if on_failure is not None:
        if on_failure.props.fifo:
            raise ValueError("a stream's failures go to a standard queue, not a FIFO one")
        grantee.add_to_role_policy(
            statement_name("SendFailures", grant_id), QUEUE_SEND_ACTIONS, [on_failure.queue_arn]
        )
        destination = LambdaEventSourceMappingDestinationConfig(
            on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(
                destination_arn=on_failure.queue_arn
            )
        )
    return LambdaEventSourceMapping(
        scope,
        id,
        event_source_arn=stream_arn,
        function_name=target.arn,
        starting_position=props.starting_position,
        batch_size=props.batch_size,
        maximum_batching_window_in_seconds=props.batching_window_seconds,
        bisect_batch_on_function_error=props.bisect_on_error,
        maximum_retry_attempts=-1 if props.retry_attempts is None else props.retry_attempts,
        maximum_record_age_in_seconds=-1
        if props.maximum_record_age_seconds is None
        else props.maximum_record_age_seconds,
        function_response_types=_response_types(props.report_batch_item_failures),
        destination_config=destination,
    )
