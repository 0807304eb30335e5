"""A generated fuzz test over the configuration schema.

Every key of the environment and bootstrap schemas (found by walking the models, so a key
added later is fuzzed too), table keys included, gets values of each kind a user or a tool
could write by mistake: the wrong type, an extreme size, deep nesting, an unknown key beside
it, unusual Unicode and Terraform template syntax. Each file goes through `main.main` in this
process, as `python main.py` would run it, and must end with exit status 2 (or, for Unicode
and template syntax, which some keys take, 0), one well-formed line per problem naming the
key, no exception and nothing written.

Deterministic: the cases are generated from a fixed seed, each case's values from its own.
"""

from __future__ import annotations

import json
import random
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel

import main
from serverless_app.config import BootstrapConfig, ConfigError, StackConfig, load_config
from tests.support import CONFIG_DIR, bare_type, value_at, with_test_account

SEED = 20261206
Location = tuple[str | int, ...]
# Every problem line fits a terminal, beside the file's path.
LONGEST_LINE = 450
KINDS = ("wrong type", "extreme size", "nesting", "unknown key", "unicode", "terraform")
# Unicode and template syntax are valid in free-text keys (an environment value may be "é").
MAY_PASS = {"unicode", "terraform"}


# --- the schema -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """A key of the schema: where it is in a valid file and what it holds."""

    loc: Location
    shape: str  # "str", "int", "float", "bool", "list", "table", "section" or "table key"


def schema_keys(model: type[BaseModel], data: Any, loc: Location = ()) -> Iterator[Key]:
    if not loc:
        yield Key((), "section")  # the file's top level
    for name, field in model.model_fields.items():
        yield from _keys(field.annotation, value_at(data, name), (*loc, name))


def _keys(annotation: Any, data: Any, loc: Location) -> Iterator[Key]:
    annotation = bare_type(annotation)
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield Key(loc, "section")
        yield from schema_keys(annotation, data if isinstance(data, dict) else {}, loc)
    elif origin is list:
        yield Key(loc, "list")
        yield from _keys(get_args(annotation)[0], value_at(data, 0), (*loc, 0))
    elif origin is dict:
        yield Key(loc, "table")
        yield Key(loc, "table key")
        entry = next(iter(data), "entry") if isinstance(data, dict) and data else "entry"
        yield from _keys(get_args(annotation)[1], value_at(data, entry), (*loc, entry))
    elif origin is Literal:
        yield Key(loc, "str")
    elif annotation in (str, int, float, bool):
        yield Key(loc, annotation.__name__)


# --- values, including the ones Python cannot hold or print directly ------------------------


@dataclass(frozen=True)
class Deep:
    """Arrays or inline tables nested `levels` deep, written as text."""

    levels: int
    opening: str = "["


@dataclass(frozen=True)
class LongInteger:
    """An integer of `digits` digits, written as text (Python will not convert it)."""

    digits: int
    sign: str = ""


def wrong_type(shape: str, rng: random.Random) -> Any:
    others = {
        "str": [1, True, 1.5, [], {}],
        "int": ["1", 1.5, True, [1], {}],
        "float": ["1.5", True, [1.5], {}],
        "bool": [1, "true", [True], {}],
        "list": ["x", 1, {"a": "b"}],
        "table": ["x", 1, ["a"]],
        "section": ["x", 1, [{}]],
    }
    return rng.choice(others[shape])


def extreme(shape: str, rng: random.Random) -> Any:
    """Past every bound a key has: numbers past 32 bits, texts past 4 KB, 10,000 items."""
    character = rng.choice("aZ9-é")
    if shape in ("int", "float", "bool"):
        return rng.choice(
            [LongInteger(5_000), LongInteger(4_400, "-"), 2**64, -(2**63), 1e308, -1e308]
        )
    if shape == "list":
        count, length = rng.choice([(2, 100_000), (10_000, 300)])
        return [character * length] * count
    if shape in ("table", "section"):
        count, length = rng.choice([(2, 100_000), (1_000, 300)])
        return {f"k{number}": character * length for number in range(count)}
    return character * rng.choice([5_000, 100_000, 1_000_000])


