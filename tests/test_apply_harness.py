"""The apply cycle's own steps, without Terraform: the prod variant it synthesizes (config +
overlay + a hosted zone id made by the emulator) and the parameters it creates first; the
change cycle's configurations, its stateful-loss rule and the release fixture it upgrades from."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib

import pytest
from cdktf import Testing as CdktfTesting

from scripts import release_fixture
from serverless_app.bootstrap import StateBucketStack
from serverless_app.config import BootstrapConfig, load_config, validate_configs
from tests.aws_facts import Endpoint
from tests.change_steps import (
    CHAINS,
    CONFIGS,
    CURRENT,
    EARLIER,
    ONTO_STATE,
    PREVIOUS_RELEASE,
    shipped_dev,
)
from tests.moto_server import moto_server, tls_files
from tests.support import (
    BOOTSTRAP_TEST_CONFIG,
    CONFIG_DIR,
    REPO_ROOT,
    data_sources,
    file_values,
    resources,
    snapshot,
    synth_config,
)
from tests.terraform_cycle import (
    PROD_OVERLAY,
    RETIRE_SETTINGS,
    hosted_zone_name,
    is_protected,
    leave_bootstrap_marker,
    merged,
    overlay_domain,
    retired_config,
    secret_parameters,
    stateful_losses,
    toml_text,
    variant_config,
)

ZONE_ID = "Z0APPLYCYCLE0000000001"


@pytest.mark.parametrize("name", ["dev.toml", "prod.toml", "bootstrap/state.toml"])
def test_toml_text_reads_back_as_the_shipped_config(name):
    parsed = tomllib.loads((CONFIG_DIR / name).read_text())
    assert tomllib.loads(toml_text(parsed)) == parsed


def test_merged_replaces_values_and_merges_tables():
    base = {"a": 1, "t": {"x": 1, "y": {"z": 2}}, "l": [1]}
    assert merged(base, {"t": {"y": {"w": 3}}, "l": [2]}) == {
        "a": 1,
        "t": {"x": 1, "y": {"z": 2, "w": 3}},
        "l": [2],
    }


def test_zone_is_the_domains_parent():
    assert overlay_domain(PROD_OVERLAY) == "api.prod.example.com"
    assert hosted_zone_name("api.prod.example.com") == "prod.example.com"


@pytest.fixture(scope="module")
def variant(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("variant") / "prod.toml"
    path.write_text(variant_config(CONFIG_DIR / "prod.toml", PROD_OVERLAY, ZONE_ID))
    return synth_config(load_config(path))


def test_prod_variant_has_the_domain_in_the_emulators_zone(variant):
    (certificate,) = resources(variant, "aws_acm_certificate").values()
    assert certificate["domain_name"] == "api.prod.example.com"
    records = resources(variant, "aws_route53_record").values()
    assert {record["zone_id"] for record in records} == {ZONE_ID}
    (listener,) = [
        item for item in resources(variant, "aws_lb_listener").values() if item["port"] == 443
    ]
    assert "aws_acm_certificate_validation" in listener["certificate_arn"]


def test_prod_variant_has_secrets_and_provisioned_concurrency(variant):
    assert secret_parameters(variant) == ["/prod/hello/api_token", "/prod/hello/db_password"]
    (warm,) = resources(variant, "aws_lambda_provisioned_concurrency_config").values()
    assert warm["provisioned_concurrent_executions"] == 2


def test_prod_variant_keeps_everything_else_of_prod(variant, stacks):
    shipped = stacks["prod"]["resource"]
    # Besides the overlay's own table and bucket (a user's data model: tables.orders,
    # buckets.uploads).
    added = {"aws_dynamodb_table": "orders_", "aws_s3_bucket": "bucket-uploads_"}
    for resource_type in ("aws_lb", "aws_dynamodb_table", "aws_s3_bucket", "aws_nat_gateway"):
        more = resources(variant, resource_type).keys() - shipped.get(resource_type, {}).keys()
        assert shipped.get(resource_type, {}).keys() <= resources(variant, resource_type).keys()
        assert {address.split("_")[0] + "_" for address in more} == (
            {added[resource_type]} if resource_type in added else set()
        )


def test_the_hand_off_page_shows_the_retire_settings_the_cycle_applies():
    page = (REPO_ROOT / "docs" / "hand-off.md").read_text()
    assert f"```toml\n{RETIRE_SETTINGS.read_text()}```" in page


# The shipped files, and a file without tables (the settings name the shipped files' table).
@pytest.mark.parametrize(
    "shipped",
    [CONFIG_DIR / "dev.toml", CONFIG_DIR / "prod.toml", REPO_ROOT / "tests/config/sandbox.toml"],
    ids=lambda path: path.stem,
)
def test_retire_settings_empty_and_unprotect_every_bucket_table_and_load_balancer(
    tmp_path, shipped
):
    path = tmp_path / shipped.name
    path.write_text(retired_config(shipped.read_text()))
    retired = synth_config(load_config(path))
    declared = file_values(shipped)
    buckets = resources(retired, "aws_s3_bucket").values()
    # The artifact bucket, each of [buckets] and the load balancer's access-log bucket, all
    # versioned.
    assert len(buckets) == 2 + len(declared.get("buckets", {}))
    assert all(bucket["force_destroy"] is True for bucket in buckets)
    assert all("lifecycle" not in bucket for bucket in buckets)
    tables = resources(retired, "aws_dynamodb_table").values()
    assert len(tables) == len(declared.get("tables", {}))
    assert all(table["deletion_protection_enabled"] is False for table in tables)
    (balancer,) = resources(retired, "aws_lb").values()
    assert balancer["enable_deletion_protection"] is False
    assert not is_protected(retired)


def test_shipped_prod_is_protected_and_dev_is_not(stacks):
    assert is_protected(stacks["prod"])
    assert not is_protected(stacks["dev"])


def _change(resource_type: str, *actions: str) -> dict:
    return {
        "address": f"{resource_type}.x",
        "type": resource_type,
        "change": {"actions": list(actions)},
    }


@pytest.mark.parametrize(
    ("change", "lost"),
    [
        (_change("aws_dynamodb_table", "delete", "create"), True),
        (_change("aws_s3_bucket", "create", "delete"), True),
        (_change("aws_kms_key", "delete"), True),
        (_change("aws_sns_topic", "delete", "create"), True),
        (_change("aws_dynamodb_table", "update"), False),
        (_change("aws_s3_bucket", "no-op"), False),
        (_change("aws_lambda_function", "delete", "create"), False),
        (_change("aws_iam_role", "delete"), False),
    ],
)
def test_stateful_losses_are_deletions_and_replacements_of_data(change, lost):
    expected = [f"{change['address']}: {'/'.join(change['change']['actions'])}"] if lost else []
    assert stateful_losses({"resource_changes": [change]}) == expected


def test_stateful_losses_of_a_plan_without_changes():
    assert stateful_losses({"format_version": "1.2"}) == []


def _checked(tmp_path, *configs: dict) -> list[str]:
    """The config check's problems for a folder holding exactly these configurations."""
    for config in configs:
        (tmp_path / f"{config['env']}.toml").write_text(toml_text(config))
    return validate_configs(tmp_path)[1]


