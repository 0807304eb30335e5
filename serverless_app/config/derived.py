"""Values the stack derives from a configuration, which the rules also check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.limits import SECRET_VARIABLE_PREFIX
from serverless_app.config.data import granted_variables
from serverless_app.config.events import produce_variables

if TYPE_CHECKING:
    from serverless_app.config.environment import StackConfig
    from serverless_app.config.functions import FunctionConfig


def target_group_name(config: StackConfig, key: str) -> str:
    """The load balancer target group of function `key` (validated to fit ELB's 32)."""
    return f"{config.load_balancer.name}-{key}"


def function_variables(config: StackConfig, key: str) -> dict[str, str]:
    """The variables the stack sets on function `key` besides its `environment`: one per
    granted table, bucket, queue and topic (`granted_variables`, `produce_variables`: a name
    AWS or Terraform completes has a stand-in of its length), then `SECRET_<NAME>` = parameter
    name for each of its secrets."""
    function = config.functions[key]
    return {
        **granted_variables(config.name_prefix, function.grants, config.tables, config.buckets),
        **produce_variables(config, function.grants),
        **secret_variables(function),
    }


def secret_variables(function: FunctionConfig) -> dict[str, str]:
    """`SECRET_<NAME>` = SSM parameter name, for each of the function's secrets."""
    return {
        f"{SECRET_VARIABLE_PREFIX}{name.upper()}": parameter
        for name, parameter in function.secrets.items()
    }


def environment_bytes(config: StackConfig, key: str) -> int:
    """The size Lambda counts for function `key`: every key and value in UTF-8, the stack's
    variables included."""
    variables = {**config.functions[key].environment, **function_variables(config, key)}
    return sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())
