"""The DynamoDB table the function writes request records and visit counters to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from constructs import Construct

from constructs_lib.iam import Grantable
from constructs_lib.iam_actions import TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS

# Items are keyed by a single string: "REQUEST#<request id>" or "VISITS#<name>".
PARTITION_KEY = "pk"
# Request records carry their expiry (epoch seconds) here; DynamoDB deletes them after it.
TTL_ATTRIBUTE = "expires_at"

TableAccess = Literal["none", "read", "write", "read_write"]


@dataclass(frozen=True)
class RequestTableProps:
    table_name: str
    kms_key_arn: str
    deletion_protection: bool


class RequestTable(Construct):
    """On-demand table with point-in-time recovery, KMS encryption and TTL."""

    def __init__(self, scope: Construct, id: str, props: RequestTableProps) -> None:
        super().__init__(scope, id)
        self.table = DynamodbTable(
            self,
            "table",
            name=props.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=PARTITION_KEY,
            attribute=[DynamodbTableAttribute(name=PARTITION_KEY, type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=props.kms_key_arn
            ),
            ttl=DynamodbTableTtl(attribute_name=TTL_ATTRIBUTE, enabled=True),
            deletion_protection_enabled=props.deletion_protection,
        )

    # Read once: every read is a round trip to the jsii kernel, and the token it returns stands
    # for the same reference every time.
    @cached_property
    def table_name(self) -> str:
        return self.table.name

    @cached_property
    def table_arn(self) -> str:
        return self.table.arn

    def grant_write_items(self, grantee: Grantable) -> None:
        """Allow putting new items and updating existing ones; no reads, scans or deletes."""
        grantee.add_to_role_policy("WriteItems", TABLE_WRITE_ACTIONS, [self.table_arn])

    def grant_read_items(self, grantee: Grantable) -> None:
        """Allow reading items, queries and scans; no writes."""
        grantee.add_to_role_policy("ReadItems", TABLE_READ_ACTIONS, [self.table_arn])

    def grant(self, grantee: Grantable, access: TableAccess) -> None:
        """`read`, `write` or both (`read_write`); `none` grants nothing."""
        if access in ("read", "read_write"):
            self.grant_read_items(grantee)
        if access in ("write", "read_write"):
            self.grant_write_items(grantee)
