"""Names two environment files may not share."""

from __future__ import annotations

from collections.abc import Callable

from serverless_app.config.environment import StackConfig

# Names two environments may not share: stacks are named after env, and the rest are unique
# per account and region (bucket names worldwide), so a second environment would fail to
# create them or, worse, adopt the first one's. Same prefix: the buckets could not be told apart.
# Per kind of name: the names a file uses, each with its key path.
UniqueNames = Callable[[StackConfig], list[tuple[str, object]]]
UNIQUE_ACROSS_FILES: tuple[tuple[str, UniqueNames], ...] = (
    ("env", lambda config: [("env", config.env)]),
    # Every derived name starts with it (KMS alias, web ACL, CodeDeploy application, roles, ...).
    ("name prefix", lambda config: [("project", config.name_prefix)]),
    # The API's alarms and access-log group are named after it.
    ("API name", lambda config: [("api.name", config.api.name)]),
    ("alarm topic", lambda config: [("alarms.topic_name", config.alarms.topic_name)]),
    # The API's and the load balancer's host names: one record each in a hosted zone.
    (
        "custom domain",
        lambda config: [
            ("domain.name", config.domain.name if config.domain else None),
            (
                "domain.load_balancer_name",
                config.domain.load_balancer_host
                if config.domain and config.load_balancer.certificate_arn is None
                else None,
            ),
        ],
    ),
    (
        "function name",
        lambda config: [
            (f"functions.{key}.name", function.name) for key, function in config.functions.items()
        ],
    ),
    (
        "table name",
        lambda config: [(f"tables.{key}.name", table.name) for key, table in config.tables.items()],
    ),
    (
        "bucket name",
        lambda config: [
            (f"buckets.{key}.name", bucket.name) for key, bucket in config.buckets.items()
        ],
    ),
    ("bucket name", lambda config: [("s3.bucket_name", config.s3.bucket_name)]),
    ("bucket prefix", lambda config: [("s3.bucket_prefix", config.s3.bucket_prefix)]),
    ("load balancer name", lambda config: [("load_balancer.name", config.load_balancer.name)]),
    # Two environments writing one state object would overwrite each other's state.
    (
        "state object",
        lambda config: [
            (
                "backend.key",
                f"s3://{config.backend.bucket}/{config.backend.key}"
                if config.backend.type == "s3"
                else None,
            )
        ],
    ),
)
