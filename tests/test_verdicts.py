"""Tests of deeplimits.analysis.verdicts: checks against ranges and their three-valued combination."""

from __future__ import annotations

import math

import pytest

from deeplimits.analysis.rates import RateFit
from deeplimits.analysis.verdicts import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    all_of,
    any_of,
    format_range,
    inconclusive,
    order_check,
    value_check,
)


def fit_with_interval(low: float, high: float) -> RateFit:
    return RateFit(
        depths=[16, 32, 64], values=[1.0, 0.5, 0.25], fit_min_depth=16, fit_depths=[16, 32, 64],
        sufficient=True, order=(low + high) / 2, ci_low=low, ci_high=high,
    )


@pytest.mark.parametrize(
    ("interval", "required", "verdict"),
    [
        ((0.9, 1.1), (0.8, 1.2), REPRODUCED),
        ((0.1, 0.3), (0.8, 1.2), NOT_REPRODUCED),
        ((1.3, 1.5), (0.8, 1.2), NOT_REPRODUCED),
        ((0.7, 0.9), (0.8, 1.2), INCONCLUSIVE),
        ((0.6, 1.4), (0.8, 1.2), INCONCLUSIVE),
        ((0.6, 5.0), (0.5, math.inf), REPRODUCED),
        ((-3.0, 0.2), (-math.inf, 0.25), REPRODUCED),
        ((0.2, 0.4), (-math.inf, 0.25), INCONCLUSIVE),
    ],
)
def test_order_check_compares_interval(interval, required, verdict):
    check = order_check("order", "moons", fit_with_interval(*interval), *required)
    assert check.verdict == verdict
    assert check.numbers["ci_low"] == interval[0]
    assert check.numbers["threshold_low"] == (None if math.isinf(required[0]) else required[0])
    assert check.numbers["threshold_high"] == (None if math.isinf(required[1]) else required[1])


def test_insufficient_fit_is_inconclusive():
    fit = RateFit(depths=[16, 32], values=[1.0, 0.5], fit_min_depth=16, reason="2 usable depths")
    check = order_check("state error order", "moons", fit, 0.8, 1.2)
    assert check.verdict == INCONCLUSIVE
    assert check.evidence == "state error order: 2 usable depths"


def test_excluded_depths_are_named_in_evidence():
    fit = fit_with_interval(0.9, 1.1)
    fit.excluded = [{"depth": 128, "reason": "not converged"}]
    assert "excluded N=128 (not converged)" in order_check("order", "moons", fit, 0.5).evidence


@pytest.mark.parametrize(
    ("value", "verdict"),
    [(1.0, REPRODUCED), (1.5, REPRODUCED), (1.6, NOT_REPRODUCED), (math.nan, INCONCLUSIVE), (None, INCONCLUSIVE)],
)
def test_value_check(value, verdict):
    assert value_check("ratio", "moons", value, -math.inf, 1.5).verdict == verdict


def leaf(verdict: str):
    return {
        REPRODUCED: value_check("yes", None, 1.0, 0.0, 2.0),
        NOT_REPRODUCED: value_check("no", None, 3.0, 0.0, 2.0),
        INCONCLUSIVE: inconclusive("unknown", None, "no data"),
    }[verdict]


@pytest.mark.parametrize(
    ("parts", "all_verdict", "any_verdict"),
    [
        ((REPRODUCED, REPRODUCED), REPRODUCED, REPRODUCED),
        ((REPRODUCED, NOT_REPRODUCED), NOT_REPRODUCED, REPRODUCED),
        ((REPRODUCED, INCONCLUSIVE), INCONCLUSIVE, REPRODUCED),
        ((NOT_REPRODUCED, INCONCLUSIVE), NOT_REPRODUCED, INCONCLUSIVE),
        ((NOT_REPRODUCED, NOT_REPRODUCED), NOT_REPRODUCED, NOT_REPRODUCED),
        ((INCONCLUSIVE, INCONCLUSIVE), INCONCLUSIVE, INCONCLUSIVE),
    ],
)
def test_three_valued_combination(parts, all_verdict, any_verdict):
    checks = [leaf(verdict) for verdict in parts]
    assert all_of("all", None, checks).verdict == all_verdict
    assert any_of("any", None, checks).verdict == any_verdict


def test_combined_check_carries_deciding_numbers():
    combined = all_of("claim", "moons", [leaf(REPRODUCED), all_of("inner", "moons", [leaf(REPRODUCED), leaf(NOT_REPRODUCED)])])
    assert combined.verdict == NOT_REPRODUCED
    assert combined.deciding().name == "no"
    assert combined.numbers["value"] == 3.0
    assert combined.evidence == "no 3, required in [0, 2] (2 of 3 checks reproduced)"
    assert len(combined.leaves()) == 3


def test_empty_combination_is_inconclusive():
    assert all_of("claim", None, []).verdict == INCONCLUSIVE
    assert any_of("claim", None, []).verdict == INCONCLUSIVE


def test_infinite_thresholds_are_null_in_json():
    check = value_check("ratio", "moons", 1.0, -math.inf, 1.5)
    assert check.to_dict()["numbers"]["threshold_low"] is None


def test_format_range():
    assert format_range(0.8, 1.2) == "in [0.8, 1.2]"
    assert format_range(0.5, math.inf) == ">= 0.5"
    assert format_range(-math.inf, 0.25) == "<= 0.25"
