"""The data a configuration declares: `[tables.<key>]` (DynamoDB) and `[buckets.<key>]` (S3),
and the grants that name them by key from `[functions.<key>.grants]`. A function gets one
environment variable per table or bucket it is granted (`granted_variables`), nothing else."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from constructs_lib.event_limits import QueueAccess, TopicAccess
from constructs_lib.iam_actions import (
    OBJECT_READ_ACTIONS,
    OBJECT_WRITE_ACTIONS,
    TABLE_READ_ACTIONS,
    TABLE_WRITE_ACTIONS,
)
from constructs_lib.permissions import (
    GrantStatement,
    object_statement,
    statement_name,
    table_statement,
)
from constructs_lib.storage import (
    BUCKET_OWN_LIFECYCLE_RULES,
    KEY_ATTRIBUTE_NAME_MAX_BYTES,
    S3_MAX_LIFECYCLE_RULES,
    TTL_ATTRIBUTE_NAME_MAX,
    AttributeType,
    BucketAccess,
    StreamViewType,
    TableAccess,
)
from serverless_app.config.aws_facts import (
    S3_BUCKET_NAME_MAX,
    S3_OBJECT_KEY_MAX_BYTES,
    TERRAFORM_BUCKET_SUFFIX_LENGTH,
)
from serverless_app.config.base import StrictModel, rule
from serverless_app.config.problems import Problem, raise_problems
from serverless_app.config.rules import (
    BucketObjectPattern,
    DynamoDbTableName,
    LifecycleDays,
    S3BucketName,
    did_you_mean,
    listed,
    pattern,
)
from serverless_app.config.variables import granted_variable

# A key of [tables] or [buckets]: it names the resource (`<project>-<env>-<key>`), its
# environment variable (`TABLE_<KEY>_NAME`) and its grant statements (`ReadItems<Key>`, which
# IAM allows letters and digits only in: a letter after each hyphen keeps them apart).
NounKey = Annotated[
    str,
    pattern(
        r"(?=.{1,20}$)[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*",
        "1-20 lowercase letters, digits or hyphens, starting with a letter and a letter after "
        "each hyphen (it names the resource, its variable and its grant statements)",
    ),
]
# The construct ids the stack itself uses at its top level: a table is created under its key
# there, so that the table a stack had before tables were declared keeps its Terraform address
# (`requests`). A key equal to one of these, or starting with `function-` or `bucket-`, is
# refused (tests/test_stack.py checks the list against a synthesized stack).
STACK_CONSTRUCT_IDS = frozenset(
    {
        "aws",
        "aws-account",
        "aws-partition",
        "key",
        "network",
        "artifacts",
        "endpoints",
        "api",
        "api-logging-role",
        "domain",
        "load-balancer",
        "firewall",
        "monitoring",
        "releases",
        "backend",
        # Outputs without `_` in their names.
        "functions",
        "tables",
        "buckets",
    }
)
BUCKET_ID_PREFIX = "bucket-"
STACK_SCOPE_PREFIXES = ("function-", BUCKET_ID_PREFIX, "queue-", "topic-", "trigger-")


def bucket_id(key: str) -> str:
    """The construct id of bucket `key`: under a prefix, beside the tables' bare keys."""
    return f"{BUCKET_ID_PREFIX}{key}"


def _free_table_key(key: str) -> str:
    if key in STACK_CONSTRUCT_IDS or key.startswith(STACK_SCOPE_PREFIXES):
        raise ValueError(
            "names one of the stack's own resources: not "
            f"{listed(sorted(STACK_CONSTRUCT_IDS), shown=20)} nor a key starting with "
            f"{' or '.join(STACK_SCOPE_PREFIXES)}"
        )
    return key


TableKey = Annotated[NounKey, AfterValidator(_free_table_key)]
BucketKey = NounKey
QueueKey = NounKey
TopicKey = NounKey


