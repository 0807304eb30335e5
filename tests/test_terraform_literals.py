"""Every string a user writes reaches AWS exactly as written.

Terraform reads each string of its JSON syntax as a template (`${...}` interpolates, `%{...}`
is a directive). For every string-valued key of the configuration schema (found by walking
the model, so a key added later is covered too), a value full of template syntax is either
refused by the check, or the synthesized stack, read as Terraform reads it, gives back the
very text the user wrote. How Terraform reads a string is modelled by `terraform_read`, which
is itself checked against `terraform console` on the literal strings of that stack.
"""

from __future__ import annotations

import copy
import json
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from serverless_app.config import BootstrapConfig, StackConfig
from serverless_app.summary import json_strings
from tests.support import CONFIG_DIR, api_document, bare_type, resources, synth_config, value_at

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Slot:
    """A place in a configuration file that holds a string: a value, or a table's key."""

    loc: Location
    is_key: bool

    def __str__(self) -> str:
        text = ".".join(str(part) for part in self.loc)
        return f"{text}.<key>" if self.is_key else text


def string_slots(model: type[BaseModel], data: Any, loc: Location = ()) -> Iterator[Slot]:
    """Every string slot of `model`, with `data` (a valid file's table for it) choosing an
    existing entry where a table of tables or a list needs one."""
    for name, field in model.model_fields.items():
        yield from _slots_of(field.annotation, value_at(data, name), (*loc, name))


def _slots_of(annotation: Any, data: Any, loc: Location) -> Iterator[Slot]:
    annotation = bare_type(annotation)
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from string_slots(annotation, data if isinstance(data, dict) else {}, loc)
    elif origin is list:
        yield from _slots_of(get_args(annotation)[0], value_at(data, 0), (*loc, 0))
    elif origin is dict:
        key_type, value_type = get_args(annotation)
        if bare_type(key_type) is str:
            yield Slot(loc, is_key=True)
        key = next(iter(data), "entry") if isinstance(data, dict) and data else "entry"
        yield from _slots_of(value_type, value_at(data, key), (*loc, key))
    elif annotation is str or (origin is Literal and isinstance(get_args(annotation)[0], str)):
        yield Slot(loc, is_key=False)


def with_value(data: dict, slot: Slot, text: str) -> dict:
    """`data` with `text` in the slot: as the value, or as a new key holding a copy of an
    existing entry's value (or a plain string)."""
    changed = copy.deepcopy(data)
    *parents, last = slot.loc
    table: Any = changed
    for part in parents:
        table = table[part] if isinstance(part, int) else table.setdefault(part, {})
    if isinstance(table, list) and last == len(table):
        table.append(text)  # an empty list gets its first item
    elif not slot.is_key:
        table[last] = text
    else:
        entries = table.setdefault(last, {})
        entries[text] = copy.deepcopy(next(iter(entries.values()), "x"))
    return changed


# Sections whose keys are only read with them: a custom domain, an S3 backend.
OPTIONAL_SECTIONS = {
    "domain": {"name": "api.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ"},
    "backend": {"type": "s3", "bucket": "tf-state"},
}


def template_text(number: int) -> str:
    """Terraform template syntax of every kind: an interpolation, a directive, both already
    escaped (the user means the doubled characters), and a trailing `$`."""
    return f"k{number}${{var.v{number}}}%{{if}}$${{e}}%%{{d}}$"


def shapes(text: str) -> list[str]:
    """The text alone and inside the shapes some keys require (an address, a URL, a key)."""
    return [text, f"{text}@example.com", f"https://hooks.example.com/{text}", f"reports/{text}"]


def accepted_value(model: type[BaseModel], base: dict, slot: Slot, number: int):
    """The first shape of template text the check accepts in the slot, with its file data;
    None when the key refuses them all (the text never reaches Terraform)."""
    for text in shapes(template_text(number)):
        data = with_value(base, slot, text)
        try:
            model.model_validate(data)
        except ValidationError:
            continue
        return text, data
    return None


def dev_data() -> dict:
    """The shipped dev file with every optional section present, and every key of a table,
    a bucket and a grant that takes text (the walk reads the first entry of each table)."""
    data = {**tomllib.loads((CONFIG_DIR / "dev.toml").read_text()), **OPTIONAL_SECTIONS}
    data["tables"]["requests"]["sort_key"] = {"name": "placed", "type": "N"}
    data["buckets"]["assets"]["lifecycle"] = [{"prefix": "tmp/", "expiration_days": 1}]
    data["functions"]["hello"]["grants"]["buckets"]["assets"]["write"] = ["incoming/"]
    return data


def terraform_read(text: str) -> list[str | None]:
    """A JSON string as Terraform reads it: its literal runs, with None for each
    interpolation. A template directive (`%{...}`) fails: the stacks write none."""
    parts: list[str | None] = []
    literal: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith(("$${", "%%{"), index):
            literal.append(text[index + 1 : index + 3])
            index += 3
        elif text.startswith("%{", index):
            raise AssertionError(f"a template directive in {text!r}")
        elif text.startswith("${", index):
            parts += ["".join(literal), None]
            literal = []
            index = _closing_brace(text, index + 2) + 1
        else:
            literal.append(text[index])
            index += 1
    return [*parts, "".join(literal)]


