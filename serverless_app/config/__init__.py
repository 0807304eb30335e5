"""The configuration of one environment (`config/<env>.toml`), split along its seams:
`aws_facts` (what AWS allows), `rules` (one value), a module per section of the file (`network`,
`functions`, `routes`, `edge`, `storage`, `operations`, `backend`) with its keys, defaults and the
rules across them, `environment` (the whole file and the rules across sections), `defaults` (the
values derived from `project`, `env` and `region`), `across_files` (names two files may not share),
`bootstrap` (the bootstrap file), `loading` (files, problems, warnings). The public names are
here."""

from serverless_app.config.aws_facts import (
    ALB_SSL_POLICIES,
    AVAILABILITY_ZONE_LETTERS,
    AWS_REGIONS,
    FUNCTION_ROLE_SUFFIX,
    TARGET_GROUP_NAME_MAX,
)
from serverless_app.config.base import DEFAULT_CONFIG_PATH, DEFAULT_REGION, StrictModel
from serverless_app.config.bootstrap import BootstrapConfig
from serverless_app.config.data import FunctionGrants
from serverless_app.config.derived import (
    environment_bytes,
    function_variables,
    secret_variables,
    target_group_name,
)
from serverless_app.config.environment import StackConfig
from serverless_app.config.functions import FunctionConfig
from serverless_app.config.loading import (
    DEFAULT_BOOTSTRAP_CONFIG,
    ConfigError,
    config_warnings,
    load_config,
    load_configs,
    placeholder_account_lines,
    shown,
    validate_configs,
)
from serverless_app.config.network import SubnetConfig
from serverless_app.config.routes import RouteConfig
from serverless_app.config.rules import zones_of

__all__ = [
    "ALB_SSL_POLICIES",
    "AVAILABILITY_ZONE_LETTERS",
    "AWS_REGIONS",
    "DEFAULT_BOOTSTRAP_CONFIG",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_REGION",
    "FUNCTION_ROLE_SUFFIX",
    "TARGET_GROUP_NAME_MAX",
    "BootstrapConfig",
    "ConfigError",
    "FunctionConfig",
    "FunctionGrants",
    "RouteConfig",
    "StackConfig",
    "StrictModel",
    "SubnetConfig",
    "config_warnings",
    "environment_bytes",
    "function_variables",
    "load_config",
    "load_configs",
    "placeholder_account_lines",
    "secret_variables",
    "shown",
    "target_group_name",
    "validate_configs",
    "zones_of",
]
