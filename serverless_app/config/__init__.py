"""The configuration of one environment (`config/<env>.toml`), split along its seams:
`aws_facts` (what AWS allows), `rules` (one value), `models` (the keys, their defaults and the
rules across keys), `loading` (files, problems, warnings). The public names are here."""

from serverless_app.config.aws_facts import (
    ALB_SSL_POLICIES,
    AVAILABILITY_ZONE_LETTERS,
    AWS_REGIONS,
    FUNCTION_ROLE_SUFFIX,
    TARGET_GROUP_NAME_MAX,
)
from serverless_app.config.data import FunctionGrants
from serverless_app.config.loading import (
    DEFAULT_BOOTSTRAP_CONFIG,
    ConfigError,
    config_warnings,
    load_config,
    load_configs,
    shown,
    validate_configs,
)
from serverless_app.config.models import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_REGION,
    BootstrapConfig,
    FunctionConfig,
    RouteConfig,
    StackConfig,
    SubnetConfig,
    environment_bytes,
    function_variables,
    secret_variables,
    target_group_name,
)
from serverless_app.config.rules import zones_of
from serverless_app.config.strict import StrictModel

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
    "secret_variables",
    "shown",
    "target_group_name",
    "validate_configs",
    "zones_of",
]
