"""The kinds of alarm `Monitoring` makes: each one's name suffix, title and runbook line (the
alarm's description, and the row of docs/operating.md's alarm table).

A function reports the answers it handled itself (status 5XX without an exception, invisible
to Lambda's Errors) as an embedded-metric-format record per request: namespace
`REQUEST_METRICS_NAMESPACE`, metric `SERVER_ERROR_METRIC` (1 for a 5XX answer, else 0, so its
Average is the share of 5XX answers), dimension sets `[FunctionName]` and
`[FunctionName, ExecutedVersion]`. The alarm watches the first (every version: the new one's
failures show there during a canary); the dashboard graphs the second, version by version.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.limits import API_LATENCY_ALARM_SUFFIX

# The request metric functions emit (see the module docstring); lambda/app.py and the
# functions/ examples spell the same names (they cannot import this package).
REQUEST_METRICS_NAMESPACE = "ServerlessApp/Requests"
SERVER_ERROR_METRIC = "ServerError"


@dataclass(frozen=True)
class AlarmKind:
    """One kind of alarm: its name suffix, its title and its runbook line (the alarm's
    description and the row of docs/operating.md's alarm table)."""

    suffix: str
    title: str
    fires_when: str
    what_to_do: str


ERRORS = AlarmKind(
    "-errors",
    "failed invocations",
    "the function raised, timed out, ran out of memory or failed to start (AWS/Lambda Errors)",
    "during a release CodeDeploy rolls back by itself; otherwise search the function's log "
    "group for Traceback or Task timed out, and roll back by hand if a release caused it",
)
THROTTLES = AlarmKind(
    "-throttles",
    "throttled invocations",
    "Lambda refused invocations: the function's reserved concurrency or the account's "
    "concurrency quota is used up (AWS/Lambda Throttles)",
    "check ConcurrentExecutions; raise reserved_concurrency or the account quota, or find "
    "what made invocations longer or more frequent",
)
DURATION = AlarmKind(
    "-duration-p99",
    "p99 duration near the timeout",
    "the slowest 1 % of invocations take longer than the threshold, a share of timeout_s "
    "(AWS/Lambda Duration p99)",
    "open the X-Ray traces of slow requests: a slow dependency or a slower release (which "
    "rolls back by itself); otherwise fix the call or raise timeout_s or memory_mb",
)
DEAD_LETTERS = AlarmKind(
    "-dead-letters",
    "events in the dead-letter queue",
    "an asynchronous invocation (invocation type Event: S3, SNS or EventBridge triggers) "
    "failed every retry; the API and the load balancer invoke synchronously, so their "
    "requests never reach the queue (AWS/SQS ApproximateNumberOfMessagesVisible)",
    "read the messages (aws sqs receive-message) to see the failed events, fix the cause, "
    "then send them again or delete them",
)
SERVER_ERRORS = AlarmKind(
    "-server-errors",
    "answers with status 5XX",
    "the share of the function's own answers with status 5XX (a handled error: a broken code "
    f"path, a denied grant, a missing table) reaches the threshold ({REQUEST_METRICS_NAMESPACE} "
    f"{SERVER_ERROR_METRIC}, every version)",
    "read the function's log lines with level ERROR and compare the versions in the "
    "dashboard's server-error graph; a release rolls back by itself",
)
API_SERVER_ERRORS = AlarmKind(
    "-api-5xx",
    "5XX answers on its API routes",
    "the share of 5XX answers on the worst of the function's API routes reaches the "
    "threshold: its own 5XX, crashes and timeouts (502, 504), malformed proxy responses "
    "(AWS/ApiGateway 5XXError per resource and method, detailed metrics)",
    "read the API's access log (status, integrationLatency) and the function's log; a "
    "release rolls back by itself",
)
TARGET_SERVER_ERRORS = AlarmKind(
    "-5xx",
    "failed requests behind the load balancer",
    "the share of the target group's requests that fail reaches the threshold: the "
    "function answered 5XX (HTTPCode_Target_5XX_Count), crashed, timed out, was throttled "
    "or answered an invalid response (LambdaUserError), or Lambda failed (LambdaInternalError)",
    "the access log's error_reason field names the cause (LambdaUnhandled, "
    "LambdaInvalidResponse, LambdaThrottling, ...); a release rolls back by itself",
)
API_LATENCY = AlarmKind(
    API_LATENCY_ALARM_SUFFIX,
    "p99 latency",
    "the slowest 1 % of the stage's requests take longer than the threshold "
    "(AWS/ApiGateway Latency p99)",
    "compare IntegrationLatency: if it is as slow, the function or its dependencies are "
    "(see its duration alarm); otherwise API Gateway itself, check the AWS Health Dashboard",
)
LOAD_BALANCER_SERVER_ERRORS = AlarmKind(
    "-elb-5xx",
    "5XX answers from the load balancer itself",
    "the share of requests the load balancer answered 5XX on its own reaches the threshold: "
    "a Lambda target failed (502, also counted per target group), a target group has no "
    "target (503), WAF could not be reached (500) (HTTPCode_ELB_5XX_Count)",
    "the access log's error_reason field names the cause; check the target group "
    "attachments and the WAF association",
)
SCHEDULE_TARGET_FAILURES = AlarmKind(
    "-schedule-target-failures",
    "schedule invocations Lambda refused",
    "EventBridge Scheduler's call to invoke a schedule's target failed: the scheduler role may "
    "not invoke the live alias, the function or alias is gone, or Lambda throttled the call "
    "(AWS/Scheduler TargetErrorCount of the schedule group); Scheduler invokes asynchronously, "
    "so the function's own failures show in its errors and dead-letters alarms instead",
    "read the schedule group's schedules (aws scheduler list-schedules --group-name) and "
    "CloudTrail's Invoke errors for their role; fix the role or the target, Scheduler retries "
    "within its retry policy",
)
SCHEDULE_DROPPED = AlarmKind(
    "-schedule-dropped",
    "schedule invocations given up",
    "EventBridge Scheduler stopped retrying an invocation: its retry policy (attempts, maximum "
    "event age) is exhausted (AWS/Scheduler InvocationDroppedCount of the schedule group)",
    "the schedule's dead-letter queue holds the event (its -dead-letter-queue alarm names the "
    "schedule); fix what its target-failures alarm shows, then run the job by hand",
)
SCHEDULE_DEAD_LETTERS = AlarmKind(
    "-dead-letter-queue",
    "schedule events in the dead-letter queue",
    "an invocation of this schedule failed every retry and Scheduler delivered it to the "
    "schedule's own dead-letter queue (AWS/SQS ApproximateNumberOfMessagesVisible)",
    "read the messages (aws sqs receive-message): their attributes carry Scheduler's error "
    "code and message; fix the cause, run the job by hand, then delete them",
)
RULE_FAILED_INVOCATIONS = AlarmKind(
    "-failed-invocations",
    "rule deliveries that failed",
    "EventBridge could not invoke the rule's target after its retries: the rule's permission "
    "on the live alias is missing, the function or alias is gone, or Lambda kept throttling "
    "(AWS/Events FailedInvocations of the rule); the events are lost",
    "check the live alias's resource policy (aws lambda get-policy --qualifier live) for the "
    "rule's statement and the function's throttles; events of the failed period are not "
    "delivered again",
)
ALARM_KINDS = (
    ERRORS,
    THROTTLES,
    DURATION,
    DEAD_LETTERS,
    SERVER_ERRORS,
    API_SERVER_ERRORS,
    TARGET_SERVER_ERRORS,
    API_LATENCY,
    LOAD_BALANCER_SERVER_ERRORS,
    SCHEDULE_TARGET_FAILURES,
    SCHEDULE_DROPPED,
    SCHEDULE_DEAD_LETTERS,
    RULE_FAILED_INVOCATIONS,
)
