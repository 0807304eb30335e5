"""The configuration as it enters the Terraform JSON: every string a user wrote escaped so that
Terraform reads it back exactly as written (`constructs_lib.terraform_text`). The stacks take
their configuration through `as_terraform_literals`, the one place user text meets Terraform.
"""

from __future__ import annotations

from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from constructs_lib.terraform_text import terraform_literal
from serverless_app.config.rules import LocalOnly

Model = TypeVar("Model", bound=BaseModel)


def as_terraform_literals(model: Model) -> Model:
    """A copy of `model` whose strings (table keys included, in nested models too) are
    Terraform literals. Paths on this machine (`LocalPath`) stay as written: the stack reads
    the files, Terraform never sees them."""
    updates = {
        name: _literal(getattr(model, name))
        for name, field in type(model).model_fields.items()
        if not _local_only(field.annotation, field.metadata)
    }
    return model.model_copy(update=updates)


def _literal(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return as_terraform_literals(value)
    if isinstance(value, str):
        return terraform_literal(value)
    if isinstance(value, list):
        return [_literal(item) for item in value]
    if isinstance(value, dict):
        return {_literal(key): _literal(item) for key, item in value.items()}
    return value


def _local_only(annotation: Any, metadata: list[Any]) -> bool:
    """Whether a field's type is marked LocalOnly, also inside `X | None`."""
    if any(isinstance(item, LocalOnly) for item in metadata):
        return True
    marks = getattr(annotation, "__metadata__", ())
    return any(isinstance(item, LocalOnly) for item in marks) or any(
        _local_only(argument, []) for argument in get_args(annotation)
    )