def _closing_brace(text: str, start: int) -> int:
    """The `}` that ends the expression starting at `start` (nested braces and strings)."""
    depth, index, quoted = 0, start, False
    while index < len(text):
        character = text[index]
        if quoted:
            if character == "\\":
                index += 1
            elif character == '"':
                quoted = False
        elif character == '"':
            quoted = True
        elif character == "{":
            depth += 1
        elif character == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    raise AssertionError(f"an unterminated interpolation in {text!r}")


def read_by_terraform_console(strings: list[str], folder: Path) -> list[str]:
    """What Terraform makes of each JSON string (without interpolations) of a module."""
    (folder / "main.tf.json").write_text(json.dumps({"locals": {"texts": strings}}))
    result = subprocess.run(
        ["terraform", f"-chdir={folder}", "console"],
        input="jsonencode(local.texts)\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(json.loads(result.stdout.strip().splitlines()[-1]))


# --- the property ---------------------------------------------------------------------------


def accepted_templates(model: type[BaseModel], base: dict) -> tuple[dict, list[str], int]:
    """Every slot's accepted template text applied to one file, the texts, and how many slots
    there are."""
    combined = base
    texts: list[str] = []
    slots = list(string_slots(model, base))
    for number, slot in enumerate(slots):
        found = accepted_value(model, base, slot, number)
        if found is not None:
            text, _ = found
            combined = with_value(combined, slot, text)
            texts.append(text)
    return combined, texts, len(slots)


@pytest.fixture(scope="module")
def environment_templates() -> tuple[dict, list[str], int]:
    return accepted_templates(StackConfig, dev_data())


@pytest.fixture(scope="module")
def synthesized(environment_templates) -> dict:
    data, _, _ = environment_templates
    return synth_config(StackConfig.model_validate(data))


def test_the_walk_finds_the_keys_users_write_free_text_in(environment_templates):
    """The property below is only as good as the slots it reaches: the keys that take any
    text must all be among those that accept template syntax."""
    data, texts, slots = environment_templates
    assert slots >= 50
    hello = data["functions"]["hello"]
    assert hello["environment"]["LOG_LEVEL"] in texts
    assert hello["grants"]["buckets"]["assets"]["read"][0] in texts
    assert hello["grants"]["buckets"]["assets"]["write"][0] in texts
    table, bucket = data["tables"]["requests"], data["buckets"]["assets"]
    assert table["partition_key"]["name"] in texts and table["sort_key"]["name"] in texts
    assert table["ttl_attribute"] in texts
    assert bucket["lifecycle"][0]["prefix"] in texts
    assert bucket["objects"]["greeting.txt"] in texts
    assert data["alarms"]["email"][0] in texts and data["alarms"]["https"][0] in texts
    assert data["backend"]["key"] in texts


# Names other names and the API's OpenAPI document are built from: `<project>-<env>` starts
# every derived name, the route paths are the document's keys.
BUILDING_BLOCKS = [("project",), ("env",), ("alarms", "topic_name"), ("api", "name")]


@pytest.mark.parametrize("loc", [*BUILDING_BLOCKS, ("routes", 0, "path")], ids=str)
def test_names_the_stack_builds_on_refuse_template_syntax(loc):
    slot = Slot(loc, is_key=False)
    assert slot in set(string_slots(StackConfig, dev_data()))
    assert accepted_value(StackConfig, dev_data(), slot, 0) is None


def test_the_api_document_and_its_redeployment_trigger_survive_the_escaping(synthesized):
    """The REST API's `body` is JSON the stack writes: its only interpolations are the
    routes' function ARNs and each cognito authorizer's user pool ARN, and the deployment is
    redeployed on a hash of it."""
    routes = dev_data()["routes"]
    pools = [a for a in dev_data().get("authorizers", {}).values() if a["type"] == "cognito"]
    [(address, api)] = resources(synthesized, "aws_api_gateway_rest_api").items()
    assert set(api_document(synthesized)["paths"]) == {route["path"] for route in routes}
    assert terraform_read(api["body"]).count(None) == len(routes) + len(pools)
    [deployment] = resources(synthesized, "aws_api_gateway_deployment").values()
    assert deployment["triggers"] == {
        "redeployment": f"${{sha1(aws_api_gateway_rest_api.{address}.body)}}"
    }


def test_every_accepted_string_reaches_terraform_as_written(environment_templates, synthesized):
    _, texts, _ = environment_templates
    literal_runs = [
        part for text in json_strings(synthesized) for part in terraform_read(text) if part
    ]
    missing = [text for text in texts if not any(text in run for run in literal_runs)]
    assert missing == []


def test_terraform_reads_the_stack_strings_as_this_test_does(synthesized, tmp_path):
    """`terraform_read` against Terraform itself, on every string of the stack that holds
    template syntax but no interpolation (the escaped values among them)."""
    literal = [
        text
        for text in json_strings(synthesized)
        if ("$" in text or "%" in text) and None not in terraform_read(text)
    ]
    assert len(literal) >= 4
    assert read_by_terraform_console(literal, tmp_path) == [
        terraform_read(text)[0] for text in literal
    ]


def test_the_bootstrap_file_refuses_template_syntax_in_every_string():
    base = {"bucket_name": "my-org-terraform-state", "tags": {"Owner": "me"}}
    slots = list(string_slots(BootstrapConfig, base))
    assert len(slots) >= 4
    assert [
        str(slot)
        for number, slot in enumerate(slots)
        if accepted_value(BootstrapConfig, base, slot, number) is not None
    ] == []
