"""Typed configuration for one environment, read from `config/<env>.toml`.

This module must stay free of cdktf imports: `main.py --check` uses it to validate
configuration without paying for the AWS provider bindings.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config"


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never fall back to a default silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SubnetConfig(StrictModel):
    cidr: str
    az: str


NatStrategy = Literal["single", "one_per_az", "none"]


class VpcConfig(StrictModel):
    cidr: str = "10.0.0.0/16"
    # Empty maps mean "use the defaults for the region" (two AZs, a and b).
    public_subnets: dict[str, SubnetConfig] = Field(default_factory=dict)
    private_subnets: dict[str, SubnetConfig] = Field(default_factory=dict)
    nat_gateways: NatStrategy = "single"
    # With nat_gateways = "single": the public subnet that holds the NAT gateway.
    # Defaults to the first public subnet key in sorted order.
    nat_subnet: str | None = None


class LoadBalancerConfig(StrictModel):
    name: str | None = None


class LambdaConfig(StrictModel):
    function_name: str | None = None
    handler: str = "app.handler"
    runtime: str = "python3.13"
    memory_mb: int = 256
    timeout_s: int = 10
    # Relative paths are relative to the project root (the folder holding main.py).
    source_dir: str = "lambda"
    environment: dict[str, str] = Field(default_factory=dict)


class ApiConfig(StrictModel):
    name: str | None = None
    path_part: str = "hello"
    stage_name: str | None = None


class S3Config(StrictModel):
    bucket_prefix: str | None = None
    bucket_name: str | None = None

    @model_validator(mode="after")
    def _one_naming_mode(self) -> S3Config:
        if self.bucket_prefix and self.bucket_name:
            raise ValueError("set bucket_prefix or bucket_name, not both")
        return self


class DynamoDbConfig(StrictModel):
    table_name: str | None = None


class StackConfig(StrictModel):
    """One environment. Every key but `env` has a default derived from `env` and `region`."""

    env: str
    region: str = "us-east-1"
    tags: dict[str, str] = Field(default_factory=dict)
    vpc: VpcConfig = Field(default_factory=VpcConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    lambda_: LambdaConfig = Field(default_factory=LambdaConfig, alias="lambda")
    api: ApiConfig = Field(default_factory=ApiConfig)
    s3: S3Config = Field(default_factory=S3Config)
    dynamodb: DynamoDbConfig = Field(default_factory=DynamoDbConfig)

    @model_validator(mode="after")
    def _fill_derived_defaults(self) -> StackConfig:
        env, region = self.env, self.region
        vpc_updates: dict[str, object] = {}
        if not self.vpc.public_subnets:
            vpc_updates["public_subnets"] = {
                "a": SubnetConfig(cidr="10.0.1.0/24", az=f"{region}a"),
                "b": SubnetConfig(cidr="10.0.2.0/24", az=f"{region}b"),
            }
        if not self.vpc.private_subnets:
            vpc_updates["private_subnets"] = {
                "a": SubnetConfig(cidr="10.0.11.0/24", az=f"{region}a"),
                "b": SubnetConfig(cidr="10.0.12.0/24", az=f"{region}b"),
            }
        defaults = {
            "vpc": self.vpc.model_copy(update=vpc_updates),
            "load_balancer": _with_default(self.load_balancer, "name", f"{env}-alb"),
            "lambda_": _with_default(self.lambda_, "function_name", f"{env}-hello"),
            "api": _with_default(
                _with_default(self.api, "name", f"{env}-hello-api"), "stage_name", env
            ),
            "dynamodb": _with_default(self.dynamodb, "table_name", f"{env}-requests"),
        }
        if not self.s3.bucket_name and not self.s3.bucket_prefix:
            defaults["s3"] = S3Config(bucket_prefix=f"{env}-hello-artifacts-")
        for field, value in defaults.items():
            setattr(self, field, value)
        return self

    @property
    def source_path(self) -> Path:
        return (PROJECT_ROOT / self.lambda_.source_dir).resolve()


def _with_default(model: StrictModel, field: str, value: object) -> StrictModel:
    if getattr(model, field) is not None:
        return model
    return model.model_copy(update={field: value})


class ConfigError(Exception):
    """A configuration problem, already formatted as `FILE: key.path: message` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def config_files(path: Path) -> list[Path]:
    """A file as given, or every `*.toml` in a folder, sorted so output order is stable."""
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise ConfigError([f"{path}: no *.toml configuration files found"])
        return files
    if not path.exists():
        raise ConfigError([f"{path}: configuration file not found"])
    return [path]


def load_config(path: Path) -> StackConfig:
    """Parse and validate one file; raise ConfigError listing every problem in it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{path}: invalid TOML: {error}"]) from None
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError([_format_error(path, item) for item in error.errors()]) from None


def _format_error(path: Path, item: dict) -> str:
    location = ".".join(str(part) for part in item["loc"]) or "(top level)"
    message = item["msg"]
    if item["type"] == "extra_forbidden":
        message = "unknown key"
    elif item["type"] == "missing":
        message = "required key is missing"
    given = "" if item["type"] == "missing" else f" (given: {item['input']!r})"
    return f"{path}: {location}: {message}{given}"


def load_configs(path: Path) -> list[tuple[Path, StackConfig]]:
    """Load every file under `path`, collecting the problems of all files before failing."""
    problems: list[str] = []
    loaded: list[tuple[Path, StackConfig]] = []
    for file in config_files(path):
        try:
            loaded.append((file, load_config(file)))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return loaded