class DeclaredModel(StrictModel):
    """An unknown key is refused with the closest known one."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = [field.alias or name for name, field in cls.model_fields.items()]
            raise_problems(
                Problem((key,), f"unknown key{did_you_mean(key, known)}")
                for key in data
                if isinstance(key, str) and key not in known
            )
        return data


def _key_attribute_name(value: str) -> str:
    if not 1 <= len(value.encode()) <= KEY_ATTRIBUTE_NAME_MAX_BYTES:
        raise ValueError(f"must be 1-{KEY_ATTRIBUTE_NAME_MAX_BYTES} bytes (UTF-8)")
    return value


def _ttl_attribute(value: str) -> str:
    if not 1 <= len(value) <= TTL_ATTRIBUTE_NAME_MAX:
        raise ValueError(f"must be 1-{TTL_ATTRIBUTE_NAME_MAX} characters")
    return value


class KeyAttributeConfig(DeclaredModel):
    name: Annotated[str, AfterValidator(_key_attribute_name)] = Field(
        description=f"the attribute's name, 1-{KEY_ATTRIBUTE_NAME_MAX_BYTES} bytes (UTF-8)"
    )
    type: AttributeType = Field(description="`S` string, `N` number or `B` binary")


class TableConfig(DeclaredModel):
    """One DynamoDB table (`[tables.<key>]`): on demand, encrypted with the stack key."""

    name: DynamoDbTableName = Field(
        description="3-255 letters, digits, `_`, `.` or `-`; unique",
        json_schema_extra={"default_text": "`<project>-<env>-<key>`"},
    )
    partition_key: KeyAttributeConfig = Field(
        description='`{ name = ..., type = "S" }`: the partition (hash) key',
        json_schema_extra={"type_text": "table"},
    )
    sort_key: KeyAttributeConfig | None = Field(
        default=None,
        description="`{ name = ..., type = ... }`: the sort (range) key, not named as the "
        "partition key",
        json_schema_extra={"type_text": "table", "default_text": "unset: the partition key alone"},
    )
    ttl_attribute: Annotated[str, AfterValidator(_ttl_attribute)] | None = Field(
        default=None,
        description=(
            "DynamoDB deletes an item some time after the epoch seconds (a number) this "
            f"attribute holds; 1-{TTL_ATTRIBUTE_NAME_MAX} characters"
        ),
        json_schema_extra={"default_text": "unset: no TTL"},
    )
    stream: StreamViewType | None = Field(
        default=None,
        description="a stream of changes with `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or "
        "`NEW_AND_OLD_IMAGES`",
        json_schema_extra={"default_text": "unset: no stream"},
    )
    point_in_time_recovery: bool = Field(
        default=True, description="restores to any second of the last 35 days"
    )
    deletion_protection: bool = Field(
        default=False,
        description="DynamoDB refuses to delete the table (prod); `terraform destroy` then fails",
    )

    @rule("partition_key", "sort_key")
    def _distinct_keys(self) -> Iterator[Problem]:
        if self.sort_key is not None and self.sort_key.name == self.partition_key.name:
            yield Problem(("sort_key", "name"), "is the partition key's name", self.sort_key.name)


def _object_key(value: str) -> str:
    if not 1 <= len(value.encode()) <= S3_OBJECT_KEY_MAX_BYTES:
        raise ValueError(f"must be an object key of 1-{S3_OBJECT_KEY_MAX_BYTES} bytes (UTF-8)")
    return value


class ExpirationRuleConfig(DeclaredModel):
    prefix: Annotated[str, AfterValidator(_object_key)] = Field(
        description=f"object key prefix, 1-{S3_OBJECT_KEY_MAX_BYTES} bytes (UTF-8)"
    )
    expiration_days: LifecycleDays = Field(
        description="current objects under the prefix expire (become noncurrent) after this"
    )


# The stack's own bounds for seed objects (S3 takes 5 GB per object): each is a resource of the
# plan, its text in the configuration and the state.
MAX_SEED_OBJECTS = 100
SEED_TEXT_MAX_BYTES = 4096


def _seed(value: str) -> str:
    if len(value.encode()) > SEED_TEXT_MAX_BYTES:
        raise ValueError(f"must be at most {SEED_TEXT_MAX_BYTES:,} bytes (UTF-8)")
    return value


class BucketConfig(DeclaredModel):
    """One S3 bucket (`[buckets.<key>]`): private, TLS-only, encrypted with the stack key,
    object events to EventBridge; `[s3]`'s force_destroy and prevent_destroy apply to it."""

    name: S3BucketName | None = Field(
        default=None,
        description="a bucket name as `s3.bucket_name`; unique",
        json_schema_extra={
            "default_text": "unset: the prefix `<project>-<env>-<key>-`, completed by Terraform"
        },
    )
    versioning: bool = Field(
        default=True,
        description="keep overwritten and deleted objects as noncurrent versions; `false` "
        "suspends versioning, which the security gate refuses (checkov CKV_AWS_21)",
    )
    noncurrent_version_expiration_days: LifecycleDays = Field(
        default=30, description="noncurrent versions are deleted after this"
    )
    expiration_days: LifecycleDays | None = Field(
        default=None,
        description="every current object expires (becomes noncurrent) after this",
        json_schema_extra={"default_text": "unset: kept"},
    )
    lifecycle: Annotated[
        list[ExpirationRuleConfig],
        Field(max_length=S3_MAX_LIFECYCLE_RULES - BUCKET_OWN_LIFECYCLE_RULES),
    ] = Field(
        default_factory=list,
        description=(
            '`{ prefix = "tmp/", expiration_days = 1 }` entries: objects under a prefix '
            "expire sooner (S3 allows 1,000 rules; the bucket keeps one of its own)"
        ),
        json_schema_extra={"type_text": "list of tables"},
    )
    objects: Annotated[
        dict[Annotated[str, AfterValidator(_object_key)], Annotated[str, AfterValidator(_seed)]],
        Field(max_length=MAX_SEED_OBJECTS),
    ] = Field(
        default_factory=dict,
        description=(
            '`"key" = "text"`: text objects created with the bucket; edits made later in S3 '
            "are kept, removing a key here deletes the object. Seeds, not content: each text "
            f"at most {SEED_TEXT_MAX_BYTES:,} bytes (UTF-8), as it is kept in the Terraform "
            "configuration and state; larger files are uploaded by a deploy step"
        ),
        json_schema_extra={"type_text": "table: object key = text"},
    )


