"""The apply cycle's own steps, without Terraform: the prod variant it synthesizes (config +
overlay + a hosted zone id made by the emulator) and the parameters it creates first."""

from __future__ import annotations

import tomllib

import pytest

from serverless_app.config import load_config
from tests.support import CONFIG_DIR, REPO_ROOT, resources, synth_config
from tests.terraform_cycle import (
    PROD_OVERLAY,
    RETIRE_SETTINGS,
    hosted_zone_name,
    is_protected,
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
    for resource_type in ("aws_lb", "aws_dynamodb_table", "aws_s3_bucket", "aws_nat_gateway"):
        assert resources(variant, resource_type).keys() == shipped.get(resource_type, {}).keys()


def test_readme_shows_the_retire_settings_the_cycle_applies():
    assert f"```toml\n{RETIRE_SETTINGS.read_text()}```" in (REPO_ROOT / "README.md").read_text()


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_retire_settings_empty_and_unprotect_every_bucket_table_and_load_balancer(tmp_path, env):
    path = tmp_path / f"{env}.toml"
    path.write_text(retired_config((CONFIG_DIR / f"{env}.toml").read_text()))
    retired = synth_config(load_config(path))
    buckets = resources(retired, "aws_s3_bucket").values()
    # The artifact bucket and the load balancer's access-log bucket, both versioned.
    assert len(buckets) == 2
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
