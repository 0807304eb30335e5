"""lambda/ssm_secrets.py against moto in server mode: real HTTP, real decryption flag."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import boto3
import pytest

from scripts.local_aws import UNSET_AWS_VARIABLES, local_aws_environment
from tests.moto_server import moto_server, reset
from tests.support import REPO_ROOT

REGION = "eu-west-1"
SOURCE = REPO_ROOT / "lambda" / "ssm_secrets.py"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as endpoint_url:
        yield endpoint_url


@pytest.fixture
def ssm(endpoint: str, monkeypatch: pytest.MonkeyPatch):
    reset(endpoint)
    for name in UNSET_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("SECRET_")]:
        monkeypatch.delenv(name)
    for name, value in local_aws_environment(endpoint, REGION).items():
        monkeypatch.setenv(name, value)
    client = boto3.client("ssm", region_name=REGION, endpoint_url=endpoint)
    client.put_parameter(Name="/t/db/password", Value="s3cret", Type="SecureString")
    client.put_parameter(Name="/t/api/token", Value="tok", Type="SecureString")
    monkeypatch.setenv("SECRET_DB_PASSWORD", "/t/db/password")
    monkeypatch.setenv("SECRET_API_TOKEN", "/t/api/token")
    return client


def new_execution_environment() -> ModuleType:
    boto3.setup_default_session()
    spec = importlib.util.spec_from_file_location("ssm_secrets_under_test", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_reads_decrypted_values_by_secret_name(ssm):
    secrets = new_execution_environment()
    assert secrets.get("db_password") == "s3cret"
    assert secrets.get_many(["db_password", "api_token"]) == {
        "db_password": "s3cret",
        "api_token": "tok",
    }
    assert secrets.configured() == ["api_token", "db_password"]


def test_values_are_read_once_per_execution_environment(ssm):
    secrets = new_execution_environment()
    assert secrets.get("db_password") == "s3cret"
    ssm.put_parameter(Name="/t/db/password", Value="rotated", Type="SecureString", Overwrite=True)
    assert secrets.get("db_password") == "s3cret"  # cached
    assert secrets.get("db_password", max_age_s=0) == "rotated"
    assert new_execution_environment().get("db_password") == "rotated"


def test_cache_can_be_cleared(ssm):
    secrets = new_execution_environment()
    secrets.get("db_password")
    ssm.put_parameter(Name="/t/db/password", Value="rotated", Type="SecureString", Overwrite=True)
    secrets.clear_cache()
    assert secrets.get("db_password") == "rotated"


def test_more_than_ten_secrets_are_read_in_batches(ssm, monkeypatch):
    for index in range(12):
        ssm.put_parameter(Name=f"/t/many/p{index}", Value=f"v{index}", Type="SecureString")
        monkeypatch.setenv(f"SECRET_P{index}", f"/t/many/p{index}")
    secrets = new_execution_environment()
    values = secrets.get_many([f"p{index}" for index in range(12)])
    assert values == {f"p{index}": f"v{index}" for index in range(12)}


def test_unconfigured_secret_is_refused_without_calling_aws(ssm):
    secrets = new_execution_environment()
    with pytest.raises(secrets.SecretNotConfigured, match="SECRET_NOPE"):
        secrets.get("nope")


def test_missing_parameter_names_the_parameter_not_a_value(ssm, monkeypatch):
    monkeypatch.setenv("SECRET_GONE", "/t/gone")
    secrets = new_execution_environment()
    with pytest.raises(secrets.SecretUnavailable, match="/t/gone") as raised:
        secrets.get_many(["gone", "db_password"])
    assert "s3cret" not in str(raised.value)
