"""The base of every model of a configuration file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never fall back to a default silently.
    Strict types: "512" is not a number, 1 is not a boolean; inf and nan are not numbers
    (TOML has them; Terraform's JSON does not)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
