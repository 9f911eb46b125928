"""Tests of deeplimits.analysis.measures on parameters with exact distances and differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deeplimits.analysis.measures import (
    Geometry,
    LimitSolution,
    TrainedModel,
    cauchy_distances,
    disagreement,
    limit_distances,
    limit_predicted_classes,
    load_limit,
    load_model,
    max_second_difference,
    predicted_classes,
    seminorm,
)
from deeplimits.interpolation import apply_symmetry, padded_symmetries
from deeplimits.limit import ContinuumParameters
from deeplimits.regularisers import split_parameters
from deeplimits.resnet import DiscreteParameters, layer_times
from deeplimits.settings import EnergySettings


def make_model(theta: np.ndarray, W: np.ndarray, c: np.ndarray, state_dim: int, activation: str = "tanh", restart: int = 0) -> TrainedModel:
    K, b = split_parameters(torch.as_tensor(theta), state_dim)
    settings = EnergySettings(state_dim=state_dim, activation=activation)
    params = DiscreteParameters(K, b, torch.as_tensor(W), torch.as_tensor(c))
    return TrainedModel(theta.shape[0], restart, params, {"settings": settings.to_dict(), "converged": True})


def make_limit(coefficients: np.ndarray, W: np.ndarray, c: np.ndarray, state_dim: int, activation: str = "tanh", refinement=None) -> LimitSolution:
    settings = EnergySettings(state_dim=state_dim, activation=activation)
    params = ContinuumParameters(torch.as_tensor(coefficients), torch.as_tensor(W), torch.as_tensor(c), state_dim)
    metrics = {"settings": settings.to_dict(), "energy": {"total": 0.1}, "converged": True, "refinement": refinement}
    return LimitSolution(0, params, metrics)


def linear_coefficients(direction: np.ndarray) -> np.ndarray:
    """Legendre coefficients of theta(t) = t * direction: t = (P_0 + P_1(2t - 1)) / 2."""
    return np.stack([direction / 2, direction / 2])


STATE_DIM = 2
WIDTH = STATE_DIM * STATE_DIM + STATE_DIM
GEOMETRY = Geometry(data_dim=2, state_dim=2, odd=True)
DIRECTION = np.arange(1.0, WIDTH + 1.0)
W = np.array([[1.0, -1.0], [0.5, 2.0]])
C = np.array([0.1, -0.2])


# --- regularity ---------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [4, 16, 64])
def test_seminorm_of_linear_samples(depth):
    # Differences are direction / N, so N sum_k |theta_{k+1} - theta_k|^2 = (N-1)/N |direction|^2.
    theta = layer_times(depth).numpy()[:, None] * DIRECTION
    model = make_model(theta, W, C, STATE_DIM)
    expected = np.linalg.norm(DIRECTION) * math.sqrt((depth - 1) / depth)
    assert seminorm(model) == pytest.approx(expected, rel=1e-12)


def test_second_difference_of_quadratic_samples():
    # N^2 (t_{k+1}^2 - 2 t_k^2 + t_{k-1}^2) = 2 exactly, at every k.
    depth = 32
    theta = layer_times(depth).numpy()[:, None] ** 2 * DIRECTION
    model = make_model(theta, W, C, STATE_DIM)
    assert max_second_difference(model) == pytest.approx(2 * np.linalg.norm(DIRECTION), rel=1e-10)


def test_second_difference_needs_three_layers():
    model = make_model(np.ones((2, WIDTH)), W, C, STATE_DIM)
    assert math.isnan(max_second_difference(model))


# --- distances to the limit and between depths --------------------------------------------


@pytest.mark.parametrize("depth", [4, 8, 32])
def test_limit_distances_of_linear_function(depth):
    theta = layer_times(depth).numpy()[:, None] * DIRECTION
    model = make_model(theta, W + 0.3, C, STATE_DIM)
    limit = make_limit(linear_coefficients(DIRECTION), W, C, STATE_DIM)
    measured = limit_distances(model, limit, GEOMETRY)

    norm = np.linalg.norm(DIRECTION)
    # Piecewise constant: the error a (t - t_k) on each cell gives |a| / (sqrt(3) N) in L^2
    # and |a| / N in L^inf. Piecewise linear: exact except the last cell, where it is
    # constant, giving |a| / (sqrt(3) N^1.5). Gauss quadrature with 16 nodes is exact here.
    assert measured["l2"] == pytest.approx(norm / (math.sqrt(3) * depth), rel=1e-10)
    assert measured["linf"] == pytest.approx(norm / depth, rel=1e-9)
    assert measured["l2_linear"] == pytest.approx(norm / (math.sqrt(3) * depth**1.5), rel=1e-10)
    assert measured["classifier"] == pytest.approx(0.3 * 2, rel=1e-12)


def test_cauchy_distance_of_linear_function():
    # PC_N and PC_2N of a t differ by a / (2N) on half of each coarse cell: L^2 = |a| / (2 sqrt(2) N).
    depth = 8
    coarse = make_model(layer_times(depth).numpy()[:, None] * DIRECTION, W, C, STATE_DIM)
    fine = make_model(layer_times(2 * depth).numpy()[:, None] * DIRECTION, W, C, STATE_DIM)
    measured = cauchy_distances(coarse, fine, GEOMETRY)
    norm = np.linalg.norm(DIRECTION)
    assert measured["l2"] == pytest.approx(norm / (2 * math.sqrt(2) * depth), rel=1e-10)
    assert measured["linf"] == pytest.approx(norm / (2 * depth), rel=1e-9)


def symmetric_pair(activation: str):
    """A limit in state dimension 3 (data dimension 2), its samples, and their sign-flipped copy."""
    state_dim = 3
    width = state_dim * state_dim + state_dim
    rng = np.random.default_rng(3)
    coefficients = rng.standard_normal((3, width))
    W3, c3 = rng.standard_normal((2, state_dim)), rng.standard_normal(2)
    limit = make_limit(coefficients, W3, c3, state_dim, activation)

    theta = limit.params.theta(layer_times(64)).numpy()
    flip = padded_symmetries(2, state_dim, odd=True)[1]
    flipped, W_flipped = apply_symmetry(theta, W3, state_dim, flip)
    sampled = make_model(theta, W3, c3, state_dim, activation)
    return sampled, make_model(flipped, W_flipped, c3, state_dim, activation), limit


def test_alignment_removes_padded_sign_flip():
    sampled, flipped, limit = symmetric_pair("tanh")
    geometry = Geometry(2, 3, odd=True)
    reference = limit_distances(sampled, limit, geometry)
    aligned = limit_distances(flipped, limit, geometry)
    unaligned = limit_distances(flipped, limit, Geometry(2, 3, odd=False))

    # Aligned, the flipped copy is as far from the limit as the samples themselves.
    for key in ("l2", "linf", "l2_linear", "classifier"):
        assert aligned[key] == pytest.approx(reference[key], rel=1e-12, abs=1e-14)
    assert unaligned["l2"] > 10 * aligned["l2"]
    assert unaligned["classifier"] > 0.1


# --- predictions --------------------------------------------------------------------------


def test_deep_model_predicts_like_limit():
    # A depth-512 ResNet sampled from a smooth theta is within O(1/N) of the ODE; with
    # random inputs no point lies that close to the decision boundary except by chance.
    # The ODE tolerance 1e-7 is far below that difference and keeps the test fast.
    rng = np.random.default_rng(5)
    coefficients = 0.5 * rng.standard_normal((3, WIDTH))
    limit = make_limit(coefficients, W, C, STATE_DIM)
    limit.metrics["continuum"] = {"degree": 2, "steps": 32, "rtol": 1e-7, "atol": 1e-7, "method": "dopri5", "first_step": 1 / 64}
    theta = limit.params.theta(layer_times(512)).numpy()
    model = make_model(theta, W, C, STATE_DIM)
    x = torch.as_tensor(rng.standard_normal((200, STATE_DIM)))

    rate = disagreement(predicted_classes(model, x), limit_predicted_classes(limit, x))
    assert rate <= 0.01


def test_disagreement_counts_differences():
    assert disagreement(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])) == 0.25


def test_disagreement_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="cannot compare predictions of shapes"):
        disagreement(np.zeros(3), np.zeros(4))


# --- files and refinement -----------------------------------------------------------------


def test_missing_model_names_training_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"N8/restart1\.npz not found; train it with `deeplimits train --depth 8"):
        load_model(tmp_path, 8, 1)


def test_missing_limit_names_solve_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"restart0\.npz not found; solve it with `deeplimits solve-limit"):
        load_limit(tmp_path, 0)


def test_constant_limit_ignores_degree_variant():
    refinement = {
        "degree": {"energy": 1e-3, "theta_l2": 1e-1, "theta_linf": 1e-1, "classifier": 1e-2},
        "step": {"energy": 1e-12, "theta_l2": 1e-9, "theta_linf": 1e-9, "classifier": 1e-10},
        "tolerance": {"energy": 1e-11, "theta_l2": 1e-7, "theta_linf": 1e-7, "classifier": 1e-8},
        "estimate": {"energy": 1e-3, "theta_l2": 1e-1, "theta_linf": 1e-1, "classifier": 1e-2},
    }
    constant = make_limit(np.ones((1, WIDTH)), W, C, STATE_DIM, refinement=refinement)
    polynomial = make_limit(np.ones((3, WIDTH)), W, C, STATE_DIM, refinement=refinement)

    assert constant.refinement_estimate("energy") == 1e-11
    assert constant.refinement_estimate("theta_l2") == 1e-7
    assert polynomial.refinement_estimate("energy") == 1e-3
    assert math.isnan(make_limit(np.ones((3, WIDTH)), W, C, STATE_DIM).refinement_estimate("energy"))
