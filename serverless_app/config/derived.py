"""Values the stack derives from a configuration, which the rules also check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.limits import SECRET_VARIABLE_PREFIX
from serverless_app.config.aws_facts import (
    GREETING_KEY,
    S3_BUCKET_NAME_MAX,
    TERRAFORM_BUCKET_SUFFIX_LENGTH,
)

if TYPE_CHECKING:
    from serverless_app.config.environment import StackConfig
    from serverless_app.config.functions import FunctionConfig


def target_group_name(config: StackConfig, key: str) -> str:
    """The load balancer target group of function `key` (validated to fit ELB's 32)."""
    return f"{config.load_balancer.name}-{key}"


def function_variables(config: StackConfig, key: str) -> dict[str, str]:
    """The variables the stack sets on function `key` besides its `environment`: the
    STACK_VARIABLES, then `SECRET_<NAME>` = parameter name for each of its secrets. The bucket
    name is the one the stack gets from Terraform, here a stand-in of the same length."""
    bucket = config.s3.bucket_name or "x" * (
        len(config.s3.bucket_prefix or "") + TERRAFORM_BUCKET_SUFFIX_LENGTH
    )
    return {
        "TABLE_NAME": config.dynamodb.table_name,
        "BUCKET_NAME": bucket[:S3_BUCKET_NAME_MAX],
        "GREETING_KEY": GREETING_KEY,
        **secret_variables(config.functions[key]),
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
