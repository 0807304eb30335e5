import pytest

from constructs_lib.dynamodb import (
    PARTITION_KEY,
    TTL_ATTRIBUTE,
    RequestTable,
    RequestTableProps,
)
from tests.support import TEST_KEY_ARN, only, synth_construct


def table_json(deletion_protection: bool) -> dict:
    props = RequestTableProps("dev-requests", TEST_KEY_ARN, deletion_protection)
    synthesized = synth_construct(lambda stack: RequestTable(stack, "t", props))
    return only(synthesized, "aws_dynamodb_table")


@pytest.fixture(scope="module")
def table() -> dict:
    return table_json(deletion_protection=False)


def test_on_demand_table_keyed_by_string_partition_key(table):
    assert table["name"] == "dev-requests"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == PARTITION_KEY
    assert table["attribute"] == [{"name": PARTITION_KEY, "type": "S"}]


def test_point_in_time_recovery(table):
    assert table["point_in_time_recovery"] == {"enabled": True}


def test_encrypted_with_the_stack_key(table):
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": TEST_KEY_ARN}


def test_request_records_expire_through_ttl(table):
    assert table["ttl"] == {"attribute_name": TTL_ATTRIBUTE, "enabled": True}


@pytest.mark.parametrize("protected", [True, False])
def test_deletion_protection_follows_props(protected):
    assert table_json(protected)["deletion_protection_enabled"] is protected
