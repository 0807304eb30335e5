"""A small evaluator of CloudWatch metric alarms, for tests only: the emulator stores alarms
but never evaluates them, so whether a synthesized alarm can fire is checked here, against
datapoints a test makes up or derives from real function output.

What it follows (CloudWatch User Guide, "Evaluating an alarm", "Configuring how CloudWatch
alarms treat missing data", "Metric math syntax and functions"):

- The alarm's value per period is its metric's datapoint, or its last metric-math expression
  evaluated period by period over the metric queries (`metric_query`). A test hands over
  each metric's value per period already as the alarm's statistic (a Sum, an Average, a
  p99): raw samples are not modelled.
- A period without a value is missing. `treat_missing_data = "notBreaching"` counts it as not
  breaching, `"breaching"` as breaching; `ignore` and `missing` keep or drop the state and are
  refused here (no alarm of the stack uses them).
- After each period the alarm looks at the last `evaluation_periods` periods: ALARM when at
  least `datapoints_to_alarm` of them breach (`comparison_operator` against `threshold`),
  else OK.
- Metric math: numbers, ids (of metrics or earlier expressions), `+ - * /`, parentheses,
  arrays `[a, b]`, `FILL(x, value)` on one series or an array, and `MAX`, `MIN`, `SUM` of an
  array (per period, over the values present; missing when none is). Arithmetic with a
  missing operand is missing; `x / 0` is missing (CloudWatch drops values that are not
  finite numbers).

Publishing delay is not modelled here: a test decides which periods have arrived by the
time it evaluates.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Value = float | None
# One period's value of an expression: a series' value, or an array of them.
Result = Value | list[Value]

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


@dataclass(frozen=True)
class MetricRef:
    """A metric with its statistic, the way an alarm names it."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: Mapping[str, str], statistic: str):
        return cls(namespace, name, tuple(sorted(dimensions.items())), statistic)


# The datapoints a test provides: per metric, one value (or None) per period.
Datapoints = Callable[[MetricRef], Sequence[Value]]


def alarm_values(alarm: dict, datapoints: Datapoints, periods: int) -> list[Value]:
    """The value the alarm compares, for each of `periods` periods."""
    if "metric_query" not in alarm:
        statistic = alarm.get("statistic") or alarm["extended_statistic"]
        ref = MetricRef.of(alarm["namespace"], alarm["metric_name"], alarm["dimensions"], statistic)
        return list(datapoints(ref))[:periods]
    series: dict[str, list[Value]] = {}
    returned = None
    for query in alarm["metric_query"]:
        if "metric" in query:
            metric = query["metric"]
            ref = MetricRef.of(
                metric["namespace"], metric["metric_name"], metric["dimensions"], metric["stat"]
            )
            series[query["id"]] = list(datapoints(ref))[:periods]
        else:
            tree = _Parser(query["expression"]).parse()
            series[query["id"]] = [_series_value(tree, series, index) for index in range(periods)]
        if query.get("return_data"):
            returned = query["id"]
    assert returned is not None, "no metric query returns data"
    return series[returned]


def states(alarm: dict, values: Sequence[Value]) -> list[str]:
    """The alarm's state after each period, given its value per period."""
    missing = alarm.get("treat_missing_data", "missing")
    if missing not in ("notBreaching", "breaching"):
        raise NotImplementedError(f"treat_missing_data {missing!r} is not modelled")
    compare = COMPARISONS[alarm["comparison_operator"]]
    breaching = [
        (missing == "breaching") if value is None else compare(value, alarm["threshold"])
        for value in values
    ]
    needed = alarm.get("datapoints_to_alarm", alarm["evaluation_periods"])
    window = alarm["evaluation_periods"]
    return [
        "ALARM" if sum(breaching[max(0, end - window + 1) : end + 1]) >= needed else "OK"
        for end in range(len(breaching))
    ]


def _series_value(tree: object, series: Mapping[str, list[Value]], index: int) -> Value:
    result = _evaluate(tree, series, index)
    if isinstance(result, list):
        raise ValueError("an alarm's expression must give one series, not an array")
    return result


# --- metric math ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


@dataclass(frozen=True)
class _Number:
    value: float


@dataclass(frozen=True)
class _Id:
    name: str


@dataclass(frozen=True)
class _Call:
    function: str
    arguments: tuple[object, ...]


@dataclass(frozen=True)
class _Array:
    items: tuple[object, ...]


@dataclass(frozen=True)
class _Binary:
    operator: str
    left: object
    right: object


class _Parser:
    """expression := term (('+' | '-') term)*; term := factor (('*' | '/') factor)*;
    factor := number | id | id '(' expression (',' expression)* ')' | '(' expression ')'
    | '[' expression (',' expression)* ']'"""

    def __init__(self, text: str) -> None:
        self.tokens = [match.group(match.lastindex or 0) for match in _TOKEN.finditer(text)]
        self.tokens = [token for token in self.tokens if token.strip()]
        self.position = 0

    def parse(self) -> object:
        tree = self._expression()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]!r}")
        return tree

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'more'}, got {token!r}")
        self.position += 1
        return token

    def _expression(self) -> object:
        tree = self._term()
        while self._peek() in ("+", "-"):
            tree = _Binary(self._take(), tree, self._term())
        return tree

    def _term(self) -> object:
        tree = self._factor()
        while self._peek() in ("*", "/"):
            tree = _Binary(self._take(), tree, self._factor())
        return tree

    def _factor(self) -> object:
        token = self._take()
        if token == "(":
            tree = self._expression()
            self._take(")")
            return tree
        if token == "[":
            return _Array(self._list("]"))
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return _Number(float(token))
        if self._peek() == "(":
            self._take("(")
            return _Call(token, self._list(")"))
        return _Id(token)

    def _list(self, closing: str) -> tuple[object, ...]:
        items = [self._expression()]
        while self._peek() == ",":
            self._take(",")
            items.append(self._expression())
        self._take(closing)
        return tuple(items)


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
_ARRAY_FUNCTIONS: dict[str, Callable[[list[float]], float]] = {"MAX": max, "MIN": min, "SUM": sum}


def _evaluate(tree: object, series: Mapping[str, list[Value]], index: int) -> Result:
    match tree:
        case _Number(value):
            return value
        case _Id(name):
            values = series[name]
            return values[index] if index < len(values) else None
        case _Array(items):
            return [_scalar(_evaluate(item, series, index)) for item in items]
        case _Binary(symbol, left, right):
            a = _scalar(_evaluate(left, series, index))
            b = _scalar(_evaluate(right, series, index))
            if a is None or b is None or (symbol == "/" and b == 0):
                return None
            return _ARITHMETIC[symbol](a, b)
        case _Call("FILL", (argument, _Number(fill))):
            result = _evaluate(argument, series, index)
            if isinstance(result, list):
                return [fill if value is None else value for value in result]
            return fill if result is None else result
        case _Call(function, (argument,)) if function in _ARRAY_FUNCTIONS:
            result = _evaluate(argument, series, index)
            if not isinstance(result, list):
                raise NotImplementedError(f"{function} of one series is a scalar: not modelled")
            present = [value for value in result if value is not None]
            return _ARRAY_FUNCTIONS[function](present) if present else None
    raise NotImplementedError(f"not modelled: {tree}")


def _scalar(result: Result) -> Value:
    if isinstance(result, list):
        raise ValueError("an array where one series was expected")
    return result
