from pathlib import Path

import pytest

from constructs_lib.config import ConfigError, load_config, load_configs
from tests.support import CONFIG_DIR


def write(tmp_path: Path, text: str, name: str = "env.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_configs_load_in_name_order():
    loaded = load_configs(CONFIG_DIR)
    assert [config.env for _, config in loaded] == ["dev", "prod"]


def test_short_file_gets_defaults_derived_from_env(tmp_path):
    config = load_config(write(tmp_path, 'env = "qa"\nregion = "eu-west-1"\n'))
    assert config.lambda_.function_name == "qa-hello"
    assert config.load_balancer.name == "qa-alb"
    assert config.api.stage_name == "qa"
    assert config.api.name == "qa-hello-api"
    assert config.s3.bucket_prefix == "qa-hello-artifacts-"
    assert config.dynamodb.table_name == "qa-requests"
    assert {s.az for s in config.vpc.public_subnets.values()} == {"eu-west-1a", "eu-west-1b"}
    assert config.vpc.nat_gateways == "single"


def test_unknown_key_is_an_error(tmp_path):
    path = write(tmp_path, 'env = "qa"\n[lambda]\nmemroy_mb = 512\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.problems == [f"{path}: lambda.memroy_mb: unknown key (given: 512)"]


def test_missing_env_and_wrong_type_reported_together(tmp_path):
    path = write(tmp_path, '[lambda]\nmemory_mb = "lots"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}: env: required key is missing" in error.value.problems
    assert any(p.startswith(f"{path}: lambda.memory_mb: ") for p in error.value.problems)


def test_toml_syntax_error_names_the_file(tmp_path):
    path = write(tmp_path, 'env = "qa\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.problems[0].startswith(f"{path}: invalid TOML")


def test_bucket_name_and_prefix_are_exclusive(tmp_path):
    path = write(tmp_path, 'env = "qa"\n[s3]\nbucket_name = "a"\nbucket_prefix = "b"\n')
    with pytest.raises(ConfigError, match="not both"):
        load_config(path)


def test_problems_of_all_files_are_collected(tmp_path):
    write(tmp_path, "x = 1\n", "a.toml")
    write(tmp_path, "y = 1\n", "b.toml")
    with pytest.raises(ConfigError) as error:
        load_configs(tmp_path)
    assert {p.split(":")[0] for p in error.value.problems} == {
        str(tmp_path / "a.toml"),
        str(tmp_path / "b.toml"),
    }
