"""The analysis stage: distances to the limit, branches of minimisers, observed orders, claim verdicts.

``deeplimits analyse`` measures the models of one study (:func:`analyse_study`) and
``deeplimits claims`` judges the claims C1..C9 on the results (:func:`evaluate_claims`).
"""

from .._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".branches": ("Branch", "group_branches", "nearest_branch", "same_branch_tolerance"),
    ".claims": ("CLAIMS", "ClaimVerdict", "evaluate_claims"),
    ".measures": ("Geometry", "LimitSolution", "TrainedModel", "load_limit", "load_model"),
    ".rates": ("RateFit", "fit_order", "refit", "successive_orders"),
    ".study": ("StudyAnalysis", "analyse_study"),
    ".thresholds": ("load_thresholds", "validate_thresholds"),
    ".verdicts": ("INCONCLUSIVE", "NOT_REPRODUCED", "REPRODUCED", "Check"),
})
