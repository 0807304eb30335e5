"""An SQS queue with its own dead-letter queue, both encrypted with a customer-managed key, the
grants a producer and a consumer need, and the queue policy a service sending to it needs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from constructs_lib.event_limits import (
    FIFO_SUFFIX,
    SQS_DEFAULT_RETENTION_S,
    SQS_DEFAULT_VISIBILITY_TIMEOUT_S,
    SQS_MAX_RECEIVE_COUNT,
    SQS_MAX_RETENTION_S,
    SQS_MAX_VISIBILITY_TIMEOUT_S,
    SQS_MIN_RECEIVE_COUNT,
    SQS_MIN_RETENTION_S,
    SQS_QUEUE_NAME_MAX,
)
from constructs_lib.iam import Grantable
from constructs_lib.permissions import statement_name

# What a producer needs: sending one message or a batch (SendMessageBatch is authorized as
# sqs:SendMessage).
QUEUE_SEND_ACTIONS = ("sqs:SendMessage",)
# What a Lambda event source mapping needs on its queue (AWSLambdaSQSQueueExecutionRole, for
# one queue): the mapping checks the attributes, receives, deletes what succeeded and changes
# the visibility of what it returns.
QUEUE_CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)
# A dead-letter queue keeps what failed as long as SQS allows: a failure found late is still
# there to read.
DEAD_LETTER_RETENTION_S = SQS_MAX_RETENTION_S
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class QueueProps:
    # The queue's name; a FIFO queue's ends with `.fifo`.
    name: str
    # The dead-letter queue's name (FIFO like the queue).
    dead_letter_name: str
    # Customer-managed key for both queues (server-side encryption).
    kms_key_arn: str
    # Default: a standard queue.
    fifo: bool = False
    # Receives of a message before SQS moves it to the dead-letter queue.
    max_receive_count: int = 5
    retention_seconds: int = SQS_DEFAULT_RETENTION_S
    # Default SQS's 30 s; a queue Lambda consumes needs at least the function's timeout.
    visibility_timeout_seconds: int = SQS_DEFAULT_VISIBILITY_TIMEOUT_S

    def __post_init__(self) -> None:
        for name in (self.name, self.dead_letter_name):
            if name.endswith(FIFO_SUFFIX) != self.fifo:
                raise ValueError(f"queue name {name!r}: {FIFO_SUFFIX} if and only if fifo")
            stem = name.removesuffix(FIFO_SUFFIX)
            if len(name) > SQS_QUEUE_NAME_MAX or not _QUEUE_NAME.fullmatch(stem):
                raise ValueError(
                    f"queue name {name!r}: at most {SQS_QUEUE_NAME_MAX} letters, digits, - or _"
                    + (f", ending in {FIFO_SUFFIX}" if self.fifo else "")
                )
        bounds = {
            "max_receive_count": (SQS_MIN_RECEIVE_COUNT, SQS_MAX_RECEIVE_COUNT),
            "retention_seconds": (SQS_MIN_RETENTION_S, SQS_MAX_RETENTION_S),
            "visibility_timeout_seconds": (0, SQS_MAX_VISIBILITY_TIMEOUT_S),
        }
        for key, (low, high) in bounds.items():
            if not low <= getattr(self, key) <= high:
                raise ValueError(f"{key} must be {low}-{high}, got {getattr(self, key)}")


class EventQueue(Construct):
    """The queue and its dead-letter queue (`dead_letter_name`), which receives a message after
    `max_receive_count` receives that did not delete it."""

    def __init__(self, scope: Construct, id: str, props: QueueProps) -> None:
        super().__init__(scope, id)
        self.props = props
        # Names its grant statements; kept, as `node.id` is a round trip to the jsii kernel.
        self.grant_id = id
        # Per service principal, the resources it may send for (`allow_service_to_send`).
        self._service_senders: dict[str, list[str]] = {}
        self._policy: SqsQueuePolicy | None = None
        # Left out for a standard queue, as AWS answers it.
        fifo = True if props.fifo else None
        self.dead_letter_queue = SqsQueue(
            self,
            "dlq",
            name=props.dead_letter_name,
            kms_master_key_id=props.kms_key_arn,
            message_retention_seconds=DEAD_LETTER_RETENTION_S,
            fifo_queue=fifo,
        )
        self.queue = SqsQueue(
            self,
            "queue",
            name=props.name,
            kms_master_key_id=props.kms_key_arn,
            message_retention_seconds=props.retention_seconds,
            visibility_timeout_seconds=props.visibility_timeout_seconds,
            # Compact, as SQS answers it: the AWS provider compares the text, and a space
            # after a colon would be a change on every plan.
            redrive_policy=json.dumps(
                {
                    "deadLetterTargetArn": self.dead_letter_queue_arn,
                    "maxReceiveCount": props.max_receive_count,
                },
                separators=(",", ":"),
            ),
            fifo_queue=fifo,
        )

    # Read once: every read is a round trip to the jsii kernel, for the same reference.
    @cached_property
    def queue_arn(self) -> str:
        return self.queue.arn

    @cached_property
    def queue_url(self) -> str:
        return self.queue.url

    @cached_property
    def dead_letter_queue_arn(self) -> str:
        return self.dead_letter_queue.arn

    def grant_send(self, grantee: Grantable) -> None:
        """Allow sending to the queue (statement `SendMessages<Id>`). The messages are
        encrypted with the queue's key: the grantee needs `kms:GenerateDataKey` on it too."""
        grantee.add_to_role_policy(
            statement_name("SendMessages", self.grant_id), QUEUE_SEND_ACTIONS, [self.queue_arn]
        )

    def grant_consume(self, grantee: Grantable) -> None:
        """What an event source mapping on this queue needs from the function's role, on this
        queue only (statement `ConsumeMessages<Id>`); `kms:Decrypt` on the key besides."""
        grantee.add_to_role_policy(
            statement_name("ConsumeMessages", self.grant_id),
            QUEUE_CONSUME_ACTIONS,
            [self.queue_arn],
        )

    def allow_service_to_send(self, service: str, source_arn: str) -> None:
        """Let an AWS service principal (`events.amazonaws.com`) send to the queue on behalf of
        `source_arn` (an EventBridge rule) only. A service is no IAM principal of the account:
        only the queue policy lets it in. One policy per queue (SQS keeps one), one statement
        per service listing every resource allowed; the service needs the queue's key too
        (its key policy)."""
        self._service_senders.setdefault(service, []).append(source_arn)
        statements = [
            {
                "Sid": f"{service.split('.')[0].capitalize()}Sends",
                "Effect": "Allow",
                "Principal": {"Service": sender},
                "Action": list(QUEUE_SEND_ACTIONS),
                "Resource": self.queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sources}},
            }
            for sender, sources in self._service_senders.items()
        ]
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        if self._policy is None:
            self._policy = SqsQueuePolicy(self, "policy", queue_url=self.queue_url, policy=document)
        else:
            self._policy.policy = document
