"""What every part of the configuration shares: the strict model and its rules across keys,
the project root and the region a file leaves out."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from serverless_app.config.problems import Problem, raise_problems, with_problems

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config"
DEFAULT_REGION = "us-east-1"

# The keys a rule reads, set on the method by `@rule`.
_RULE_INPUTS = "__rule_inputs__"
RuleMethod = TypeVar("RuleMethod", bound=Callable[..., Iterable[Problem]])


def rule(*inputs: str) -> Callable[[RuleMethod], RuleMethod]:
    """Marks a method of a StrictModel as a rule across the keys `inputs`. It yields the
    Problems it finds, located from the model, and runs whenever those keys are valid: however
    the other keys of the table fared, in whatever order the keys are declared."""

    def mark(method: RuleMethod) -> RuleMethod:
        setattr(method, _RULE_INPUTS, inputs)
        return method

    return mark


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never fall back to a default silently.
    Strict types: "512" is not a number, 1 is not a boolean; inf and nan are not numbers
    (TOML has them; Terraform's JSON does not). Frozen: what was validated is what the stack
    gets."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for method in _rules_of(cls):
            unknown = set(getattr(method, _RULE_INPUTS)) - cls.model_fields.keys()
            if unknown:
                raise TypeError(f"{cls.__name__}.{method.__name__} reads no such key: {unknown}")

    @classmethod
    def prepared(cls, data: Any) -> Any:
        """The table as it is validated: a model fills derived defaults here."""
        return data

    @classmethod
    def unreported(cls, data: Any) -> set[tuple[str | int, ...]]:
        """Keys of the prepared `data` whose absence another problem explains (a name
        `prepared` could not derive): "required key is missing" there would be noise."""
        return set()

    @model_validator(mode="wrap")
    @classmethod
    def _rules_across_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        data = cls.prepared(data)
        try:
            model = handler(data)
        except ValidationError as error:
            unreported = cls.unreported(data)
            errors = [
                item
                for item in error.errors()
                if item["type"] != "missing" or tuple(item["loc"]) not in unreported
            ]
            failed = {item["loc"][0] if item["loc"] else None for item in errors}
            problems = list(cls._rule_problems(lambda inputs: _partial(cls, data, inputs, failed)))
            if not problems and len(errors) == error.error_count():
                raise
            raise with_problems(error.title, errors, problems, _key_order(cls)) from None
        raise_problems(cls._rule_problems(lambda _: model))
        return model

    @classmethod
    def _rule_problems(cls, given: Callable[[tuple[str, ...]], Self | None]) -> Iterator[Problem]:
        """The problems of every rule whose keys are valid, each rule run on `given` its keys."""
        for method in _rules_of(cls):
            model = given(getattr(method, _RULE_INPUTS))
            if model is not None:
                yield from method(model)


@functools.cache
def _rules_of(model: type[StrictModel]) -> tuple[Callable[..., Iterable[Problem]], ...]:
    """The model's rules, in the order they are defined (a base class's first)."""
    return tuple(
        method
        for klass in reversed(model.__mro__)
        for method in vars(klass).values()
        if hasattr(method, _RULE_INPUTS)
    )


def _partial(
    model: type[StrictModel], data: Any, inputs: tuple[str, ...], failed: set[str | int | None]
) -> Any:
    """A model holding only `inputs`, each validated on its own, when none of them `failed`
    (None: the table as a whole failed); else None. Reading another key fails loudly rather
    than seeing a default."""
    if None in failed or failed & set(inputs) or not isinstance(data, dict):
        return None
    values = {}
    for name in inputs:
        if name not in data:
            values[name] = model.model_fields[name].get_default(call_default_factory=True)
            continue
        try:
            values[name] = _field_adapter(model, name).validate_python(data[name], strict=True)
        except ValidationError:
            return None
    # Built as model_construct builds a model, without the other keys' defaults; the keys the
    # table left out are not in model_fields_set, as in validation.
    partial = model.__new__(model)
    object.__setattr__(partial, "__dict__", values)
    object.__setattr__(partial, "__pydantic_fields_set__", set(inputs) & data.keys())
    object.__setattr__(partial, "__pydantic_extra__", None)
    object.__setattr__(partial, "__pydantic_private__", None)
    return partial


@functools.cache
def _field_adapter(model: type[StrictModel], name: str) -> TypeAdapter[Any]:
    """One key of `model` validated on its own, with its constraints and the model's rules
    about values."""
    field = model.model_fields[name]
    annotation: Any = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return TypeAdapter(annotation)
    if field.metadata:
        annotation = Annotated[(annotation, *field.metadata)]
    return TypeAdapter(annotation, config=ConfigDict(strict=True, allow_inf_nan=False))


@functools.cache
def _key_order(model: type[StrictModel]) -> Callable[[tuple[str | int, ...]], int]:
    """Where a problem goes among the errors of other keys: by its key's place in the model;
    unknown keys after every field, a problem of the whole table first."""
    places = {name: place for place, name in enumerate(model.model_fields)}
    return lambda loc: places.get(str(loc[0]), len(places)) if loc else -1


def is_valid(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


Model = TypeVar("Model", bound=StrictModel)