class ObjectGrant(DeclaredModel):
    read: list[BucketObjectPattern] = Field(
        default_factory=list,
        description=(
            "object keys the function may read; a trailing `*` makes a prefix (`reports/*`); "
            "`*` or `?` elsewhere are refused"
        ),
    )
    write: list[BucketObjectPattern] = Field(
        default_factory=list, description="object keys or prefixes it may write, as `read`"
    )

    @rule("read", "write")
    def _grants_something(self) -> Iterator[Problem]:
        if not self.read and not self.write:
            yield Problem((), "grants nothing: list keys in read or write, or leave the bucket out")


def _access_as_keys(value: Any) -> Any:
    """`"read"` is `{ read = ["*"] }`: every object; likewise `write` and `read_write`."""
    if not isinstance(value, str):
        return value
    if value not in get_args(BucketAccess):
        raise ValueError('must be "read", "write", "read_write" or { read = [...], write = [...] }')
    return {access: ["*"] for access in ("read", "write") if access in value}


BucketGrant = Annotated[ObjectGrant, BeforeValidator(_access_as_keys)]


class FunctionGrants(DeclaredModel):
    """What the function may touch: nothing unless granted here (least-privilege IAM)."""

    tables: dict[TableKey, TableAccess] = Field(
        default_factory=dict,
        description=(
            "`key = access` for keys of `[tables]`: `read` (get, batch get, query, scan, "
            "condition checks), `write` (put, update; no delete), `read_write` both; the "
            "function gets `TABLE_<KEY>_NAME`"
        ),
        json_schema_extra={"type_text": "table: table key = access"},
    )
    buckets: dict[BucketKey, BucketGrant] = Field(
        default_factory=dict,
        description=(
            "`key = access` for keys of `[buckets]`: `read` (get any object), `write` (put any "
            "object), `read_write`; or `key = { read = [...], write = [...] }` for some "
            "object keys only; the function gets `BUCKET_<KEY>_NAME`. No listing: a missing "
            "object answers AccessDenied"
        ),
        json_schema_extra={"type_text": "table: bucket key = access or { read, write }"},
    )
    queues: dict[QueueKey, QueueAccess] = Field(
        default_factory=dict,
        description=(
            '`key = "send"` for keys of `[queues]`: `sqs:SendMessage` on that queue and the stack '
            "key's `GenerateDataKey`/`Decrypt` it needs; the function gets `QUEUE_<KEY>_URL`"
        ),
        json_schema_extra={"type_text": "table: queue key = access"},
    )
    topics: dict[TopicKey, TopicAccess] = Field(
        default_factory=dict,
        description=(
            '`key = "publish"` for keys of `[topics]`: `sns:Publish` on that topic (and the stack '
            "key); the function gets `TOPIC_<KEY>_ARN`"
        ),
        json_schema_extra={"type_text": "table: topic key = access"},
    )


