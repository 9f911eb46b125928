"""Tests of deeplimits.analysis.rates on error sequences with known orders."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deeplimits.analysis.rates import MIN_FIT_POINTS, RateFit, fit_order, refit, successive_orders

DEPTHS = [4, 8, 16, 32, 64, 128, 256]


def test_exact_power_law_gives_exact_order():
    errors = [3.0 / depth for depth in DEPTHS]
    fit = fit_order(DEPTHS, errors, fit_min_depth=16)

    assert fit.sufficient
    assert fit.fit_depths == [16, 32, 64, 128, 256]
    # Logarithms of exact powers are exact to a few ulps, so the slope is 1 to rounding.
    assert fit.order == pytest.approx(1.0, abs=1e-12)
    assert fit.ci_high - fit.ci_low < 1e-9
    assert fit.constant == pytest.approx(3.0, rel=1e-12)


def test_growth_has_negative_order():
    fit = fit_order(DEPTHS, [math.sqrt(depth) for depth in DEPTHS], fit_min_depth=4)
    assert fit.order == pytest.approx(-0.5, abs=1e-12)


def test_successive_orders_are_log2_ratios():
    orders = successive_orders(DEPTHS, [depth**-2.0 for depth in DEPTHS])
    assert [entry["depth"] for entry in orders] == DEPTHS[:-1]
    assert [entry["next_depth"] for entry in orders] == DEPTHS[1:]
    np.testing.assert_allclose([entry["order"] for entry in orders], 2.0, atol=1e-12)


def test_successive_orders_for_uneven_depths():
    # log(e_N / e_M) / log(M / N) recovers the order for any ratio M / N.
    orders = successive_orders([10, 30, 45], [10**-1.5, 30**-1.5, 45**-1.5])
    np.testing.assert_allclose([entry["order"] for entry in orders], 1.5, atol=1e-12)


def test_noisy_interval_covers_true_order():
    rng = np.random.default_rng(7)
    depths = [8, 16, 32, 64, 128, 256, 512, 1024]
    errors = [2.0 * depth**-1.5 * math.exp(0.05 * rng.standard_normal()) for depth in depths]
    fit = fit_order(depths, errors, fit_min_depth=8)

    assert fit.ci_low < 1.5 < fit.ci_high
    assert fit.ci_high - fit.ci_low > 0


def test_interval_coverage_is_near_95_percent():
    # With Gaussian noise on log e the t-interval is exact, so over 400 seeded replicates
    # the coverage is 0.95 up to a binomial standard deviation of about 0.011.
    rng = np.random.default_rng(11)
    depths = [16, 32, 64, 128, 256]
    covered = 0
    for _ in range(400):
        errors = [depth**-1.0 * math.exp(0.1 * rng.standard_normal()) for depth in depths]
        fit = fit_order(depths, errors, fit_min_depth=16)
        covered += fit.ci_low <= 1.0 <= fit.ci_high
    assert 0.91 <= covered / 400 <= 0.99


def test_zero_and_nan_are_excluded_with_reason():
    errors = [1 / depth for depth in DEPTHS]
    errors[3] = 0.0
    errors[4] = math.nan
    fit = fit_order(DEPTHS, errors, fit_min_depth=4)

    assert fit.fit_depths == [4, 8, 16, 128, 256]
    reasons = {entry["depth"]: entry["reason"] for entry in fit.excluded}
    assert "not positive" in reasons[32]
    assert "not finite" in reasons[64]
    assert fit.values[4] is None
    assert fit.order == pytest.approx(1.0, abs=1e-12)


def test_too_few_depths_are_insufficient():
    fit = fit_order(DEPTHS, [1 / depth for depth in DEPTHS], fit_min_depth=128)

    assert not fit.sufficient
    assert fit.order is None
    assert f"a fit needs at least {MIN_FIT_POINTS}" in fit.reason
    assert "2 usable depths at or above 128" in fit.reason


def test_caller_exclusions_are_kept_for_refit():
    errors = [1 / depth for depth in DEPTHS]
    fit = fit_order(DEPTHS, errors, fit_min_depth=4, exclude={8: "not converged"})
    assert 8 not in fit.fit_depths
    assert {"depth": 8, "reason": "not converged"} in fit.excluded

    again = refit(fit.to_dict(), 32, {64: "unresolved"})
    assert again.fit_depths == [32, 128, 256]
    assert {"depth": 64, "reason": "unresolved"} in again.excluded
    assert again.order == pytest.approx(1.0, abs=1e-12)


def test_successive_orders_skip_excluded_depths():
    errors = [1 / depth for depth in DEPTHS]
    errors[1] = 1.0  # an outlier at depth 8, excluded by the caller
    fit = fit_order(DEPTHS, errors, exclude={8: "not converged"})
    first = fit.successive[0]
    assert (first["depth"], first["next_depth"]) == (4, 16)
    assert first["order"] == pytest.approx(1.0, abs=1e-12)


def test_round_trip_through_dict():
    fit = fit_order(DEPTHS, [1 / depth for depth in DEPTHS], fit_min_depth=16)
    assert RateFit.from_dict(fit.to_dict()) == fit


@pytest.mark.parametrize(
    ("depths", "errors", "message"),
    [
        ([4, 8], [1.0], "got 2 depths but 1 errors"),
        ([4, 4, 8], [1.0, 1.0, 1.0], "depths must be distinct"),
        ([0, 4, 8], [1.0, 1.0, 1.0], "depths must be positive integers"),
    ],
)
def test_invalid_input_is_rejected(depths, errors, message):
    with pytest.raises(ValueError, match=message):
        fit_order(depths, errors)


def test_constant_data_has_order_zero():
    # A constant sequence lies exactly on a horizontal line: order 0 with an interval of width 0.
    fit = fit_order(DEPTHS, [2.5] * len(DEPTHS), fit_min_depth=16)
    assert fit.order == 0.0
    assert fit.ci_low == fit.ci_high == 0.0
