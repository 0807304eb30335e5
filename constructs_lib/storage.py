"""DynamoDB and S3 facts that both the table and bucket constructs and the configuration
checks use, stated once. Standard library only (see `limits`)."""

from __future__ import annotations

from typing import Literal

# DynamoDB key attributes: S (string), N (number) or B (binary); a key attribute's name is
# 1-255 bytes in UTF-8 (Service, Account, and Table Quotas in Amazon DynamoDB, 2026-12-06).
AttributeType = Literal["S", "N", "B"]
KEY_ATTRIBUTE_NAME_MAX_BYTES = 255
# The TTL attribute is an ordinary attribute name: 1-255 characters (UpdateTimeToLive).
TTL_ATTRIBUTE_NAME_MAX = 255
# What a DynamoDB stream record carries (StreamSpecification.StreamViewType).
StreamViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
# S3: at most 1,000 rules in a bucket's lifecycle configuration; the bucket construct adds one
# of its own (noncurrent versions and stale multipart uploads).
S3_MAX_LIFECYCLE_RULES = 1000
BUCKET_OWN_LIFECYCLE_RULES = 1
# Days in a lifecycle rule: a positive 32-bit integer.
S3_MAX_LIFECYCLE_DAYS = 2**31 - 1
# What a grant allows on a table (the actions each verb gives: `iam_actions`).
TableAccess = Literal["read", "write", "read_write"]
# What a grant allows on a bucket's objects (the actions: `iam_actions`).
BucketAccess = Literal["read", "write", "read_write"]
