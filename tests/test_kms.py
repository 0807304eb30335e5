import json

import pytest

from constructs_lib.kms import StackKey, StackKeyProps
from tests.support import only, synth_construct


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(
        lambda stack: StackKey(stack, "key", StackKeyProps(alias="dev", region="eu-west-1"))
    )


@pytest.fixture(scope="module")
def key_policy(synthesized) -> dict:
    return json.loads(only(synthesized, "aws_kms_key")["policy"])


def test_customer_managed_key_with_rotation_and_alias(synthesized):
    key = only(synthesized, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    assert only(synthesized, "aws_kms_alias")["name"] == "alias/dev"


def test_key_policy_grants_cloudwatch_logs_of_this_account_and_region(key_policy):
    [logs] = [s for s in key_policy["Statement"] if s["Sid"] == "CloudWatchLogsUseKey"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= set(logs["Action"])
    [arn_pattern] = logs["Condition"]["ArnLike"].values()
    assert arn_pattern.startswith("arn:${data.aws_partition.")
    assert arn_pattern.endswith(":log-group:*")
    assert ":logs:eu-west-1:" in arn_pattern


def test_key_policy_lists_actions_instead_of_kms_wildcard(key_policy):
    actions = [a for s in key_policy["Statement"] for a in s["Action"]]
    assert "kms:PutKeyPolicy" in actions  # the account can never lock itself out
    assert not [a for a in actions if "*" in a]
