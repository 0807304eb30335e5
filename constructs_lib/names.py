"""Names the constructs derive from the names they are given. Standard library only: the
configuration checks validate derived names against AWS's rules before anything is built."""

from __future__ import annotations

# The load balancer's access-log bucket: `<load balancer name>-logs-` plus Terraform's suffix.
ACCESS_LOG_BUCKET_INFIX = "-logs-"


def access_log_bucket_prefix(load_balancer_name: str) -> str:
    return f"{load_balancer_name}{ACCESS_LOG_BUCKET_INFIX}"


# A function's own dead-letter queue (its failed asynchronous invocations): `<function>-dlq`.
FUNCTION_DEAD_LETTER_SUFFIX = "-dlq"


def function_dead_letter_queue_name(function_name: str) -> str:
    return f"{function_name}{FUNCTION_DEAD_LETTER_SUFFIX}"
