"""One environment file: every section, and the rules across sections. A rule about one value
is an `Annotated` type in `rules`; a rule about several keys is a validator of the smallest model
holding them (`VpcConfig._network_rules`, `StackConfig._zones_in_region`, ...); rules across
files are in `across_files`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field, field_validator

from constructs_lib.authorizers import domain_prefix_problem
from constructs_lib.concurrency import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    MAX_ACCOUNT_CONCURRENCY,
    MIN_ACCOUNT_CONCURRENCY,
)
from constructs_lib.limits import (
    API_GATEWAY_TIMEOUT_S,
    HTTP_API_MAX_AUTHORIZERS,
    HTTP_API_MAX_SCOPES,
    WAF_REGEX_MAX_LENGTH,
    alarm_window_problem,
)
from constructs_lib.paths import paths_regex
from serverless_app.config.access import AuthorizerConfig, AuthorizerKey
from serverless_app.config.account import (
    AccountId,
    AssumeRoleConfig,
    account_problems,
)
from serverless_app.config.aws_facts import (
    ALB_MAX_LISTENER_RULES,
    ALB_MAX_TARGET_GROUPS,
    LAMBDA_ENVIRONMENT_MAX_BYTES,
    MAX_TAGS,
    NAME_PREFIX_MAX,
    PLACEHOLDER_ACCOUNT_ID,
    RESOURCE_TAGS,
    STACK_TAGS,
)
from serverless_app.config.backend import BackendConfig
from serverless_app.config.base import DEFAULT_REGION, StrictModel, rule
from serverless_app.config.data import (
    BucketConfig,
    BucketKey,
    QueueKey,
    TableConfig,
    TableKey,
    TopicKey,
    bucket_prefix_problems,
    reference_problems,
)
from serverless_app.config.defaults import (
    derived_name_locations,
    is_section,
    with_derived_defaults,
)
from serverless_app.config.derived import environment_bytes
from serverless_app.config.edge import ApiConfig, DomainConfig, LoadBalancerConfig, WafConfig
from serverless_app.config.events import QUEUES_FIELD, TOPICS_FIELD, QueueConfig, TopicConfig
from serverless_app.config.functions import (
    FunctionConfig,
    concurrency_problems,
    duplicate_function_names,
    secrets_keys_in_region,
    snap_start_in_region,
)
from serverless_app.config.network import VpcConfig
from serverless_app.config.operations import (
    AlarmsConfig,
    LogsConfig,
    ReleasesConfig,
    rollback_alarm_problems,
)
from serverless_app.config.policy_sizes import resource_policy_problems, role_policy_problems
from serverless_app.config.problems import Problem, fail, under
from serverless_app.config.routes import (
    RouteConfig,
    api_resources,
    authorizer_references,
    load_balancer_wildcards,
    priority_collisions,
    route_collisions,
    sibling_parameters,
    target_group_names,
    unknown_functions,
)
from serverless_app.config.rules import (
    EnvName,
    FunctionKey,
    ProjectName,
    StackRegion,
    TagKey,
    TagValue,
    arn_in,
    partition_of,
    zone_problem,
)
from serverless_app.config.schedules import schedule_problems
from serverless_app.config.storage import S3Config
from serverless_app.config.trigger_rules import event_problems
from serverless_app.config.triggers import TRIGGERS_FIELD, Triggers


class StackConfig(StrictModel):
    """One environment. Every key but `project`, `env`, `functions` and `routes` has a
    default, some derived from `project`, `env` and `region`."""

    project: ProjectName = Field(
        description=(
            "1-20 lowercase letters, digits or hyphens, starting with a letter, ending with a "
            "letter or digit; with `env`, the prefix `<project>-<env>` (at most "
            f"{NAME_PREFIX_MAX} characters, not starting with S3's reserved `xn--`, `sthree-`, "
            "`amzn-s3-demo-`: buckets are named after it) of every name the stack derives, so "
            "that projects and environments can share an account"
        )
    )
    env: EnvName = Field(
        description=(
            "1-20 lowercase letters, digits or hyphens, starting with a letter, ending with a "
            "letter or digit; stack name, `Env` tag and, after `project`, name prefix; unique"
        )
    )
    region: StackRegion = Field(
        default=DEFAULT_REGION,
        description=(
            "a region of the `aws` partition (list checked 2026-11-28); `cn-*` (aws-cn) and "
            "`us-gov-*` (aws-us-gov) are refused with a message: service principals and WAF "
            "managed rules differ there and the stack is not tested there"
        ),
    )
    account_id: AccountId | None = Field(
        default=None,
        description=(
            "the AWS account this environment deploys to, 12 digits as a string: Terraform "
            "refuses to plan or apply under credentials of any other account (the provider's "
            f"`allowed_account_ids`); the shipped placeholder `{PLACEHOLDER_ACCOUNT_ID}` "
            "matches no account, so Terraform refuses every one until it is changed, and "
            "`make check` refuses it (synth warns)"
        ),
        json_schema_extra={"default_text": "unset: any account"},
    )
    assume_role: AssumeRoleConfig | None = Field(
        default=None,
        description="a role Terraform assumes for every call (docs/deploying.md)",
        json_schema_extra={"type_text": "table", "default_text": "unset: the caller's credentials"},
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        description=(
            "extra tags on every resource. Key 1-128, value 0-256 characters: letters, digits, "
            "spaces, `+ - = . _ : / @`; key not starting with `aws:`, not `Env` (set by the "
            "stack); at most 47 tags (AWS allows 50; the stack adds `Env`, `Name`, `Tier`)"
        ),
    )
    # The account's concurrency quota (Service Quotas: "Concurrent executions"); only used to
    # check the functions' reservations. No documented maximum: 1,000,000 is a sanity bound.
    account_concurrency: Annotated[
        int, Field(ge=MIN_ACCOUNT_CONCURRENCY, le=MAX_ACCOUNT_CONCURRENCY)
    ] = Field(
        default=DEFAULT_ACCOUNT_CONCURRENCY,
        description=(
            'the account\'s "Concurrent executions" quota in `region` (Service Quotas; new '
            "accounts get 10 or 50, where Lambda keeps all of it unreserved, so no function can "
            "reserve or provision any; no documented maximum: 1,000,000 is a sanity bound); "
            "only checks the functions' `reserved_concurrency` and `provisioned_concurrency`"
        ),
    )
    vpc: VpcConfig
    load_balancer: LoadBalancerConfig
    # Before `functions`: the functions' grants are checked against them.
    tables: dict[TableKey, TableConfig] = Field(
        default_factory=dict,
        description=(
            "`[tables.<key>]` DynamoDB tables; keys as `[buckets]`, not a name the stack uses "
            "for its own resources; none is fine"
        ),
        json_schema_extra={"type_text": "table of tables"},
    )
    buckets: dict[BucketKey, BucketConfig] = Field(
        default_factory=dict,
        description=(
            "`[buckets.<key>]` S3 buckets; keys 1-20 lowercase letters, digits or `-`, starting "
            "with a letter and a letter after each hyphen; none is fine"
        ),
        json_schema_extra={"type_text": "table of tables"},
    )
    queues: dict[QueueKey, QueueConfig] = QUEUES_FIELD
    topics: dict[TopicKey, TopicConfig] = TOPICS_FIELD
    functions: Annotated[
        dict[FunctionKey, FunctionConfig], Field(min_length=1, max_length=ALB_MAX_TARGET_GROUPS)
    ] = Field(
        description=(
            "`[functions.<key>]` tables (at most: ELB's default quota of target groups per load "
            "balancer); keys 1-20 lowercase letters, digits or `-`, starting with a letter, not "
            "ending with `-`; a function a public route reaches gets the target group "
            "`<load_balancer.name>-<key>`, which must fit 32 characters"
        ),
        json_schema_extra={"type_text": "table of tables"},
    )
    authorizers: dict[AuthorizerKey, AuthorizerConfig] = Field(
        default_factory=dict,
        description=(
            "`[authorizers.<key>]`: what a route's `authorization` may name besides `AWS_IAM` and "
            "`NONE`; keys 1-20 lowercase letters, digits or `-`; none is fine"
        ),
        json_schema_extra={"type_text": "table of tables"},
    )
    routes: Annotated[list[RouteConfig], Field(min_length=1, max_length=ALB_MAX_LISTENER_RULES)] = (
        Field(
            description=(
                "`[[routes]]` entries (at most: ELB's default quota of rules per listener), named "
                "`routes[<index from 0>]` in messages; their paths need at most 300 API resources "
                "(API Gateway's default quota: one per distinct path and each path above it); "
                "each route adds a permission to its function's policy, which Lambda limits to "
                "20 KB (about 60 routes per function)"
            ),
            json_schema_extra={"type_text": "list of tables"},
        )
    )
    triggers: Triggers = TRIGGERS_FIELD
    api: ApiConfig
    s3: S3Config
    logs: LogsConfig
    waf: WafConfig
    alarms: AlarmsConfig
    releases: ReleasesConfig
    domain: DomainConfig | None = Field(
        default=None,
        description="a custom domain for the API",
        json_schema_extra={"type_text": "table", "default_text": "unset: the execute-api URL only"},
    )
    backend: BackendConfig

    @classmethod
    def prepared(cls, data: Any) -> Any:
        """Fill the subnets and names derived from `region` and `env` *before* validation, so
        the rules check the values the stack will use, not only the ones in the file."""
        sections = [
            field.alias or name
            for name, field in cls.model_fields.items()
            if is_section(field.annotation)
        ]
        return with_derived_defaults(data, sections)

    @classmethod
    def unreported(cls, data: Any) -> set[tuple[str | int, ...]]:
        return derived_name_locations(data)

    @field_validator("tags")
    @classmethod
    def _tag_budget(cls, tags: dict[str, str]) -> dict[str, str]:
        budget = MAX_TAGS - len((STACK_TAGS | RESOURCE_TAGS) - tags.keys())
        if len(tags) > budget:
            added = ", ".join(sorted(STACK_TAGS | RESOURCE_TAGS))
            message = f"at most {budget} tags: AWS allows {MAX_TAGS} and the stack adds {added}"
            fail((), message, len(tags))
        return tags

    @rule("vpc", "region")
    def _zones_in_region(self) -> Iterator[Problem]:
        for tier, key, subnet in self.vpc.subnets():
            if (problem := zone_problem(subnet.az, self.region)) is not None:
                yield Problem(("vpc", tier, key, "az"), problem, subnet.az)

    @rule("load_balancer", "region")
    def _certificate_in_region(self) -> Iterator[Problem]:
        arn = self.load_balancer.certificate_arn
        if arn is not None and not arn_in(arn, self.region):
            message = (
                f"the certificate must be in {self.region} (partition {partition_of(self.region)})"
            )
            yield Problem(("load_balancer", "certificate_arn"), message, arn)

    @rule("functions")
    def _unique_function_names(self) -> Iterator[Problem]:
        return under("functions", duplicate_function_names(self.functions))

    @rule("functions", "account_concurrency")
    def _concurrency_within_the_account(self) -> Iterator[Problem]:
        return under("functions", concurrency_problems(self.functions, self.account_concurrency))

    @rule("functions", "region")
    def _secret_keys_in_region(self) -> Iterator[Problem]:
        return under("functions", secrets_keys_in_region(self.functions, self.region))

    @rule("functions", "region")
    def _snap_start_in_region(self) -> Iterator[Problem]:
        return under("functions", snap_start_in_region(self.functions, self.region))

    @rule("functions", "tables", "buckets")
    def _grants_name_declared_data(self) -> Iterator[Problem]:
        grants = {key: function.grants for key, function in self.functions.items()}
        return under("functions", reference_problems(grants, self.tables, self.buckets))

    @rule("functions", "queues", "topics", "tables", "buckets", "triggers", "project", "env")
    def _events_agree(self) -> Iterator[Problem]:
        return event_problems(self)

    @rule("triggers", "project", "env")
    def _schedule_names_fit(self) -> Iterator[Problem]:
        return schedule_problems(self)

    @rule("buckets", "project", "env")
    def _bucket_prefixes_fit(self) -> Iterator[Problem]:
        return under("buckets", bucket_prefix_problems(self.name_prefix, self.buckets))

    @rule("routes", "functions")
    def _routes_to_known_functions(self) -> Iterator[Problem]:
        return under("routes", unknown_functions(self.routes, self.functions))

    @rule("routes", "authorizers", "functions")
    def _authorizers_declared(self) -> Iterator[Problem]:
        return authorizer_references(self.routes, self.authorizers, self.functions)

    @rule("authorizers", "project", "env")
    def _sign_in_domains_fit(self) -> Iterator[Problem]:
        for key, authorizer in self.authorizers.items():
            if authorizer.resource_server is None or authorizer.domain_prefix is not None:
                continue
            prefix = self.sign_in_domain_prefix(key)
            problem = domain_prefix_problem(prefix)
            if problem is not None:
                message = (
                    f"its hosted sign-in domain prefix {prefix!r} (<project>-<env>-<key>): "
                    f"{problem}; set domain_prefix"
                )
                yield Problem(("authorizers", key, "resource_server"), message)

    @rule("authorizers", "api")
    def _authorizers_the_api_offers(self) -> Iterator[Problem]:
        for key, authorizer in self.authorizers.items():
            # An HTTP API verifies any issuer's tokens itself.
            if authorizer.type == "jwt" and self.api.type == "rest":
                message = (
                    "a REST API verifies only Cognito user pool tokens, not any issuer's: use "
                    'an HTTP API (api.type = "http"), type = "cognito", or a lambda authorizer '
                    "that verifies the token"
                )
                yield Problem(("authorizers", key, "type"), message, authorizer.type)

    @rule("routes")
    def _routes_apart(self) -> Iterator[Problem]:
        collisions = list(route_collisions(self.routes))
        colliding = {problem.loc[0] for problem in collisions}
        return under(
            "routes",
            [
                *collisions,
                # A route already reported for a collision would only be reported again.
                *(p for p in sibling_parameters(self.routes) if p.loc[0] not in colliding),
                *priority_collisions(self.routes),
            ],
        )

    @rule("routes", "load_balancer")
    def _target_group_names(self) -> Iterator[Problem]:
        return under("routes", target_group_names(self.routes, self.load_balancer))

    @rule("account_id", "assume_role")
    def _role_in_the_account(self) -> Iterator[Problem]:
        return iter(account_problems(self.account_id, self.assume_role))

    @rule("routes", "api")
    def _route_quotas(self) -> Iterator[Problem]:
        # An HTTP API has no resources: its quota is routes (300), more than the file allows.
        resources = api_resources(self.routes) if self.api.type == "rest" else ()
        return under("routes", [*load_balancer_wildcards(self.routes), *resources])

    @rule(
        "functions",
        "routes",
        "authorizers",
        "region",
        "load_balancer",
        "project",
        "env",
        "tables",
        "buckets",
    )
    def _function_policies(self) -> Iterator[Problem]:
        return iter([*resource_policy_problems(self), *role_policy_problems(self)])

    @rule(
        "functions",
        "project",
        "env",
        "region",
        "tables",
        "buckets",
        "queues",
        "topics",
        "routes",
        "api",
    )
    def _environment_size(self) -> Iterator[Problem]:
        message = (
            f"keys and values total more than Lambda's {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes "
            "(counting TABLE_<KEY>_NAME, BUCKET_<KEY>_NAME, QUEUE_<KEY>_URL and TOPIC_<KEY>_ARN "
            "for the grants, which the stack adds, SECRET_* for the secrets and CORS_POLICY for "
            "a routed function)"
        )
        for key in self.functions:
            if (size := environment_bytes(self, key)) > LAMBDA_ENVIRONMENT_MAX_BYTES:
                yield Problem(("functions", key, "environment"), message, size)

    @rule("alarms", "releases")
    def _alarms_fit_the_release(self) -> Iterator[Problem]:
        alarms = self.alarms
        problem = alarm_window_problem(
            self.releases.strategy, alarms.period_s * alarms.evaluation_periods
        )
        if problem is not None:
            message = (
                f"{problem}: the alarms could not stop a bad release; shorten the window or "
                "choose a longer releases.strategy"
            )
            yield Problem(("alarms", "evaluation_periods"), message, alarms.evaluation_periods)

    @rule("functions", "routes")
    def _rollback_alarms_per_function(self) -> Iterator[Problem]:
        return rollback_alarm_problems(self)

    @rule("waf", "routes", "api")
    def _markup_paths_are_routes(self) -> Iterator[Problem]:
        paths = self.waf.markup_paths
        routed = {route.path for route in self.routes}
        for index, path in enumerate(paths):
            if path not in routed:
                message = "not a routes[].path of this file"
                yield Problem(("waf", "markup_paths", index), message, path)
        regex = paths_regex(paths, self.api.stage_name)
        if paths and len(regex) > WAF_REGEX_MAX_LENGTH:
            message = (
                f"the path pattern WAF matches would be {len(regex)} characters, it allows "
                f"{WAF_REGEX_MAX_LENGTH}: fewer paths, or a {{name+}} route"
            )
            yield Problem(("waf", "markup_paths"), message, paths)

    @rule("api", "routes", "authorizers")
    def _http_api_quotas(self) -> Iterator[Problem]:
        if self.api.type != "http":
            return
        if len(self.authorizers) > HTTP_API_MAX_AUTHORIZERS:
            message = f"an HTTP API takes at most {HTTP_API_MAX_AUTHORIZERS} authorizers"
            yield Problem(("authorizers",), message, len(self.authorizers))
        for index, route in enumerate(self.routes):
            if len(route.scopes) > HTTP_API_MAX_SCOPES:
                message = f"an HTTP API route takes at most {HTTP_API_MAX_SCOPES} scopes"
                yield Problem(("routes", index, "scopes"), message, route.scopes)

    @rule("api", "env")
    def _http_api_serves_the_default_stage(self) -> Iterator[Problem]:
        if self.api.type == "http" and self.api.stage_name != self.env:
            message = (
                "REST only: an HTTP API serves its $default stage at the URL's root (no stage "
                'in the path); remove stage_name or use type = "rest"'
            )
            yield Problem(("api", "stage_name"), message, self.api.stage_name)

    @rule("api", "waf", "routes")
    def _waf_sees_no_http_api(self) -> Iterator[Problem]:
        """WAF web ACLs attach to REST stages, load balancers, CloudFront, ... not HTTP APIs."""
        if self.api.type != "http":
            return
        routed = {route.path for route in self.routes}
        balanced = {route.path for route in self.routes if route.load_balancer}
        for index, path in enumerate(self.waf.markup_paths):
            # A path of no route at all is reported once, by _markup_paths_are_routes.
            if path in routed and path not in balanced:
                message = (
                    "WAF web ACLs cannot attach to an HTTP API, so only the load balancer's "
                    "routes pass WAF: this path is no load balancer route's (the HTTP API is "
                    "protected by its throttling and authorizers instead)"
                )
                yield Problem(("waf", "markup_paths", index), message, path)

    @rule("domain", "load_balancer")
    def _load_balancer_name_needs_the_domains_certificate(self) -> Iterator[Problem]:
        domain = self.domain
        chosen = domain.load_balancer_name if domain is not None else None
        if chosen is not None and self.load_balancer.certificate_arn is not None:
            message = (
                "only used without load_balancer.certificate_arn: the load balancer then "
                "serves that certificate, and the names it covers are yours to point"
            )
            yield Problem(("domain", "load_balancer_name"), message, chosen)

    @property
    def name_prefix(self) -> str:
        """`<project>-<env>`: the start of every name the stack derives."""
        return f"{self.project}-{self.env}"

    def sign_in_domain_prefix(self, key: str) -> str:
        """The hosted sign-in domain prefix of cognito authorizer `key`."""
        return self.authorizers[key].domain_prefix or f"{self.name_prefix}-{key}"

    def routes_of(self, key: str) -> list[RouteConfig]:
        """The routes that call function `key`, in file order."""
        return [route for route in self.routes if route.function == key]


def warnings_of(config: StackConfig) -> Iterator[Problem]:
    """Allowed but probably unintended: reported on stderr, the run goes on."""
    for key, function in config.functions.items():
        if function.timeout_s > API_GATEWAY_TIMEOUT_S and config.routes_of(key):
            yield Problem(
                ("functions", key, "timeout_s"),
                f"API Gateway stops waiting after {API_GATEWAY_TIMEOUT_S} s: callers get a 504 "
                "while the function keeps running",
                function.timeout_s,
            )
