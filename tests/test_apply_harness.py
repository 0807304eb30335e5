"""The apply cycle's own steps, without Terraform: the prod variant it synthesizes (config +
overlay + a hosted zone id made by the emulator) and the parameters it creates first."""

from __future__ import annotations

import json
import tomllib

import pytest
from cdktf import Testing as CdktfTesting

from serverless_app.bootstrap import StateBucketStack
from serverless_app.config import BootstrapConfig, load_config
from tests.aws_facts import Endpoint
from tests.moto_server import moto_server, tls_files
from tests.support import (
    BOOTSTRAP_TEST_CONFIG,
    CONFIG_DIR,
    REPO_ROOT,
    data_sources,
    resources,
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


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_retire_settings_empty_and_unprotect_every_bucket_table_and_load_balancer(tmp_path, env):
    path = tmp_path / f"{env}.toml"
    path.write_text(retired_config((CONFIG_DIR / f"{env}.toml").read_text()))
    retired = synth_config(load_config(path))
    buckets = resources(retired, "aws_s3_bucket").values()
    # The artifact bucket, [buckets.assets] and the load balancer's access-log bucket, all
    # versioned.
    assert len(buckets) == 3
    assert all(bucket["force_destroy"] is True for bucket in buckets)
    assert all("lifecycle" not in bucket for bucket in buckets)
    (table,) = resources(retired, "aws_dynamodb_table").values()
    assert table["deletion_protection_enabled"] is False
    (balancer,) = resources(retired, "aws_lb").values()
    assert balancer["enable_deletion_protection"] is False
    assert not is_protected(retired)


def test_shipped_prod_is_protected_and_dev_is_not(stacks):
    assert is_protected(stacks["prod"])
    assert not is_protected(stacks["dev"])


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