def reference_problems(
    grants: Mapping[str, FunctionGrants],
    tables: Mapping[str, TableConfig],
    buckets: Mapping[str, BucketConfig],
) -> Iterator[Problem]:
    """A grant naming a table or bucket the file does not declare, per function key."""
    for function, granted in grants.items():
        for section, declared, names in (
            ("tables", tables, granted.tables),
            ("buckets", buckets, granted.buckets),
        ):
            for key in names:
                if key not in declared:
                    known = listed(declared) or "none declared"
                    message = f"not a key of [{section}] ({known}){did_you_mean(key, declared)}"
                    yield Problem((function, "grants", section, key), message, key)


def table_name_defaults(prefix: str, tables: Any) -> Any:
    """`<project>-<env>-<key>` as the name of every table a file leaves unnamed."""
    if not isinstance(tables, dict):
        return tables
    return {
        key: {"name": f"{prefix}-{key}", **table} if isinstance(table, dict) else table
        for key, table in tables.items()
    }


def bucket_prefix(prefix: str, key: str) -> str:
    """The prefix Terraform completes into the name of bucket `key` when it has none."""
    return f"{prefix}-{key}-"


def bucket_prefix_problems(prefix: str, buckets: Mapping[str, BucketConfig]) -> Iterator[Problem]:
    """A bucket without `name` is named after its key; the prefix must leave Terraform room."""
    longest = S3_BUCKET_NAME_MAX - TERRAFORM_BUCKET_SUFFIX_LENGTH
    for key, bucket in buckets.items():
        derived = bucket_prefix(prefix, key)
        if bucket.name is None and len(derived) > longest:
            message = (
                f"the derived bucket prefix {derived!r} is {len(derived)} characters, at most "
                f"{longest} (Terraform appends {TERRAFORM_BUCKET_SUFFIX_LENGTH}): set name or "
                "use a shorter key"
            )
            yield Problem((key,), message, key)


def bucket_name_length(prefix: str, key: str, bucket: BucketConfig) -> int:
    """The length the bucket's name will have (a prefix gets Terraform's suffix)."""
    if bucket.name is not None:
        return len(bucket.name)
    return min(len(bucket_prefix(prefix, key)) + TERRAFORM_BUCKET_SUFFIX_LENGTH, S3_BUCKET_NAME_MAX)


def granted_variables(
    prefix: str,
    grants: FunctionGrants,
    tables: Mapping[str, TableConfig],
    buckets: Mapping[str, BucketConfig],
) -> dict[str, str]:
    """`TABLE_<KEY>_NAME` and `BUCKET_<KEY>_NAME` for each granted table and bucket; a bucket
    named by Terraform has a stand-in of its length here (the stack sets the real name)."""
    variables = {
        granted_variable("TABLE", key): tables[key].name for key in grants.tables if key in tables
    }
    for key in grants.buckets:
        if key in buckets:
            variables[granted_variable("BUCKET", key)] = buckets[key].name or "x" * (
                bucket_name_length(prefix, key, buckets[key])
            )
    return variables


def grant_statements(
    region: str,
    prefix: str,
    grants: FunctionGrants,
    tables: Mapping[str, TableConfig],
    buckets: Mapping[str, BucketConfig],
) -> Iterator[GrantStatement]:
    """The statements the stack writes for `grants`, with names of the lengths they will have
    (for the size of the role's policies)."""
    for key, access in grants.tables.items():
        if key not in tables:
            continue
        name = tables[key].name
        if access in ("read", "read_write"):
            yield table_statement(
                statement_name("ReadItems", key), TABLE_READ_ACTIONS, region, name
            )
        if access in ("write", "read_write"):
            yield table_statement(
                statement_name("WriteItems", key), TABLE_WRITE_ACTIONS, region, name
            )
    for key, grant in grants.buckets.items():
        if key not in buckets:
            continue
        bucket = "b" * bucket_name_length(prefix, key, buckets[key])
        for verb, actions, keys in (
            ("ReadObjects", OBJECT_READ_ACTIONS, grant.read),
            ("WriteObjects", OBJECT_WRITE_ACTIONS, grant.write),
        ):
            if keys:
                yield object_statement(statement_name(verb, bucket_id(key)), actions, bucket, keys)
