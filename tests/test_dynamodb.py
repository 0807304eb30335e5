import pytest

from constructs_lib.dynamodb import (
    PARTITION_KEY,
    TTL_ATTRIBUTE,
    RequestTable,
    RequestTableProps,
    TableAccess,
)
from tests.support import TEST_KEY_ARN, build_function, only, ref, synth_construct
from tests.test_lambda_function import role_grants


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


READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
        "dynamodb:ConditionCheckItem"]  # fmt: skip
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem"]


def granted(access: TableAccess) -> tuple[dict, dict]:
    """The function role's statements by sid after `table.grant(function, access)`."""

    def build(stack):
        table = RequestTable(stack, "t", RequestTableProps("t-requests", TEST_KEY_ARN, False))
        table.grant(build_function(stack), access)

    synthesized = synth_construct(build)
    grants = role_grants(synthesized)
    del grants["SendToDeadLetterQueue"]  # every function's own
    return synthesized, grants


@pytest.mark.parametrize(
    "access, expected",
    [
        ("none", {}),
        ("read", {"ReadItems": READ}),
        ("write", {"WriteItems": WRITE}),
        ("read_write", {"ReadItems": READ, "WriteItems": WRITE}),
    ],
)
def test_grant_gives_exactly_the_asked_access_on_the_table(access, expected):
    synthesized, grants = granted(access)
    table_arn = ref(synthesized, "aws_dynamodb_table", "t_table", "arn")
    assert grants == {sid: (actions, [table_arn]) for sid, actions in expected.items()}


def test_no_grant_deletes_items_or_changes_the_table():
    _, grants = granted("read_write")
    actions = {action for actions, _ in grants.values() for action in actions}
    assert not {a for a in actions if "Delete" in a or "Table" in a or "*" in a}
