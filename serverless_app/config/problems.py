"""How rules about several keys report: Problems located below the key they validate, raised
as one pydantic ValidationError so that every problem of a file is reported at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

NO_VALUE = object()
# The error type of a Problem: its message is the whole text of the line.
CONFIG_RULE = "config_rule"


@dataclass(frozen=True)
class Problem:
    """A broken rule at `loc`, relative to the model or field whose validator found it."""

    loc: tuple[str | int, ...]
    message: str
    given: object = NO_VALUE


def raise_problems(problems: Iterable[Problem]) -> None:
    """Report several located problems from one validator.

    Pydantic merges a ValidationError raised inside a validator into the outer one, prefixing
    each location with the validated key's path (supported since pydantic-core#510).
    """
    details = [_problem_details(problem) for problem in problems]
    if details:
        raise ValidationError.from_exception_data("configuration", details)


def fail(loc: tuple[str | int, ...], message: str, given: object = NO_VALUE) -> None:
    raise_problems([Problem(loc, message, given)])


def under(key: str | int, problems: Iterable[Problem]) -> Iterator[Problem]:
    """`problems` located from the key `key` holds, located from its table."""
    for problem in problems:
        yield Problem((key, *problem.loc), problem.message, problem.given)


def with_problems(
    title: str,
    errors: Iterable[ErrorDetails],
    problems: Iterable[Problem],
    order: Callable[[tuple[str | int, ...]], int],
) -> ValidationError:
    """The `errors` pydantic reported and `problems` as one error, sorted by `order` of their
    locations (stable: the problems come after the errors of the same key)."""
    details = [
        *(_as_details(item) for item in errors),
        *(_problem_details(problem) for problem in problems),
    ]
    details.sort(key=lambda item: order(tuple(item["loc"])))
    return ValidationError.from_exception_data(title, details)


def _problem_details(problem: Problem) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(
            CONFIG_RULE,
            "{message}",
            {"message": problem.message, "has_value": problem.given is not NO_VALUE},
        ),
        loc=problem.loc,
        input=None if problem.given is NO_VALUE else problem.given,
    )


def _as_details(item: ErrorDetails) -> InitErrorDetails:
    """An error pydantic reported, as it was raised."""
    if item["type"] == CONFIG_RULE:
        return InitErrorDetails(
            type=PydanticCustomError(CONFIG_RULE, "{message}", item.get("ctx")),
            loc=item["loc"],
            input=item["input"],
        )
    details = InitErrorDetails(type=item["type"], loc=item["loc"], input=item["input"])
    if "ctx" in item:
        details["ctx"] = item["ctx"]
    return details
