"""What `make serve`'s functions run against and as: moto holding the file's tables and buckets,
each function's variables, package and role."""

from __future__ import annotations

import os

import boto3

from scripts.local_iam import local_role_policy, role_credentials
from scripts.sandbox import FunctionSpec
from scripts.serve_events import granted_queue_arns, produce_variables
from serverless_app.config import FUNCTION_ROLE_SUFFIX, StackConfig
from serverless_app.config.data import BucketConfig, TableConfig, bucket_prefix
from serverless_app.config.derived import cors_variables
from serverless_app.config.variables import granted_variable

# Credentials and config that can only ever reach the local endpoint.
UNSET_AWS_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN")


def local_aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """Variables that point boto3 at moto with throwaway credentials and no shared config."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def local_bucket_name(config: StackConfig, key: str) -> str:
    """Bucket `key`'s configured name, or its prefix completed the way Terraform would, but
    readable."""
    bucket = config.buckets[key]
    return bucket.name or f"{bucket_prefix(config.name_prefix, key)}local"


def function_environment(config: StackConfig, key: str) -> dict[str, str]:
    """The variables the stack gives function `key`: its own, then TABLE_<KEY>_NAME and
    BUCKET_<KEY>_NAME for what it is granted (no SECRET_* variables: there is no SSM here), and
    CORS_POLICY when a route reaches it and the API has CORS."""
    grants = config.functions[key].grants
    return {
        **config.functions[key].environment,
        **cors_variables(config, key),
        **{granted_variable("TABLE", table): config.tables[table].name for table in grants.tables},
        **{
            granted_variable("BUCKET", bucket): local_bucket_name(config, bucket)
            for bucket in grants.buckets
        },
        **produce_variables(config, key),
    }


def create_resources(endpoint_url: str, config: StackConfig) -> None:
    """Every table and bucket of the file, as the stack declares them (key schema, TTL,
    stream; the text objects)."""
    for table in config.tables.values():
        _create_table(endpoint_url, config.region, table.name, table)
    for key, bucket in config.buckets.items():
        _create_bucket(endpoint_url, config.region, local_bucket_name(config, key), bucket)


def _create_table(endpoint_url: str, region: str, name: str, table: TableConfig) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region)
    keys = [(table.partition_key, "HASH"), (table.sort_key, "RANGE")]
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key.name, "KeyType": kind} for key, kind in keys if key],
        AttributeDefinitions=[
            {"AttributeName": key.name, "AttributeType": key.type} for key, _ in keys if key
        ],
        BillingMode="PAY_PER_REQUEST",
        **(
            {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": table.stream}}
            if table.stream is not None
            else {}
        ),
    )
    if table.ttl_attribute is not None:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )


def _create_bucket(endpoint_url: str, region: str, name: str, bucket: BucketConfig) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    for key, text in bucket.objects.items():
        s3.put_object(Bucket=name, Key=key, Body=text.encode())


def function_spec(config: StackConfig, key: str) -> FunctionSpec:
    function = config.functions[key]
    return FunctionSpec(
        key=key,
        name=function.name,
        source_dir=function.source_path,
        handler=function.handler,
        runtime=function.runtime,
        architecture=function.architecture,
        dependencies=function.dependencies_path,
        timeout_s=function.timeout_s,
        memory_mb=function.memory_mb,
        environment=function_environment(config, key),
    )


def function_role(endpoint_url: str, config: StackConfig, key: str) -> dict[str, str]:
    """Credentials of a session of the function's role, holding its grants."""
    function = config.functions[key]
    grants = function.grants
    policy = local_role_policy(
        grants.tables.values(),
        {
            local_bucket_name(config, bucket): (grant.read, grant.write)
            for bucket, grant in grants.buckets.items()
        },
        granted_queue_arns(config, key),
        publishes=bool(grants.topics),
    )
    role_name = f"{function.name}{FUNCTION_ROLE_SUFFIX}"
    return role_credentials(endpoint_url, config.region, role_name, policy)
