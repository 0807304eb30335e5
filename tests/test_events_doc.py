"""docs/events.md's recipe, "Add a queue worker", run as written: its TOML appended to the
shipped dev file (the code folders pointed at lambda/), synthesized, and its handler called
with AWS's sample SQS event."""

from __future__ import annotations

import json
import re
import textwrap

from serverless_app.config import load_config
from tests.support import (
    CONFIG_DIR,
    REPO_ROOT,
    only_of_function,
    ref,
    resources,
    synth_config,
)
from tests.test_stack import inline_policies

DOC = REPO_ROOT / "docs" / "events.md"


def recipe_blocks(language: str) -> list[str]:
    section = DOC.read_text().split("\n## Add a queue worker\n")[1].split("\n## ")[0]
    return [textwrap.dedent(b) for b in re.findall(rf"```{language}\n(.*?)```", section, re.S)]


def test_the_add_a_queue_worker_recipe_runs_as_written(tmp_path):
    toml = "\n".join(recipe_blocks("toml"))
    toml = re.sub(r'source_dir = "functions/\w+"', 'source_dir = "lambda"', toml)
    path = tmp_path / "dev.toml"
    path.write_text((CONFIG_DIR / "dev.toml").read_text() + "\n" + toml)
    synthesized = synth_config(load_config(path))
    queues = {body["name"]: body for body in resources(synthesized, "aws_sqs_queue").values()}
    queue = queues["hello-dev-invoices"]
    assert queue["visibility_timeout_seconds"] == 180
    assert json.loads(queue["redrive_policy"])["maxReceiveCount"] == 3
    assert "hello-dev-invoices-dead-letters" in queues
    queue_arn = ref(synthesized, "aws_sqs_queue", "queue-invoices_queue", "arn")
    [mapping] = [
        body
        for address, body in resources(synthesized, "aws_lambda_event_source_mapping").items()
        if address.startswith("trigger-invoicer-queue-invoices_")
    ]
    assert mapping["event_source_arn"] == queue_arn
    assert mapping["function_name"] == ref(
        synthesized, "aws_lambda_alias", "function-invoicer_live", "arn"
    )
    assert (mapping["batch_size"], mapping["maximum_batching_window_in_seconds"]) == (50, 5)
    assert mapping["scaling_config"] == {"maximum_concurrency": 5}
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    billing = only_of_function(synthesized, "aws_lambda_function", "billing")
    assert billing["environment"]["variables"] == {
        "QUEUE_INVOICES_URL": ref(synthesized, "aws_sqs_queue", "queue-invoices_queue", "url")
    }
    assert set(inline_policies(synthesized, "billing")) - {
        "SendToDeadLetterQueue",
        "UseStackKey",
    } == {"SendMessagesQueueInvoices"}
    assert set(inline_policies(synthesized, "invoicer")) - {
        "SendToDeadLetterQueue",
        "UseStackKey",
    } == {"WriteItemsRequests", "ConsumeMessagesQueueInvoices"}


def test_the_recipes_handler_returns_the_messages_it_failed():
    [code] = recipe_blocks("python")
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    event = json.loads((REPO_ROOT / "tests" / "events" / "sqs-receive-message.json").read_text())
    # AWS's sample bodies are "test", no JSON: both come back; a JSON body does not.
    assert namespace["handler"](event, None) == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]
    }
    event["Records"][0]["body"] = json.dumps({"invoice": 1})
    assert namespace["handler"](event, None) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]
    }
