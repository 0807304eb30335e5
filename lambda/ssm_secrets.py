"""Read the function's secrets from SSM Parameter Store, once per execution environment.

The stack sets `SECRET_<NAME>=<parameter name>` for every secret a function may read
(constructs_lib/secrets.py) and grants `ssm:GetParameter(s)` on exactly those parameters.
Values are decrypted by SSM and kept in this module only: never logged, never returned in
an error message.

    import ssm_secrets   # this file, packaged with the handler (not `secrets`: stdlib)
    password = ssm_secrets.get("db_password")

A rotated value reaches a warm execution environment only after `clear_cache()` or a new
environment (the next deployment, or Lambda recycling it); pass `max_age_s` to re-read.
Standard library and boto3 only: exactly what the Lambda Python runtime provides.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

import boto3

ENV_PREFIX = "SECRET_"
# GetParameters takes at most 10 names per call.
BATCH_SIZE = 10

_cache: dict[str, tuple[float, str]] = {}
_client: Any = None  # a boto3 SSM client (boto3 ships no types), made on first use


class SecretNotConfigured(KeyError):
    """The function has no `SECRET_<NAME>` variable: the stack did not grant this secret."""


class SecretUnavailable(RuntimeError):
    """SSM has no such parameter (or refused it); the message names the parameter only."""


def parameter_name(secret: str) -> str:
    variable = f"{ENV_PREFIX}{secret.upper()}"
    name = os.environ.get(variable)
    if not name:
        raise SecretNotConfigured(f"{variable} is not set: secret {secret!r} is not configured")
    return name


def configured() -> list[str]:
    """The secret names this function was given, lower case."""
    return sorted(
        variable.removeprefix(ENV_PREFIX).lower()
        for variable in os.environ
        if variable.startswith(ENV_PREFIX) and os.environ[variable]
    )


def get(secret: str, *, max_age_s: float | None = None) -> str:
    """The decrypted value of one secret."""
    return get_many([secret], max_age_s=max_age_s)[secret]


def get_many(secrets: Iterable[str], *, max_age_s: float | None = None) -> dict[str, str]:
    """Decrypted values by secret name; what is not cached is fetched in batches of 10."""
    wanted = {secret: parameter_name(secret) for secret in secrets}
    now = time.monotonic()
    missing = sorted(
        {
            name
            for name in wanted.values()
            if name not in _cache or (max_age_s is not None and now - _cache[name][0] > max_age_s)
        }
    )
    for start in range(0, len(missing), BATCH_SIZE):
        batch = missing[start : start + BATCH_SIZE]
        answer = _ssm().get_parameters(Names=batch, WithDecryption=True)
        if answer.get("InvalidParameters"):
            raise SecretUnavailable(f"no such parameters: {sorted(answer['InvalidParameters'])}")
        for parameter in answer["Parameters"]:
            _cache[parameter["Name"]] = (now, parameter["Value"])
    return {secret: _cache[name][1] for secret, name in wanted.items()}


def clear_cache() -> None:
    _cache.clear()


def _ssm() -> Any:
    global _client
    if _client is None:
        _client = boto3.client("ssm")
    return _client
