"""The test-only alarm evaluator (tests/alarm_evaluator.py) against CloudWatch's documented
rules, so that what it says about the stack's alarms can be trusted."""

import pytest

from tests.alarm_evaluator import MetricRef, alarm_values, states

ERRORS = MetricRef.of("AWS/Lambda", "Errors", {"FunctionName": "f"}, "Sum")
BREACH, OK, MISSING = 2.0, 0.0, None


def single_metric_alarm(**overrides) -> dict:
    return {
        "namespace": "AWS/Lambda",
        "metric_name": "Errors",
        "dimensions": {"FunctionName": "f"},
        "statistic": "Sum",
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "threshold": 1,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 2,
        "treat_missing_data": "notBreaching",
        **overrides,
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # M of N: 2 of the last 3 periods breaching.
        ([BREACH, OK, OK], ["OK", "OK", "OK"]),
        ([BREACH, BREACH, OK], ["OK", "ALARM", "ALARM"]),
        ([BREACH, OK, BREACH], ["OK", "OK", "ALARM"]),
        # The window slides: the first breach has left it by the fourth period.
        ([BREACH, OK, OK, BREACH], ["OK", "OK", "OK", "OK"]),
        # Missing data does not breach (notBreaching), however long it lasts.
        ([MISSING, MISSING, MISSING], ["OK", "OK", "OK"]),
        ([BREACH, MISSING, BREACH], ["OK", "OK", "ALARM"]),
        # The threshold itself breaches (GreaterThanOrEqualToThreshold).
        ([1.0, 1.0], ["OK", "ALARM"]),
        ([0.99, 0.99], ["OK", "OK"]),
    ],
)
def test_m_of_n_with_missing_data_not_breaching(values, expected):
    assert states(single_metric_alarm(), values) == expected


def test_missing_data_breaching_counts_as_breach():
    alarm = single_metric_alarm(treat_missing_data="breaching")
    assert states(alarm, [MISSING, MISSING]) == ["OK", "ALARM"]


def test_datapoints_to_alarm_defaults_to_every_period():
    alarm = single_metric_alarm(evaluation_periods=2)
    del alarm["datapoints_to_alarm"]
    assert states(alarm, [BREACH, OK, BREACH, BREACH]) == ["OK", "OK", "OK", "ALARM"]


def test_ignore_and_missing_treatments_are_refused():
    with pytest.raises(NotImplementedError):
        states(single_metric_alarm(treat_missing_data="ignore"), [OK])


def test_single_metric_values_come_from_its_datapoints():
    def datapoints(ref):
        assert ref == ERRORS
        return [3.0, None, 1.0, 9.0]

    assert alarm_values(single_metric_alarm(), datapoints, 3) == [3.0, None, 1.0]


def query_alarm(*expressions: str) -> dict:
    metrics = [
        {"id": id, "metric": {"namespace": "N", "metric_name": id.upper(), "dimensions": {},
                              "stat": "Sum", "period": 60}, "return_data": False}
        for id in ("a", "b", "c")
    ]  # fmt: skip
    exprs = [
        {"id": f"e{index}", "expression": text, "return_data": index == len(expressions) - 1}
        for index, text in enumerate(expressions)
    ]
    return {**single_metric_alarm(), "metric_query": metrics + exprs}


SERIES = {"A": [1.0, None, 4.0, None], "B": [3.0, 2.0, None, None], "C": [0.0, 0.0, 0.0, None]}


def by_name(ref: MetricRef) -> list:
    return SERIES[ref.name]


@pytest.mark.parametrize(
    ("expressions", "expected"),
    [
        (("a + b",), [4.0, None, None, None]),
        (("(a + b) * 2 - 1",), [7.0, None, None, None]),
        (("FILL(a, 0) + FILL(b, 0)",), [4.0, 2.0, 4.0, 0.0]),
        (("SUM(FILL([a, b], 0))",), [4.0, 2.0, 4.0, 0.0]),
        (("MAX([a, b])",), [3.0, 2.0, 4.0, None]),
        (("MAX(FILL([a, b, c], 0))",), [3.0, 2.0, 4.0, 0.0]),
        (("MIN([a, b])",), [1.0, 2.0, 4.0, None]),
        # Division by zero has no value; so has 0 / 0.
        (("a / c",), [None, None, None, None]),
        (("FILL(a, 0) / FILL(b, 0)",), [1 / 3, 0.0, None, None]),
        # A later expression reads an earlier one by id.
        (("SUM(FILL([a, b], 0))", "e0 / 2"), [2.0, 1.0, 2.0, 0.0]),
    ],
)
def test_metric_math(expressions, expected):
    assert alarm_values(query_alarm(*expressions), by_name, 4) == expected


def test_an_expression_giving_an_array_is_refused():
    with pytest.raises(ValueError, match="array"):
        alarm_values(query_alarm("FILL([a, b], 0)"), by_name, 1)
