"""The provider 6 behaviours the stacks rely on, held on the JSON: the apply cycle runs the
provider its mirror holds (5.100.0 on this machine), which neither does nor checks them
(tests/terraform_cycle.py, PROVIDER_6_BEHAVIOURS, names them in the cycle's summary)."""

from __future__ import annotations

import json

import pytest
from cdktf import Testing as CdktfTesting

from serverless_app.bootstrap import StateBucketStack
from serverless_app.config import BootstrapConfig, load_config
from tests.support import BOOTSTRAP_TEST_CONFIG, resources
from tests.terraform_cycle import PROVIDER_6_BEHAVIOURS, provider_version


@pytest.fixture(scope="module")
def bootstrap() -> dict:
    config = load_config(BOOTSTRAP_TEST_CONFIG, BootstrapConfig)
    return json.loads(CdktfTesting.synth(StateBucketStack(CdktfTesting.app(), config)))


def test_the_stacks_pin_provider_6(stack, bootstrap):
    for synthesized in (stack, bootstrap):
        version = synthesized["terraform"]["required_providers"]["aws"]["version"]
        assert version.split(".")[0] == "6"


def test_no_plan_may_destroy_the_api_gateway_account_setting(bootstrap):
    """Provider 6 resets the region's logging role when `aws_api_gateway_account` is destroyed
    (hashicorp/terraform-provider-aws#42226): every API there would stop logging."""
    accounts = resources(bootstrap, "aws_api_gateway_account")
    assert len(accounts) == 4  # the setting and its read-only twin, in each of two regions
    for account in accounts.values():
        assert account["lifecycle"]["prevent_destroy"] is True
        assert "reset_on_delete" not in account  # removed in 6: a 6.x plan refuses it


def test_deployments_leave_the_stage_to_its_own_resource(stack):
    stages = resources(stack, "aws_api_gateway_stage")
    for rid, deployment in resources(stack, "aws_api_gateway_deployment").items():
        removed = {"stage_name", "stage_description", "canary_settings"} & set(deployment)
        assert not removed, rid
        assert [s for s in stages.values() if rid in s["deployment_id"]], rid


def test_elastic_ips_use_domain(nat_stack):
    eips = resources(nat_stack, "aws_eip")
    assert eips
    assert all(eip["domain"] == "vpc" and "vpc" not in eip for eip in eips.values())


def test_flow_logs_use_log_destination(stack):
    flow_logs = resources(stack, "aws_flow_log")
    assert flow_logs
    for flow_log in flow_logs.values():
        assert "log_group_name" not in flow_log
        assert flow_log["log_destination_type"] == "cloud-watch-logs"
        assert flow_log["log_destination"].endswith(".arn}")


def test_every_behaviour_names_a_test_that_exists():
    module = globals()
    for behaviour in PROVIDER_6_BEHAVIOURS:
        path, _, name = behaviour.test.partition("::")
        assert path == "tests/test_provider_version.py", behaviour.label
        assert callable(module.get(name)), behaviour.test


def test_a_cycle_on_provider_5_says_what_it_cannot_check(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0").mkdir(parents=True)
    stack_json = {"terraform": {"required_providers": {"aws": {"version": "6.25.0"}}}}
    version, note = provider_version(stack_json, mirror)
    assert version == "5.100.0"
    assert note is not None and "not checked by 5.100.0" in note
    assert all(behaviour.label in note for behaviour in PROVIDER_6_BEHAVIOURS)
    (mirror / "registry.terraform.io" / "hashicorp" / "aws" / "6.25.0").mkdir()
    assert provider_version(stack_json, mirror) == ("6.25.0", None)
