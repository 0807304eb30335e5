"""The DynamoDB table the function writes request records and visit counters to."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable, DynamodbTableAttribute
from constructs import Construct

from constructs_lib.iam import Grantable

# Items are keyed by a single string: "REQUEST#<request id>" or "VISITS#<name>".
PARTITION_KEY = "pk"


@dataclass(frozen=True)
class RequestTableProps:
    table_name: str


class RequestTable(Construct):
    def __init__(self, scope: Construct, id: str, props: RequestTableProps) -> None:
        super().__init__(scope, id)
        self.table = DynamodbTable(
            self,
            "table",
            name=props.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=PARTITION_KEY,
            attribute=[DynamodbTableAttribute(name=PARTITION_KEY, type="S")],
        )

    @property
    def table_name(self) -> str:
        return self.table.name

    @property
    def table_arn(self) -> str:
        return self.table.arn

    def grant_write_items(self, grantee: Grantable) -> None:
        """Allow putting new items and updating existing ones; no reads, scans or deletes."""
        grantee.add_to_role_policy(
            "WriteItems", ["dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.arn]
        )
