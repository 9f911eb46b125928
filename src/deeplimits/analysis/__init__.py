"""The analysis stage: distances to the limit, branches of minimisers, observed orders, claim verdicts.

``deeplimits analyse`` measures the models of one study (:func:`analyse_study`) and
``deeplimits claims`` judges the claims C1..C9 on the results (:func:`evaluate_claims`).
"""

from .branches import Branch, group_branches, nearest_branch, same_branch_tolerance
from .claims import CLAIMS, ClaimVerdict, evaluate_claims
from .measures import Geometry, LimitSolution, TrainedModel, load_limit, load_model
from .rates import RateFit, fit_order, refit, successive_orders
from .study import StudyAnalysis, analyse_study
from .thresholds import load_thresholds, validate_thresholds
from .verdicts import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Check