def nested(rng: random.Random) -> Deep:
    return Deep(rng.choice([33, 40, 500, 3_000]), rng.choice(["[", "{"]))


UNICODE = [
    "é",
    "日本語",
    "😀",
    "\u202eevil",  # right-to-left override
    "zero\u200bwidth",
    "tab\there",
    "line\nbreak",
    "nul\x00byte",
    "\x7f",
    "Å",  # A and a combining ring
    "\ufeffbom",
]
TERRAFORM = [
    "${var.x}",
    "%{ if true }x%{ endif }",
    "$${x}",
    "%%{y}",
    "${",
    "x$",
    "${jsonencode({})}",
]


def text_case(kind: str, rng: random.Random) -> str:
    pool = UNICODE if kind == "unicode" else TERRAFORM
    return "a" + rng.choice(pool) + rng.choice(["", "b", "@example.com", "/k"])


# --- TOML text ------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, Deep):
        closing = "]" if value.opening == "[" else "}"
        opening = "[" if value.opening == "[" else "{ a = "
        return opening * value.levels + "1" + closing * value.levels
    if isinstance(value, LongInteger):
        return value.sign + "1" + "0" * (value.digits - 1)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml_string(text: str) -> str:
    """A TOML basic string: control characters, quotes and backslashes escaped."""
    escaped = "".join(
        f"\\u{ord(c):04x}" if ord(c) < 0x20 or c == "\x7f" else "\\" + c if c in '"\\' else c
        for c in text
    )
    return f'"{escaped}"'


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in data.items())


def with_change(data: dict, key: Key, kind: str, rng: random.Random) -> dict:
    """A deep copy of `data` with one change at `key` of the given kind."""
    changed = json.loads(json.dumps(data))
    if kind == "unknown key":
        _at(changed, key.loc)["zz_unknown"] = text_case("unicode", rng)
        return changed
    *above, last = key.loc
    parent = _at(changed, tuple(above), then=last)
    value = _changed_value(key, kind, rng)
    if key.shape == "table key":
        entries = _at(changed, key.loc)
        entries[value] = "x"
    elif isinstance(parent, list) and isinstance(last, int):
        parent.extend([None] * (last + 1 - len(parent)))
        parent[last] = value
    else:
        parent[last] = value
    return changed


def _at(data: Any, loc: Location, then: str | int | None = None) -> Any:
    """The table or list at `loc`, made where the file has none: a list where an index
    follows (`then` follows the last part), else a table."""
    for index, part in enumerate(loc):
        following = loc[index + 1] if index + 1 < len(loc) else then
        made: Any = [] if isinstance(following, int) else {}
        if isinstance(data, list) and isinstance(part, int):
            data.extend(made for _ in range(part + 1 - len(data)))
            data = data[part]
        else:
            data = data.setdefault(part, made)
    return data


def _changed_value(key: Key, kind: str, rng: random.Random) -> Any:
    if key.shape == "table key":
        if kind in MAY_PASS:
            return text_case(kind, rng)
        # No table takes keys this long: tag keys stop at 128, and an environment variable's
        # name alone would exceed the 4 KB Lambda allows for all of them together.
        return rng.choice("ké") * rng.choice([5_000, 100_000])
    if kind == "wrong type":
        return wrong_type(key.shape, rng)
    if kind == "extreme size":
        return extreme(key.shape, rng)
    if kind == "nesting":
        return nested(rng)
    return text_case(kind, rng)


# --- the cases ------------------------------------------------------------------------------

# Named an account: `make check` refuses the placeholder, and the fuzzer expects one problem.
ENVIRONMENT = tomllib.loads(with_test_account((CONFIG_DIR / "dev.toml").read_text()))
BOOTSTRAP = {"bucket_name": "my-org-terraform-state", "tags": {"Owner": "me"}}
SCHEMAS: dict[str, tuple[type[BaseModel], Any]] = {
    "environment": (StackConfig, ENVIRONMENT),
    "bootstrap": (BootstrapConfig, BOOTSTRAP),
}


