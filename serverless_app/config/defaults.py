"""The defaults derived from `project`, `env` and `region`, filled in before validation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import TypeAdapter

from serverless_app.config.aws_facts import ARTIFACTS_BUCKET_SUFFIX, AWS_REGIONS, NAME_PREFIX_MAX
from serverless_app.config.base import DEFAULT_REGION, StrictModel, is_valid
from serverless_app.config.data import table_name_defaults
from serverless_app.config.edge import bucket_prefix_problem
from serverless_app.config.problems import Problem, fail, raise_problems
from serverless_app.config.rules import EnvName, FunctionKey


def is_section(annotation: object) -> bool:
    """True for the fields holding a table of keys that may be left out: vpc, api, s3, ...
    (filled in before validation, so that each is validated at its own key path)."""
    return isinstance(annotation, type) and issubclass(annotation, StrictModel)


_NAME_PART = TypeAdapter(EnvName)


def _is_name_part(value: Any) -> bool:
    """A valid `env` or `project` (one rule for both)."""
    return is_valid(_NAME_PART, value)


def _known_region(data: dict[str, Any]) -> str | None:
    region = data.get("region", DEFAULT_REGION)
    return region if isinstance(region, str) and region in AWS_REGIONS else None


def _zone_defaults(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Two subnets per tier, in zones a and b of the region (documented in docs/config.md)."""
    # With an unknown region (reported on its own) the subnets still get valid-looking zones.
    region = _known_region(data) or DEFAULT_REGION
    return {
        "vpc": {
            "public_subnets": {
                "a": {"cidr": "10.0.1.0/24", "az": f"{region}a"},
                "b": {"cidr": "10.0.2.0/24", "az": f"{region}b"},
            },
            "private_subnets": {
                "a": {"cidr": "10.0.11.0/24", "az": f"{region}a"},
                "b": {"cidr": "10.0.12.0/24", "az": f"{region}b"},
            },
        }
    }


# Keys of v0.1.0 and what replaced them.
OLD_KEYS = {
    ("dynamodb",): (
        "replaced by [tables.<key>] with its own key schema; the table this section configured "
        "is [tables.requests] (CHANGELOG)"
    ),
    ("alarms", "load_balancer_target_5xx"): (
        "replaced by alarms.load_balancer_server_error_rate, a share of requests (0-1) "
        "rather than a count"
    ),
}


def _old_shape(data: dict[str, Any]) -> Iterator[Problem]:
    """One problem per key of an earlier version, naming what replaced it."""
    for loc, message in OLD_KEYS.items():
        table: Any = data
        for key in loc[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and loc[-1] in table:
            yield Problem(loc, message)


_FUNCTION_KEY = TypeAdapter(FunctionKey)


def _function_name_defaults(prefix: str, functions: Any) -> Any:
    """`<project>-<env>-<key>` for every function whose table leaves out its name (and has a
    valid key: a name made of a bad key would only repeat the key's problem)."""
    if not isinstance(functions, dict):
        return functions
    return {
        key: (
            {"name": f"{prefix}-{key}", **function}
            if isinstance(function, dict) and is_valid(_FUNCTION_KEY, key)
            else function
        )
        for key, function in functions.items()
    }


def _name_defaults(prefix: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per section, the names a file leaves out, all starting with `<project>-<env>`
    (documented in the generated reference)."""
    env = data["env"]
    defaults: dict[str, dict[str, Any]] = {
        "load_balancer": {"name": prefix},
        "api": {"name": prefix, "stage_name": env},
        "alarms": {"topic_name": f"{prefix}-alarms"},
    }
    s3 = data.get("s3", {})
    if isinstance(s3, dict) and "bucket_name" not in s3:
        defaults["s3"] = {"bucket_prefix": f"{prefix}{ARTIFACTS_BUCKET_SUFFIX}"}
    backend = data.get("backend", {})
    if isinstance(backend, dict) and backend.get("type") == "s3":
        defaults["backend"] = {"key": f"{data['project']}/{env}/terraform.tfstate"}
        region = _known_region(data)
        if region:
            defaults["backend"]["region"] = region
    return defaults


def with_derived_defaults(data: Any, sections: Iterable[str]) -> Any:
    """`data` with the subnets and names derived from `region` and `env` filled in, and every
    one of `sections` a table, even an empty one: pydantic then validates it at its own key
    path rather than building it from a default factory."""
    if not isinstance(data, dict):
        return data
    raise_problems(_old_shape(data))
    defaults = _zone_defaults(data)
    filled = dict(data)
    # Without a valid project and env their own problems are reported; names would be noise.
    if _is_name_part(data.get("project")) and _is_name_part(data.get("env")):
        prefix = f"{data['project']}-{data['env']}"
        if len(prefix) > NAME_PREFIX_MAX:
            message = (
                f"with env, the name prefix {prefix!r} is {len(prefix)} characters; at most "
                f"{NAME_PREFIX_MAX}: the artifacts bucket prefix "
                f"'<project>-<env>{ARTIFACTS_BUCKET_SUFFIX}' must fit S3's limit"
            )
            fail(("project",), message, data["project"])
        # Every derived bucket starts with the prefix: a reserved start is refused once, here.
        artifacts = f"{prefix}{ARTIFACTS_BUCKET_SUFFIX}"
        reason = bucket_prefix_problem(artifacts)
        if reason is not None:
            message = f"with env, the artifacts bucket prefix {artifacts!r} {reason}"
            fail(("project",), message, data["project"])
        defaults |= _name_defaults(prefix, data)
        if "functions" in data:
            filled["functions"] = _function_name_defaults(prefix, data["functions"])
        if "tables" in data:
            filled["tables"] = table_name_defaults(prefix, data["tables"])
    for section in sections:
        given = filled.setdefault(section, {})
        if isinstance(given, dict):
            filled[section] = {**defaults.get(section, {}), **given}
    return filled


def derived_name_locations(data: Any) -> set[tuple[str | int, ...]]:
    """Where `with_derived_defaults` puts the names it derives from `project` and `env`: one
    missing there after it ran could not be derived (a bad project, env or function key,
    reported on its own)."""
    if not isinstance(data, dict):
        return set()
    # Which names, whatever their values: any valid project and env give the same keys.
    sections = _name_defaults("p-e", {**data, "env": "e", "project": "p"})
    return {
        *((section, key) for section, names in sections.items() for key in names),
        *(
            (section, key, "name")
            for section in ("functions", "tables")
            for key in (data[section] if isinstance(data.get(section), dict) else {})
        ),
    }
