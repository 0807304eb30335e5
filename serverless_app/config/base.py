"""What every part of the configuration shares: the strict model, the project root and the
region a file leaves out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config"
DEFAULT_REGION = "us-east-1"


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never fall back to a default silently.
    Strict types: "512" is not a number, 1 is not a boolean; inf and nan are not numbers
    (TOML has them; Terraform's JSON does not)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def is_valid(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


Model = TypeVar("Model", bound=StrictModel)