@dataclass(frozen=True)
class Case:
    schema: str
    key: Key
    kind: str
    seed: int

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.key.loc)
        suffix = ".<key>" if self.key.shape == "table key" else ""
        return f"{self.schema}:{where}{suffix}:{self.kind}"


def generated_cases() -> list[Case]:
    """One case per key and kind that applies to it, each with a seed of its own."""
    rng = random.Random(SEED)
    cases = []
    for schema, (model, data) in SCHEMAS.items():
        for key in schema_keys(model, data):
            for kind in KINDS:
                if kind in MAY_PASS and key.shape not in ("str", "table key"):
                    continue
                if kind == "unknown key" and key.shape != "section":
                    continue
                if not key.loc and kind != "unknown key":
                    continue  # a TOML file is a table: only keys can be added to it
                if key.shape == "table key" and kind in ("nesting", "unknown key"):
                    continue
                cases.append(Case(schema, key, kind, rng.randrange(2**32)))
    return cases


CASES = generated_cases()


def expected_places(key: Key) -> tuple[str, ...]:
    """The key paths a line about this key may name: the key, a table above it (a rule across
    keys, an unknown key beside it) or a key below it."""
    parts: list[str] = []
    for part in key.loc:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}" if parts else part)
    return tuple("".join(parts[:end]) for end in range(1, len(parts) + 1))


LINE = re.compile(r"(?P<file>[^\n]*?): (?P<place>[^\n]*?): (?P<message>[^\n]+)")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_bad_value_is_one_line_per_problem_and_nothing_else(tmp_path, capsys, case):
    _, base = SCHEMAS[case.schema]
    data = with_change(base, case.key, case.kind, random.Random(case.seed))
    path = tmp_path / "fuzzed.toml"
    path.write_text(toml_document(data), encoding="utf-8")
    out = tmp_path / "out"
    may_pass = case.kind in MAY_PASS
    if may_pass and case.schema == "bootstrap":
        # --bootstrap has no --check: a valid file would be synthesized, so read it directly.
        status = _bootstrap_check(path)
    else:
        arguments = ["--config", str(path)]
        if case.schema == "bootstrap":
            arguments = ["--bootstrap", *arguments]
        if may_pass:
            arguments = ["--check", *arguments]  # a valid file is not synthesized here
        else:
            arguments += ["--outdir", str(out)]
        status = main.main(arguments)

    err = capsys.readouterr().err
    lines = err.splitlines()
    assert status == 2 or (may_pass and status == 0 and lines == []), (status, err[:2000])
    assert not out.exists(), "a refused file must write nothing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fuzzed.toml"]
    if status == 0:
        return
    assert lines and len(set(lines)) == len(lines), lines
    places = set(expected_places(case.key))
    if case.kind == "unknown key":
        places |= set(expected_places(Key((*case.key.loc, "zz_unknown"), "str")))
    named = False
    for line in lines:
        match = LINE.fullmatch(line)
        assert match and match["file"] == str(path), line
        assert len(line) - len(str(path)) <= LONGEST_LINE, line
        place = match["place"]
        named |= place in places or any(
            place.startswith(p + ".") or place.startswith(p + "[") for p in places
        )
    assert named, (sorted(places), lines)


def _bootstrap_check(path: Path) -> int:
    """What `main.py --bootstrap` does before it synthesizes: 2 and the lines, or 0."""
    try:
        load_config(path, BootstrapConfig)
    except ConfigError as error:
        main.print_lines(error.problems, sys.stderr)
        return main.EXIT_BAD_CONFIG
    return 0


def test_the_generation_is_deterministic_and_bounded():
    again = generated_cases()
    assert again == CASES
    assert 300 <= len(CASES) <= 1500
    kinds = {case.kind for case in CASES}
    assert kinds == set(KINDS)
