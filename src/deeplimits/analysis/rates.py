"""Observed orders of convergence: least-squares slopes of log error on log depth.

For errors that behave like ``e_N ~ C N^(-r)`` the observed order r is the negated slope of
the least-squares line through ``(log N, log e_N)`` over the asymptotic range (depths at or
above ``fit_min_depth``). Its 95% confidence interval is ``r +- t_{0.975, n-2} * se``, with
se the standard error of the slope and t the Student quantile for n points. The successive
orders ``log(e_N / e_M) / log(M / N)`` of neighbouring depths N < M (``log2(e_N / e_2N)`` when
M = 2N) show whether the rate has settled. A quantity that grows gets a negative order.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

logger = logging.getLogger(__name__)

__all__ = ["MIN_FIT_POINTS", "RateFit", "fit_order", "refit", "successive_orders"]

# A line through two points has no residual, so no interval: three is the fewest depths
# from which a slope and its uncertainty can both be estimated.
MIN_FIT_POINTS = 3

CONFIDENCE = 0.95


@dataclass
class RateFit:
    """The observed order of one error sequence, with the data it rests on.

    Attributes
    ----------
    depths, values : list
        Every depth given and its error (None where the error is missing or not finite).
    fit_min_depth : int
        Smallest depth of the asymptotic range.
    exclusions : list of dict
        ``{"depth", "reason"}`` for each depth the caller excluded, at any depth, so that
        the fit can be repeated with another ``fit_min_depth`` (:func:`refit`).
    fit_depths : list of int
        Depths that entered the least-squares fit.
    excluded : list of dict
        ``{"depth", "reason"}`` for each depth of the asymptotic range left out of the fit
        (zero, negative, missing or not finite error, or excluded by the caller).
    sufficient : bool
        Whether at least :data:`MIN_FIT_POINTS` depths entered the fit.
    reason : str or None
        Why the fit is insufficient, None when it is sufficient.
    order : float or None
        Negated least-squares slope of log e on log N.
    ci_low, ci_high : float or None
        95% confidence interval of the order (Student t with n - 2 degrees of freedom).
    standard_error : float or None
        Standard error of the slope.
    constant : float or None
        C of the fitted ``C N^(-order)``.
    successive : list of dict
        ``{"depth": N, "next_depth": M, "order": log(e_N / e_M) / log(M / N)}`` for
        neighbouring depths of the whole sequence, skipping the depths the caller
        excluded and pairs whose errors are not both positive and finite.
    """

    depths: list[int]
    values: list[float | None]
    fit_min_depth: int
    exclusions: list[dict] = field(default_factory=list)
    fit_depths: list[int] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    sufficient: bool = False
    reason: str | None = None
    order: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    standard_error: float | None = None
    constant: float | None = None
    successive: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the fit as a JSON-encodable dictionary (None for missing numbers)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "RateFit":
        """Rebuild a fit written by :meth:`to_dict`."""
        return cls(**values)


def fit_order(
    depths,
    errors,
    fit_min_depth: int = 1,
    exclude: dict[int, str] | None = None,
) -> RateFit:
    """Fit the observed order r of ``e_N ~ C N^(-r)`` over the asymptotic range.

    Parameters
    ----------
    depths : sequence of int
        Depths N, distinct and positive; any order.
    errors : sequence of float
        Error at each depth; NaN, infinite, zero or negative errors are excluded from the
        fit and listed with the reason, since their logarithm is undefined.
    fit_min_depth : int, default 1
        Depths below this are outside the asymptotic range and not fitted.
    exclude : dict of int to str, optional
        Further depths to leave out, each with the reason (for example an error below the
        resolution of the reference solution).

    Returns
    -------
    RateFit
        With ``sufficient=False`` and the reason when fewer than :data:`MIN_FIT_POINTS`
        depths remain. When every remaining point lies on a line, the interval has width 0.

    Raises
    ------
    ValueError
        If depths and errors differ in length, a depth is not a positive integer, or a
        depth is repeated.
    """
    depths = [int(depth) for depth in depths]
    errors = [float(error) if error is not None else math.nan for error in errors]
    _check_depths(depths, errors)
    exclude = exclude or {}

    ascending = np.argsort(depths)
    depths = [depths[index] for index in ascending]
    errors = [errors[index] for index in ascending]
    values = [error if math.isfinite(error) else None for error in errors]
    fit = RateFit(
        depths=depths,
        values=values,
        fit_min_depth=int(fit_min_depth),
        exclusions=[{"depth": depth, "reason": exclude[depth]} for depth in depths if depth in exclude],
    )
    kept = [(depth, error) for depth, error in zip(depths, errors) if depth not in exclude]
    fit.successive = successive_orders([depth for depth, _ in kept], [error for _, error in kept])

    for depth, error in zip(depths, errors):
        if depth < fit_min_depth:
            continue
        if depth in exclude:
            fit.excluded.append({"depth": depth, "reason": exclude[depth]})
        elif not math.isfinite(error):
            fit.excluded.append({"depth": depth, "reason": "missing or not finite"})
        elif error <= 0:
            fit.excluded.append({"depth": depth, "reason": f"error {error:.3g} is not positive"})
        else:
            fit.fit_depths.append(depth)

    in_range = sum(depth >= fit_min_depth for depth in depths)
    if len(fit.fit_depths) < MIN_FIT_POINTS:
        usable = len(fit.fit_depths)
        fit.reason = (
            f"{usable} usable depth{'' if usable == 1 else 's'} at or above {fit_min_depth} "
            f"({in_range} in range, {len(fit.excluded)} excluded); a fit needs at least {MIN_FIT_POINTS}"
        )
        return fit

    _least_squares(fit, {depth: error for depth, error in zip(depths, errors)})
    return fit


def refit(fit: RateFit | dict, fit_min_depth: int, exclude: dict[int, str] | None = None) -> RateFit:
    """Repeat a fit, with its data and exclusions, over the range from ``fit_min_depth``.

    ``exclude`` adds depths to leave out, with reasons, to those of the original fit.
    """
    if isinstance(fit, RateFit):
        fit = fit.to_dict()
    excluded = {int(entry["depth"]): entry["reason"] for entry in fit.get("exclusions", [])}
    excluded.update(exclude or {})
    return fit_order(fit["depths"], fit["values"], fit_min_depth, excluded)


def _check_depths(depths: list[int], errors: list[float]) -> None:
    if len(depths) != len(errors):
        raise ValueError(f"got {len(depths)} depths but {len(errors)} errors; pass one error per depth")
    if any(depth < 1 for depth in depths):
        raise ValueError(f"depths must be positive integers, got {depths}")
    if len(set(depths)) != len(depths):
        raise ValueError(f"depths must be distinct, got {depths}")


def _least_squares(fit: RateFit, error_of: dict[int, float]) -> None:
    """Fill the order, its interval and the constant of ``fit`` from its fit depths.

    The slope and its standard error are computed directly rather than with
    ``scipy.stats.linregress``, which returns NaN for the standard error of constant data
    (scipy 1.x), whose fit is an order of exactly 0 with an interval of width 0.
    """
    log_depth = np.log(np.asarray(fit.fit_depths, dtype=np.float64))
    log_error = np.log(np.asarray([error_of[depth] for depth in fit.fit_depths], dtype=np.float64))
    centred = log_depth - log_depth.mean()
    spread = float(centred @ centred)
    slope = float(centred @ (log_error - log_error.mean())) / spread
    intercept = float(log_error.mean()) - slope * float(log_depth.mean())

    points = len(fit.fit_depths)
    residuals = log_error - (intercept + slope * log_depth)
    standard_error = math.sqrt(float(residuals @ residuals) / (points - 2) / spread)
    quantile = float(stats.t.ppf(0.5 + CONFIDENCE / 2, points - 2))
    # Adding 0.0 turns the order -0.0 of constant data into 0.0.
    fit.order = -slope + 0.0
    fit.standard_error = standard_error
    fit.ci_low = fit.order - quantile * standard_error
    fit.ci_high = fit.order + quantile * standard_error
    fit.constant = math.exp(intercept)
    fit.sufficient = True


def successive_orders(depths, errors) -> list[dict]:
    """Return ``log(e_N / e_M) / log(M / N)`` for each pair of neighbouring depths N < M.

    For M = 2N this is ``log2(e_N / e_2N)``. Pairs where either error is not a positive
    finite number are skipped.
    """
    pairs = sorted(zip((int(depth) for depth in depths), (float(error) if error is not None else math.nan for error in errors)))
    orders = []
    for (depth, error), (next_depth, next_error) in zip(pairs, pairs[1:]):
        if not (math.isfinite(error) and math.isfinite(next_error) and error > 0 and next_error > 0):
            continue
        orders.append({
            "depth": depth,
            "next_depth": next_depth,
            "order": math.log(error / next_error) / math.log(next_depth / depth),
        })
    return orders
