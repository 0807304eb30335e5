"""The configuration reference (docs/config.md) is generated from the config model and kept
current."""

from collections.abc import Iterator
from pathlib import Path
from typing import get_args

from scripts import config_reference
from serverless_app.config import BootstrapConfig, FunctionConfig, StackConfig, StrictModel
from serverless_app.config.data import TableConfig
from tests.support import REPO_ROOT

REFERENCE_PAGE = REPO_ROOT / "docs" / "config.md"


def test_reference_is_up_to_date():
    # Fails after a change to the config model: run `python -m scripts.config_reference`.
    assert config_reference.main(["--check", "--doc", str(REFERENCE_PAGE)]) == 0


def test_check_fails_on_a_stale_table_and_the_rewrite_fixes_it(tmp_path: Path):
    page = tmp_path / "config.md"
    current = REFERENCE_PAGE.read_text(encoding="utf-8")
    stale = current.replace("| `functions.<key>.memory_mb` |", "| `functions.<key>.memory` |")
    page.write_text(stale, "utf-8")
    assert config_reference.main(["--check", "--doc", str(page)]) == 1
    assert config_reference.main(["--doc", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == current


def test_rows_state_type_default_bounds_and_description():
    table = config_reference.reference_table(StackConfig)
    assert "| `functions.<key>.memory_mb` | integer | `256` | 128-10240 |" in table.splitlines()
    assert "| `functions.<key>.grants.tables` | table: table key = access | `{}` |" in table
    assert "| `tables.<key>.partition_key` | table | **required** |" in table
    assert '| `routes[].path` | string | **required** | `"/"` or `/segment/...`' in table
    assert "| `load_balancer.name` | string | `<project>-<env>` | 1-30 lowercase" in table
    assert "| `project` | string | **required** | 1-20 lowercase" in table
    assert (
        '| `routes[].load_balancer` | boolean | `true` for `authorization = "NONE"`, else `false` |'
        in table
    )
    assert "| `routes[].priority` | integer | derived from method and path" in table
    assert (
        '| `vpc.nat_gateways` | `"single"` \\| `"one_per_az"` \\| `"none"` | `"single"` |' in table
    )
    assert "| `api.throttling_rate_limit` | number | `50` | greater than 0, at most 10000;" in table


def config_keys(model: type[StrictModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        section = field.annotation
        if isinstance(section, type) and issubclass(section, StrictModel):
            yield from config_keys(section, key + ".")
            continue
        yield key
        # An optional table (`domain`): its row and every key inside it.
        optional = [arg for arg in get_args(field.annotation) if arg is not type(None)]
        inner = (
            optional[0] if len(optional) == 1 and type(None) in get_args(field.annotation) else None
        )
        if isinstance(inner, type) and issubclass(inner, StrictModel):
            yield from config_keys(inner, key + ".")
        # Tables of tables (`functions.<key>.`) and arrays of tables (`routes[].`).
        value_type, _ = config_reference.unwrap(field.annotation)
        entry = config_reference.table_entry_model(value_type)
        if entry is not None:
            yield from config_keys(entry, key + ".<key>.")
        item = config_reference.list_item_model(value_type)
        if item is not None:
            yield from config_keys(item, key + "[].")


def test_reference_documents_every_key():
    page = REFERENCE_PAGE.read_text(encoding="utf-8")
    for model, name in ((StackConfig, "config"), (BootstrapConfig, "bootstrap")):
        table = page.split(f"<!-- {name}-reference:start -->")[1].split("<!-- ")[0]
        assert [key for key in config_keys(model) if f"| `{key}` |" not in table] == []


def test_computed_defaults_are_what_the_model_fills_in():
    """A `default_text` like `<project>-<env>` must say what a file without the key gets."""
    backend = {"type": "s3", "bucket": "qa-state-bucket"}  # the state key is derived only then
    hello = {"source_dir": "lambda"}
    route = {"method": "GET", "path": "/hello", "function": "hello"}
    config = StackConfig.model_validate(
        {
            "project": "shop",
            "env": "qa",
            "tables": {"orders": {"partition_key": {"name": "id", "type": "S"}}},
            "backend": backend,
            "functions": {"hello": hello},
            "routes": [route],
        }
    )
    checked = []
    for section, field in StackConfig.model_fields.items():
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, StrictModel)):
            continue
        for name, inner in model.model_fields.items():
            extra = inner.json_schema_extra if isinstance(inner.json_schema_extra, dict) else {}
            text = str(extra.get("default_text", ""))
            if text.startswith(("`<project>", "`<env>")) and text.count("`") == 2:
                expected = text.strip("`").replace("<project>", "shop").replace("<env>", "qa")
                assert getattr(getattr(config, section), name) == expected, (section, name)
                checked.append(name)
    assert {"name", "stage_name", "topic_name", "key"} <= set(checked)
    for model in (FunctionConfig, TableConfig):
        name_extra = model.model_fields["name"].json_schema_extra
        assert isinstance(name_extra, dict)
        assert name_extra["default_text"] == "`<project>-<env>-<key>`"
    assert config.functions["hello"].name == "shop-qa-hello"
    assert config.tables["orders"].name == "shop-qa-orders"
