from constructs_lib.dynamodb import PARTITION_KEY, RequestTable, RequestTableProps
from tests.support import only, synth_construct


def test_on_demand_table_keyed_by_string_partition_key():
    synthesized = synth_construct(
        lambda stack: RequestTable(stack, "t", RequestTableProps(table_name="dev-requests"))
    )
    table = only(synthesized, "aws_dynamodb_table")
    assert table["name"] == "dev-requests"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == PARTITION_KEY
    assert table["attribute"] == [{"name": PARTITION_KEY, "type": "S"}]
