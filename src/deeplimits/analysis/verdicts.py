"""Checks of measured numbers against thresholds, and how checks combine into a verdict.

A check compares one measurement with a range ``[low, high]`` (either end may be infinite):

* an observed order, by its 95% confidence interval: REPRODUCED when the whole interval
  lies in the range, NOT REPRODUCED when none of it does, and INCONCLUSIVE when it
  straddles a boundary, because the data then support neither verdict;
* a plain value (a ratio, an accuracy gap): REPRODUCED inside the range, NOT REPRODUCED
  outside.

Missing data, too few depths or an unresolved reference make a check INCONCLUSIVE with the
reason. Checks combine with "all of" (every one must hold) or "any of" (one suffices),
using three-valued logic: "all of" is NOT REPRODUCED as soon as one check is, and
"any of" is REPRODUCED as soon as one check is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .rates import RateFit

__all__ = [
    "REPRODUCED",
    "NOT_REPRODUCED",
    "INCONCLUSIVE",
    "VERDICTS",
    "Check",
    "order_check",
    "value_check",
    "inconclusive",
    "all_of",
    "any_of",
    "format_range",
]

REPRODUCED = "REPRODUCED"
NOT_REPRODUCED = "NOT REPRODUCED"
INCONCLUSIVE = "INCONCLUSIVE"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)


@dataclass
class Check:
    """One measured statement with its verdict.

    Attributes
    ----------
    name : str
        What was measured, e.g. "moons: state error order".
    dataset : str or None
    verdict : str
        One of :data:`VERDICTS`.
    evidence : str
        The numbers and the comparison, in words.
    numbers : dict
        ``order``, ``ci_low``, ``ci_high`` (order checks), ``value`` (value checks),
        ``threshold_low``, ``threshold_high`` (None for an infinite end), and any
        further numbers the check rests on, such as the fitted depths.
    parts : list of Check
        The checks a combined check was made of.
    """

    name: str
    dataset: str | None
    verdict: str
    evidence: str
    numbers: dict = field(default_factory=dict)
    parts: list["Check"] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the check and its parts as JSON-encodable nested dictionaries."""
        return {
            "name": self.name,
            "dataset": self.dataset,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "numbers": {key: _json_number(value) for key, value in self.numbers.items()},
            "parts": [part.to_dict() for part in self.parts],
        }

    def deciding(self) -> "Check":
        """Return the leaf check whose verdict equals this check's verdict (the first such)."""
        if not self.parts:
            return self
        for part in self.parts:
            if part.verdict == self.verdict:
                return part.deciding()
        return self

    def leaves(self) -> list["Check"]:
        """Return every leaf check below this one."""
        if not self.parts:
            return [self]
        return [leaf for part in self.parts for leaf in part.leaves()]


def _json_number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_range(low: float, high: float) -> str:
    """Return a range in words: "in [a, b]", ">= a" or "<= b"."""
    if math.isinf(high):
        return f">= {low:g}"
    if math.isinf(low):
        return f"<= {high:g}"
    return f"in [{low:g}, {high:g}]"


def _thresholds(low: float, high: float) -> dict:
    return {"threshold_low": None if math.isinf(low) else low, "threshold_high": None if math.isinf(high) else high}


def order_check(name: str, dataset: str | None, fit: RateFit, low: float, high: float = math.inf) -> Check:
    """Compare the 95% confidence interval of an observed order with ``[low, high]``."""
    numbers = {"order": fit.order, "ci_low": fit.ci_low, "ci_high": fit.ci_high, **_thresholds(low, high), "depths": fit.fit_depths}
    excluded = _excluded_words(fit)
    if not fit.sufficient:
        return Check(name, dataset, INCONCLUSIVE, f"{name}: {fit.reason}{excluded}", numbers)

    span = f"N = {fit.fit_depths[0]}..{fit.fit_depths[-1]}"
    measured = f"{name} {fit.order:.3g} (95% CI {fit.ci_low:.3g} to {fit.ci_high:.3g}, {span}), required {format_range(low, high)}"
    if low <= fit.ci_low and fit.ci_high <= high:
        return Check(name, dataset, REPRODUCED, measured + excluded, numbers)
    if fit.ci_high < low or fit.ci_low > high:
        return Check(name, dataset, NOT_REPRODUCED, measured + excluded, numbers)
    return Check(name, dataset, INCONCLUSIVE, f"{measured}: the interval straddles the threshold{excluded}", numbers)


def _excluded_words(fit: RateFit) -> str:
    if not fit.excluded:
        return ""
    listed = ", ".join(f"N={entry['depth']} ({entry['reason']})" for entry in fit.excluded)
    return f"; excluded {listed}"


def value_check(name: str, dataset: str | None, value: float | None, low: float, high: float, **extra) -> Check:
    """Compare a plain measured value with ``[low, high]``; a missing value is INCONCLUSIVE."""
    numbers = {"value": value, **_thresholds(low, high), **extra}
    if value is None or not math.isfinite(value):
        return Check(name, dataset, INCONCLUSIVE, f"{name}: no finite value", numbers)
    verdict = REPRODUCED if low <= value <= high else NOT_REPRODUCED
    return Check(name, dataset, verdict, f"{name} {value:.3g}, required {format_range(low, high)}", numbers)


def inconclusive(name: str, dataset: str | None, reason: str) -> Check:
    """Return an INCONCLUSIVE check with the reason."""
    return Check(name, dataset, INCONCLUSIVE, f"{name}: {reason}")


def all_of(name: str, dataset: str | None, parts: list[Check]) -> Check:
    """Combine checks that must all hold."""
    if not parts:
        return inconclusive(name, dataset, "nothing to check")
    verdicts = [part.verdict for part in parts]
    if NOT_REPRODUCED in verdicts:
        verdict = NOT_REPRODUCED
    elif INCONCLUSIVE in verdicts:
        verdict = INCONCLUSIVE
    else:
        verdict = REPRODUCED
    return _combined(name, dataset, verdict, parts)


def any_of(name: str, dataset: str | None, parts: list[Check]) -> Check:
    """Combine checks of which one suffices."""
    if not parts:
        return inconclusive(name, dataset, "nothing to check")
    verdicts = [part.verdict for part in parts]
    if REPRODUCED in verdicts:
        verdict = REPRODUCED
    elif INCONCLUSIVE in verdicts:
        verdict = INCONCLUSIVE
    else:
        verdict = NOT_REPRODUCED
    return _combined(name, dataset, verdict, parts)


def _combined(name: str, dataset: str | None, verdict: str, parts: list[Check]) -> Check:
    check = Check(name, dataset, verdict, "", parts=parts)
    deciding = check.deciding()
    reproduced = sum(leaf.verdict == REPRODUCED for leaf in check.leaves())
    total = len(check.leaves())
    check.evidence = deciding.evidence if total == 1 else f"{deciding.evidence} ({reproduced} of {total} checks reproduced)"
    check.numbers = dict(deciding.numbers)
    return check
