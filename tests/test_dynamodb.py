import pytest

from constructs_lib.dynamodb import KeyAttribute, Table, TableProps
from constructs_lib.storage import TableAccess
from tests.support import TEST_KEY_ARN, build_function, only, ref, synth_construct
from tests.test_lambda_function import role_grants

PARTITION = KeyAttribute("pk", "S")


def table_json(**props) -> dict:
    full = TableProps("dev-orders", PARTITION, TEST_KEY_ARN, **props)
    return only(synth_construct(lambda stack: Table(stack, "t", full)), "aws_dynamodb_table")


@pytest.fixture(scope="module")
def table() -> dict:
    return table_json()


def test_defaults_on_demand_keyed_by_the_partition_key_alone(table):
    assert table["name"] == "dev-orders"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == "pk"
    assert "range_key" not in table
    assert table["attribute"] == [{"name": "pk", "type": "S"}]
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is False
    # No TTL and no stream unless asked for.
    assert "ttl" not in table
    assert "stream_enabled" not in table and "stream_view_type" not in table


def test_encrypted_with_the_stack_key(table):
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": TEST_KEY_ARN}


@pytest.mark.parametrize(
    "props, expected",
    [
        (
            {"sort_key": KeyAttribute("placed_at", "N")},
            {
                "range_key": "placed_at",
                "attribute": [{"name": "pk", "type": "S"}, {"name": "placed_at", "type": "N"}],
            },
        ),
        (
            {"ttl_attribute": "expires_at"},
            {"ttl": {"attribute_name": "expires_at", "enabled": True}},
        ),
        (
            {"stream_view_type": "NEW_AND_OLD_IMAGES"},
            {"stream_enabled": True, "stream_view_type": "NEW_AND_OLD_IMAGES"},
        ),
        ({"point_in_time_recovery": False}, {"point_in_time_recovery": {"enabled": False}}),
        ({"deletion_protection": True}, {"deletion_protection_enabled": True}),
    ],
)
def test_each_prop_reaches_the_table(props, expected):
    synthesized = table_json(**props)
    assert {key: synthesized.get(key) for key in expected} == expected


def test_a_binary_partition_key():
    assert table_json_with_key(KeyAttribute("id", "B"))["attribute"] == [
        {"name": "id", "type": "B"}
    ]


def table_json_with_key(key: KeyAttribute) -> dict:
    props = TableProps("dev-blobs", key, TEST_KEY_ARN)
    return only(synth_construct(lambda stack: Table(stack, "t", props)), "aws_dynamodb_table")


READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
        "dynamodb:ConditionCheckItem"]  # fmt: skip
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem"]


def granted(access: TableAccess, table_id: str = "t") -> tuple[dict, dict]:
    """The function role's statements by sid after `table.grant(function, access)`."""

    def build(stack):
        table = Table(stack, table_id, TableProps("t-orders", PARTITION, TEST_KEY_ARN))
        table.grant(build_function(stack), access)

    synthesized = synth_construct(build)
    grants = role_grants(synthesized)
    del grants["SendToDeadLetterQueue"]  # every function's own
    return synthesized, grants


@pytest.mark.parametrize(
    "access, expected",
    [
        ("read", {"ReadItemsT": READ}),
        ("write", {"WriteItemsT": WRITE}),
        ("read_write", {"ReadItemsT": READ, "WriteItemsT": WRITE}),
    ],
)
def test_grant_gives_exactly_the_asked_access_on_the_table(access, expected):
    synthesized, grants = granted(access)
    table_arn = ref(synthesized, "aws_dynamodb_table", "t_table", "arn")
    assert grants == {sid: (actions, [table_arn]) for sid, actions in expected.items()}


def test_statements_are_named_after_the_table_so_two_tables_do_not_collide():
    _, grants = granted("read", table_id="order-items")
    assert set(grants) == {"ReadItemsOrderItems"}


def test_no_grant_deletes_items_or_changes_the_table():
    _, grants = granted("read_write")
    actions = {action for actions, _ in grants.values() for action in actions}
    assert not {a for a in actions if "Delete" in a or "Table" in a or "*" in a}
