"""Tests of deeplimits.analysis.branches: grouping continuum minimisers and assigning models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deeplimits.analysis.branches import (
    TOLERANCE_FACTOR,
    TOLERANCE_FLOOR,
    group_branches,
    nearest_branch,
    same_branch_tolerance,
)
from deeplimits.analysis.measures import Geometry, LimitSolution, TrainedModel
from deeplimits.interpolation import apply_symmetry, padded_symmetries
from deeplimits.limit import ContinuumParameters
from deeplimits.regularisers import split_parameters
from deeplimits.resnet import DiscreteParameters, layer_times
from deeplimits.settings import EnergySettings

STATE_DIM = 3
WIDTH = STATE_DIM * STATE_DIM + STATE_DIM
RNG = np.random.default_rng(2)
BASE = RNG.standard_normal((4, WIDTH))
OTHER = RNG.standard_normal((4, WIDTH))
W = RNG.standard_normal((2, STATE_DIM))
C = np.array([0.3, -0.3])


def estimate(theta_l2: float, classifier: float) -> dict:
    values = {"energy": 1e-12, "theta_l2": theta_l2, "theta_linf": theta_l2, "classifier": classifier}
    return {"degree": values, "step": values, "tolerance": values, "estimate": values}


def solution(restart, coefficients, energy, W=W, refinement=None, activation="tanh") -> LimitSolution:
    settings = EnergySettings(state_dim=STATE_DIM, activation=activation)
    params = ContinuumParameters(torch.as_tensor(coefficients), torch.as_tensor(W), torch.as_tensor(C), STATE_DIM)
    metrics = {"settings": settings.to_dict(), "energy": {"total": energy}, "converged": True, "refinement": refinement}
    return LimitSolution(restart, params, metrics)


def model_from(limit: LimitSolution, depth: int, restart: int = 0) -> TrainedModel:
    theta = limit.params.theta(layer_times(depth))
    K, b = split_parameters(theta, STATE_DIM)
    params = DiscreteParameters(K, b, limit.params.W.clone(), limit.params.c.clone())
    return TrainedModel(depth, restart, params, {"settings": limit.metrics["settings"], "converged": True})


GEOMETRY = Geometry(data_dim=2, state_dim=STATE_DIM, odd=True)


def test_tolerance_scales_with_estimate():
    small = solution(0, BASE, 0.1, refinement=estimate(1e-8, 1e-9))
    large = solution(1, BASE, 0.1, refinement=estimate(1e-4, 1e-5))
    missing = solution(2, BASE, 0.1)

    assert same_branch_tolerance(small, small) == TOLERANCE_FLOOR
    assert same_branch_tolerance(small, large) == pytest.approx(TOLERANCE_FACTOR * 1.1e-4)
    assert same_branch_tolerance(large, missing) == TOLERANCE_FLOOR


def test_nearby_solutions_form_one_branch():
    refinement = estimate(1e-6, 1e-7)
    solutions = [
        solution(0, OTHER, 0.2, refinement=refinement),
        solution(1, BASE, 0.1, refinement=refinement),
        # 1e-6 in the coefficients moves theta by about 1e-6 in L^2, below the floor 1e-4.
        solution(2, BASE + 1e-6, 0.1 + 1e-12, refinement=refinement),
    ]
    branches = group_branches(solutions, GEOMETRY)

    assert [branch.restarts for branch in branches] == [[1, 2], [0]]
    assert [branch.index for branch in branches] == [0, 1]
    assert branches[0].lowest and not branches[1].lowest
    assert branches[0].representative.restart == 1
    assert branches[0].energy == 0.1
    assert branches[0].theta_error_estimate == 1e-6


def test_symmetric_copy_joins_branch_for_odd_activation():
    flip = padded_symmetries(2, STATE_DIM, odd=True)[1]
    flipped, W_flipped = apply_symmetry(BASE, W, STATE_DIM, flip)
    pair = [solution(0, BASE, 0.1), solution(1, flipped, 0.1, W=W_flipped)]

    assert len(group_branches(pair, GEOMETRY)) == 1
    # Without an odd activation a sign flip is no symmetry, so the copy is another minimiser.
    assert len(group_branches(pair, Geometry(2, STATE_DIM, odd=False))) == 2


def test_missing_refinement_uses_floor():
    far = solution(1, BASE + 1e-3, 0.1)
    assert len(group_branches([solution(0, BASE, 0.1), far], GEOMETRY)) == 2


def test_group_rejects_empty():
    with pytest.raises(ValueError, match="no continuum solutions to group"):
        group_branches([], GEOMETRY)


def test_model_is_assigned_to_nearest_branch():
    branches = group_branches([solution(0, BASE, 0.1), solution(1, OTHER, 0.2)], GEOMETRY)
    near_other = model_from(branches[1].representative, depth=32)
    index, measured = nearest_branch(near_other, branches, GEOMETRY)

    assert index == 1
    assert len(measured) == 2
    assert measured[1]["l2"] < measured[0]["l2"]
    assert math.isclose(measured[1]["classifier"], 0.0, abs_tol=1e-12)


def test_flipped_model_is_assigned_to_its_branch():
    branches = group_branches([solution(0, BASE, 0.1), solution(1, OTHER, 0.2)], GEOMETRY)
    model = model_from(branches[0].representative, depth=64)
    flip = padded_symmetries(2, STATE_DIM, odd=True)[1]
    theta, W_flipped = apply_symmetry(model.theta, model.W, STATE_DIM, flip)
    K, b = split_parameters(torch.as_tensor(theta), STATE_DIM)
    flipped = TrainedModel(64, 0, DiscreteParameters(K, b, torch.as_tensor(W_flipped), model.params.c), model.metrics)

    index, measured = nearest_branch(flipped, branches, GEOMETRY)
    assert index == 0
    assert measured[0]["classifier"] == pytest.approx(0.0, abs=1e-12)
