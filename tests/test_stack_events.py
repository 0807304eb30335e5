"""The stack's event wiring as a whole: a trigger's Terraform addresses follow its identity,
not its place in `[[triggers]]`, and a table a trigger reads gets its stream."""

from __future__ import annotations

import tomllib
from typing import Any

from serverless_app.config import load_config
from tests.support import CONFIG_DIR, resources, synth_config
from tests.test_config import write_config

TRIGGERS: list[dict[str, Any]] = [
    {"function": "worker", "queue": "orders"},
    {"function": "worker", "queue": "audits", "batch_size": 5},
    {"function": "hello", "table": "requests", "on_failure": "audits"},
]


def dev_with_triggers(triggers: list[dict[str, Any]]) -> dict[str, Any]:
    dev = tomllib.loads((CONFIG_DIR / "dev.toml").read_text())
    dev["queues"]["audits"] = {}
    dev["triggers"] = triggers
    return dev


def test_reordering_triggers_moves_no_terraform_address(tmp_path):
    first = synth_config(load_config(write_config(tmp_path, dev_with_triggers(TRIGGERS))))
    reordered = dev_with_triggers(TRIGGERS[::-1])
    second = synth_config(load_config(write_config(tmp_path, reordered, "again.toml")))
    assert first["resource"] == second["resource"]
    assert sorted(resources(first, "aws_lambda_event_source_mapping")) == [
        "trigger-hello-table-requests_mapping_771B43AF",
        "trigger-worker-queue-audits_mapping_C3602E66",
        "trigger-worker-queue-orders_mapping_89C9817F",
    ]


def test_a_table_a_trigger_reads_gets_a_stream_of_both_images(tmp_path):
    synthesized = synth_config(load_config(write_config(tmp_path, dev_with_triggers(TRIGGERS))))
    [table] = [
        body
        for address, body in resources(synthesized, "aws_dynamodb_table").items()
        if address.startswith("requests_table_")
    ]
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    [mapping] = [
        body
        for address, body in resources(synthesized, "aws_lambda_event_source_mapping").items()
        if address.startswith("trigger-hello-table-requests_")
    ]
    [table_id] = [
        a for a in resources(synthesized, "aws_dynamodb_table") if a.startswith("requests_")
    ]
    assert mapping["event_source_arn"] == f"${{aws_dynamodb_table.{table_id}.stream_arn}}"
    assert mapping["starting_position"] == "LATEST"


def test_the_table_keeps_the_stream_it_declares(tmp_path):
    dev = dev_with_triggers(TRIGGERS)
    dev["tables"]["requests"]["stream"] = "KEYS_ONLY"
    synthesized = synth_config(load_config(write_config(tmp_path, dev)))
    [table] = [
        body
        for address, body in resources(synthesized, "aws_dynamodb_table").items()
        if address.startswith("requests_table_")
    ]
    assert table["stream_view_type"] == "KEYS_ONLY"
