"""`serverless_app.summary`: families, references and the per-stack summary printed after synth."""

import json
import re

import pytest

from serverless_app.summary import (
    backend_description,
    referenced_addresses,
    resource_family,
    synth_summary,
)
from tests.support import ENVIRONMENTS, env_config


@pytest.mark.parametrize(
    ("resource_type", "family"),
    [
        ("aws_route_table_association", "network"),
        ("aws_vpc_endpoint", "network"),
        ("aws_flow_log", "network"),
        ("aws_vpc_security_group_ingress_rule", "security group"),
        ("aws_default_security_group", "security group"),
        ("aws_lb_target_group_attachment", "load balancer"),
        ("aws_api_gateway_stage", "api gateway"),
        ("aws_cloudwatch_log_group", "logs"),
        ("aws_cloudwatch_metric_alarm", "cloudwatch"),
        ("aws_lambda_permission", "lambda"),
        ("aws_s3_bucket_versioning", "s3"),
        ("aws_sqs_queue", "sqs"),
        ("aws_wafv2_web_acl_association", "waf"),
        ("random_id", "random"),
    ],
)
def test_every_type_has_a_family(resource_type, family):
    assert resource_family(resource_type) == family


def test_references_are_declared_addresses_in_expressions_and_depends_on():
    declared = {"aws_s3_bucket.code", "aws_iam_role.fn", "aws_sqs_queue.dlq"}
    body = {
        "bucket": "${aws_s3_bucket.code.id}",
        "nested": [{"role": "${aws_iam_role.fn.arn}"}],
        "depends_on": ["aws_sqs_queue.dlq"],
        "hash": "${data.aws_s3_bucket.code.arn}",  # a data source, not the resource
        "text": "${aws_vpc.not_declared.id}",
    }
    assert referenced_addresses(body, declared) == declared


def test_backend_descriptions():
    local = {"terraform": {"backend": {"local": {"path": "terraform.dev.tfstate"}}}}
    s3 = {
        "terraform": {
            "backend": {
                "s3": {"bucket": "state", "key": "dev/terraform.tfstate", "region": "eu-west-1"}
            }
        }
    }
    assert backend_description(local) == "local (terraform.dev.tfstate)"
    assert backend_description(s3) == "s3 (s3://state/dev/terraform.tfstate, eu-west-1)"
    assert backend_description({}) == "local (terraform.tfstate, Terraform's default)"


def test_summary_has_one_block_per_stack_with_counts_outputs_backend_and_folder(synth_output):
    blocks = re.split(r"\n(?=\S)", synth_summary(synth_output))
    assert [block.split(":")[0] for block in blocks] == list(ENVIRONMENTS)
    for env, block in zip(ENVIRONMENTS, blocks, strict=True):
        document = json.loads((synth_output / "stacks" / env / "cdk.tf.json").read_text())
        types = document["resource"]
        total = sum(len(items) for items in types.values())
        head, families, outputs, backend, cost = block.splitlines()
        assert head == f"{env}: {total} resources in {synth_output / 'stacks' / env}"

        pairs = [item.rsplit(" ", 1) for item in families.split(": ", 1)[1].split(", ")]
        counts = {name: int(count) for name, count in pairs}
        assert sum(counts.values()) == total
        assert set(counts) == {resource_family(t) for t in types}
        assert list(counts.values()) == sorted(counts.values(), reverse=True)

        assert outputs == f"  outputs:  {', '.join(sorted(document['output']))}"
        path = document["terraform"]["backend"]["local"]["path"]
        assert backend == f"  backend:  local ({path})"

        # The floor counts what the JSON holds: its NAT gateways, alarms and dashboard.
        assert cost.startswith("  cost:     $")
        assert f"/month always on, priced for {env_config(env).region} on " in cost
        alarms = len(types["aws_cloudwatch_metric_alarm"])
        assert f"alarms {alarms} x $0.10" in cost
        assert "dashboards 1 x $3.00" in cost
        nat_gateways = len(types.get("aws_nat_gateway", {}))
        assert ("NAT gateways" in cost) is (nat_gateways > 0)