@pytest.mark.parametrize("name", CURRENT)
def test_every_configuration_the_change_cycle_applies_passes_the_check(tmp_path, name):
    assert _checked(tmp_path, CONFIGS[name]) == []


def test_an_environment_added_as_readme_says_passes_the_check_beside_dev(tmp_path):
    # After its first step (the shipped dev itself), the steps that start an environment.
    added = [CONFIGS[name] for name in CHAINS["change cycle"][1:] if EARLIER[name] is None]
    assert added, "the change cycle adds no environment"
    assert _checked(tmp_path, shipped_dev(), *added) == []


@pytest.mark.parametrize("name", [name for name in ONTO_STATE if name in CHAINS["change cycle"]])
def test_every_change_step_changes_the_configuration(name):
    before = EARLIER[name]
    assert before is not None
    assert CONFIGS[name] != CONFIGS[before]


def test_the_release_fixture_holds_every_asset_its_stack_uploads():
    stack_folder = PREVIOUS_RELEASE / "dev"
    stack_json = json.loads((stack_folder / "cdk.tf.json").read_text())
    sources = [body["source"] for body in resources(stack_json, "aws_s3_object").values()
               if "source" in body]  # fmt: skip
    assert sources
    assert [source for source in sources if not (stack_folder / source).is_file()] == []
    commit = tomllib.loads((PREVIOUS_RELEASE / "release.toml").read_text())["commit"]
    assert re.fullmatch(r"[0-9a-f]{40}", commit)


def test_an_environment_account_gets_the_bootstrap_marker_the_bootstrap_makes_its_own(
    tmp_path, stacks
):
    """The cycle's dev and prod accounts are ones the bootstrap stack has set up (the README's
    order): the marker their plan looks for is there. The bootstrap stack creates its own."""
    bootstrap = load_config(BOOTSTRAP_TEST_CONFIG, BootstrapConfig)
    bootstrap_json = json.loads(CdktfTesting.synth(StateBucketStack(CdktfTesting.app(), bootstrap)))
    tls = tls_files(tmp_path)
    with moto_server(tls=tls) as url:
        ssm = Endpoint(url, "us-east-1", str(tls.certificate)).client("ssm")
        leave_bootstrap_marker(bootstrap_json, url, tls, "us-east-1")
        assert ssm.describe_parameters()["Parameters"] == []
        leave_bootstrap_marker(stacks["dev"], url, tls, "us-east-1")
        [marker] = ssm.describe_parameters()["Parameters"]
        [reader] = data_sources(stacks["dev"], "aws_ssm_parameters_by_path").values()
        assert marker["Name"].startswith(reader["path"] + "/")


def test_the_release_fixture_is_what_make_release_fixture_writes(tmp_path, monkeypatch):
    commit = tomllib.loads((PREVIOUS_RELEASE / "release.toml").read_text())["commit"]
    present = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPO_ROOT, capture_output=True
    )
    if present.returncode != 0:  # a shallow clone (CI) has the fixture, not the commit
        pytest.skip(f"commit {commit} is not in this clone")
    monkeypatch.setattr(release_fixture, "RELEASES_DIR", tmp_path / "releases")
    monkeypatch.setattr(release_fixture, "OVERLAY_DIR", tmp_path)
    written = release_fixture.record(PREVIOUS_RELEASE.name, commit)
    assert snapshot(written) == snapshot(PREVIOUS_RELEASE)
    overlay = release_fixture.overlay_path(PREVIOUS_RELEASE.name)
    assert tomllib.loads(overlay.read_text()) == {}
