"""Write the configuration reference tables of docs/config.md from the config model.

Usage: python -m scripts.config_reference [--check] [--doc docs/config.md]

Every row comes from a field of `StackConfig` (or `BootstrapConfig`): its type, its default
(`json_schema_extra["default_text"]` for defaults computed from `env` or `region`), the bounds
of its Field constraints and its description. The tables sit between
`<!-- NAME:start -->` and `<!-- NAME:end -->` markers; --check exits 1 when the page is out of
date (a test runs it), instead of rewriting it.
"""

from __future__ import annotations

import argparse
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic.fields import FieldInfo

from serverless_app.config import BootstrapConfig, StackConfig, StrictModel

REFERENCE_PAGE = Path(__file__).resolve().parent.parent / "docs" / "config.md"
TABLES: dict[str, type[StrictModel]] = {
    "config-reference": StackConfig,
    "bootstrap-reference": BootstrapConfig,
}
HEADER = "| key | type | default | rule |\n| --- | --- | --- | --- |"
SCALAR_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def reference_table(model: type[StrictModel]) -> str:
    return "\n".join([HEADER, *rows(model, prefix="")])


def rows(model: type[StrictModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        value_type, constraints = unwrap(field.annotation)
        if is_section(value_type):
            # An optional table: what leaving it out means; a required one: that it is.
            if field.default is None or must_be_written(model, field):
                yield row(key, field, value_type, [])
            yield from rows(value_type, prefix=f"{key}.")
            continue
        yield row(key, field, value_type, [*field.metadata, *constraints])
        entry = table_entry_model(value_type)
        if entry is not None:
            yield from rows(entry, prefix=f"{key}.<key>.")
        item = list_item_model(value_type)
        if item is not None:
            yield from rows(item, prefix=f"{key}[].")


def must_be_written(model: type[StrictModel], field: FieldInfo) -> bool:
    """Required, in a model that fills in nothing before validation: the environment file's
    sections are required by its model but filled in when left out (`StackConfig.prepared`)."""
    fills_in = getattr(model.prepared, "__func__", None) is not getattr(
        StrictModel.prepared, "__func__", None
    )
    return field.is_required() and not fills_in


def row(key: str, field: FieldInfo, value_type: Any, constraints: list[Any]) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    rule = "; ".join(part for part in (bounds(constraints), field.description) if part)
    cells = (
        f"`{key}`",
        str(extra.get("type_text") or type_text(value_type)),
        str(extra.get("default_text") or default_text(field, value_type)),
        rule.replace("|", "\\|"),
    )
    return "| " + " | ".join(cells) + " |"


def unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type without `None` and `Annotated`, and the constraints found on the way."""
    constraints: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *metadata = get_args(annotation)
            constraints += [c for item in metadata for c in field_constraints(item)]
        elif origin in (Union, types.UnionType):
            choices = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(choices) > 1:  # a value or a table (`buckets = { key = "read" }`)
                return annotation, constraints
            [annotation] = choices
        else:
            return annotation, constraints


def field_constraints(item: Any) -> list[Any]:
    return list(item.metadata) if isinstance(item, FieldInfo) else [item]


def is_section(value_type: Any) -> bool:
    return isinstance(value_type, type) and issubclass(value_type, StrictModel)


def table_entry_model(value_type: Any) -> type[StrictModel] | None:
    """The model of a table's entries (`vpc.public_subnets.<key>`), if they are models."""
    if get_origin(value_type) is not dict:
        return None
    entry, _ = unwrap(get_args(value_type)[1])
    sections = [choice for choice in (get_args(entry) or (entry,)) if is_section(choice)]
    return sections[0] if sections else None


def list_item_model(value_type: Any) -> type[StrictModel] | None:
    """The model of an array of tables' items (`routes[]`), if they are models."""
    if get_origin(value_type) is not list:
        return None
    item, _ = unwrap(get_args(value_type)[0])
    return item if is_section(item) else None


def type_text(value_type: Any) -> str:
    origin = get_origin(value_type)
    if origin is Literal:
        return " \\| ".join(f'`"{choice}"`' for choice in get_args(value_type))
    if origin is dict:
        return f"table of {plural(unwrap(get_args(value_type)[1])[0])}"
    if origin is list:
        return f"list of {plural(unwrap(get_args(value_type)[0])[0])}"
    return SCALAR_TYPES[value_type]


def plural(value_type: Any) -> str:
    return f"{type_text(value_type)}s"


def default_text(field: FieldInfo, value_type: Any) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    return f"`{toml(value, quoted=get_origin(value_type) is Literal)}`"


def toml(value: Any, quoted: bool = True) -> str:
    """A value as a TOML file writes it (free strings unquoted in the table, as typed)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"' if quoted else value
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{key} = {toml(item)}" for key, item in value.items()) + " }"
    return str(value)


def bounds(constraints: list[Any]) -> str:
    """`1-3653`, `at least 1`, `greater than 0, at most 10000`, `1-10 items`."""
    limits: dict[str, Any] = {}
    for constraint in constraints:
        for name in ("ge", "gt", "le", "min_length", "max_length"):
            if hasattr(constraint, name) and isinstance(constraint, annotated_types.BaseMetadata):
                limits[name] = getattr(constraint, name)
    if "min_length" in limits or "max_length" in limits:
        low, high = limits.get("min_length", 0), limits.get("max_length")
        return f"{low}-{high} items" if high is not None else f"at least {low} items"
    if "gt" in limits:
        return f"greater than {limits['gt']}" + (
            f", at most {limits['le']}" if "le" in limits else ""
        )
    if "ge" in limits and "le" in limits:
        return f"{limits['ge']}-{limits['le']}"
    if "ge" in limits:
        return f"at least {limits['ge']}"
    return ""


def render(page: str, page_name: str) -> str:
    """`page` with every reference table rewritten between its markers."""
    for name, model in TABLES.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        before, found_start, rest = page.partition(start)
        _, found_end, after = rest.partition(end)
        if not (found_start and found_end):
            raise SystemExit(f"{page_name}: the markers {start} and {end} are missing")
        page = f"{before}{start}\n{reference_table(model)}\n{end}{after}"
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is stale")
    parser.add_argument("--doc", type=Path, default=REFERENCE_PAGE)
    args = parser.parse_args(argv)
    current = args.doc.read_text(encoding="utf-8")
    wanted = render(current, str(args.doc))
    if args.check:
        if wanted != current:
            print(
                f"{args.doc}: the configuration reference is out of date; run "
                "`python -m scripts.config_reference`",
                file=sys.stderr,
            )
            return 1
        return 0
    if wanted != current:
        args.doc.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
