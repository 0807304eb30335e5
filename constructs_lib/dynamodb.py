"""A DynamoDB table with the key schema, TTL and stream its props declare."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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
from constructs_lib.permissions import statement_name
from constructs_lib.storage import AttributeType, StreamViewType, TableAccess


@dataclass(frozen=True)
class KeyAttribute:
    """One attribute of the primary key: its name and its type, `S`, `N` or `B`."""

    name: str
    type: AttributeType


@dataclass(frozen=True)
class TableProps:
    table_name: str
    partition_key: KeyAttribute
    # Customer-managed key for server-side encryption.
    kms_key_arn: str
    # Default: the partition key alone is the primary key.
    sort_key: KeyAttribute | None = None
    # Default: no TTL; else DynamoDB deletes an item after the epoch seconds in this attribute.
    ttl_attribute: str | None = None
    # Default: no stream.
    stream_view_type: StreamViewType | None = None
    # Default on: restores to any second of the last 35 days.
    point_in_time_recovery: bool = True
    # Default off: `terraform destroy` may delete the table (and its data).
    deletion_protection: bool = False


class Table(Construct):
    """On-demand, KMS-encrypted table with the declared primary key."""

    def __init__(self, scope: Construct, id: str, props: TableProps) -> None:
        super().__init__(scope, id)
        # Names its grant statements; kept, as `node.id` is a round trip to the jsii kernel.
        self.grant_id = id
        keys = [key for key in (props.partition_key, props.sort_key) if key is not None]
        self.table = DynamodbTable(
            self,
            "table",
            name=props.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=props.partition_key.name,
            range_key=props.sort_key.name if props.sort_key is not None else None,
            attribute=[DynamodbTableAttribute(name=key.name, type=key.type) for key in keys],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(
                enabled=props.point_in_time_recovery
            ),
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=props.kms_key_arn
            ),
            ttl=DynamodbTableTtl(attribute_name=props.ttl_attribute, enabled=True)
            if props.ttl_attribute is not None
            else None,
            stream_enabled=True if props.stream_view_type is not None else None,
            stream_view_type=props.stream_view_type,
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

    @cached_property
    def stream_arn(self) -> str:
        """The stream's ARN (the table needs a `stream_view_type`)."""
        return self.table.stream_arn

    def grant_write_items(self, grantee: Grantable) -> None:
        """Allow putting new items and updating existing ones; no reads, scans or deletes. The
        statement is `WriteItems<Id>`, after the construct's id (`statement_name`)."""
        grantee.add_to_role_policy(
            statement_name("WriteItems", self.grant_id), TABLE_WRITE_ACTIONS, [self.table_arn]
        )

    def grant_read_items(self, grantee: Grantable) -> None:
        """Allow reading items, queries and scans; no writes (statement `ReadItems<Id>`)."""
        grantee.add_to_role_policy(
            statement_name("ReadItems", self.grant_id), TABLE_READ_ACTIONS, [self.table_arn]
        )

    def grant(self, grantee: Grantable, access: TableAccess) -> None:
        """`read`, `write` or both (`read_write`)."""
        if access in ("read", "read_write"):
            self.grant_read_items(grantee)
        if access in ("write", "read_write"):
            self.grant_write_items(grantee)
