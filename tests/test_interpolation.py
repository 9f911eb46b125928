"""Tests of interpolants, distances and alignment modulo padded-coordinate symmetries."""

import math

import numpy as np
import pytest
import torch

from deeplimits.interpolation import (
    LegendreFunction,
    PiecewiseConstant,
    PiecewiseLinear,
    align,
    apply_symmetry,
    distances,
    padded_symmetries,
)

# theta(t) = t in one component: Legendre coefficients of t = (P_0(2t-1) + P_1(2t-1)) / 2.
IDENTITY_FUNCTION = LegendreFunction(np.array([[0.5], [0.5]]))


@pytest.mark.parametrize("depth", [1, 3, 8, 49])
def test_piecewise_constant_distance_to_identity(depth):
    samples = (np.arange(depth) / depth)[:, None]

    measured = distances(PiecewiseConstant(samples), IDENTITY_FUNCTION)

    # On each cell t - t_k runs over [0, 1/N): the L^2 norm is 1/(N sqrt 3), the sup 1/N.
    assert measured["l2"] == pytest.approx(1 / (depth * math.sqrt(3)), rel=1e-12)
    assert measured["linf"] == pytest.approx(1 / depth, rel=1e-9)


@pytest.mark.parametrize("depth", [2, 5, 16])
def test_piecewise_linear_distance_to_identity(depth):
    samples = (np.arange(depth) / depth)[:, None]

    measured = distances(PiecewiseLinear(samples), IDENTITY_FUNCTION)

    # Exact except on the last cell, where the interpolant stays at (N-1)/N.
    last_cell_l2 = 1 / (depth * math.sqrt(3)) / math.sqrt(depth)
    assert measured["l2"] == pytest.approx(last_cell_l2, rel=1e-12)
    assert measured["linf"] == pytest.approx(1 / depth, rel=1e-9)


def test_distance_between_depths_uses_common_grid():
    coarse = PiecewiseConstant(np.array([[0.0], [1.0]]))
    fine = PiecewiseConstant(np.array([[0.0], [0.0], [1.0], [2.0]]))

    measured = distances(coarse, fine)

    # The two differ only on [3/4, 1), by 1: L^2 = sqrt(1/4).
    assert measured["l2"] == pytest.approx(0.5, rel=1e-14)
    assert measured["linf"] == pytest.approx(1.0, rel=1e-14)


def test_symmetry_group_sizes():
    assert len(padded_symmetries(2, 2, odd=True)) == 1
    assert len(padded_symmetries(2, 3, odd=True)) == 2
    assert len(padded_symmetries(2, 4, odd=True)) == 8
    assert len(padded_symmetries(2, 4, odd=False)) == 2
    with pytest.raises(ValueError, match="padded coordinates have .* symmetries, more than 10"):
        padded_symmetries(1, 4, odd=True, limit=10)


def test_align_undoes_a_sign_flip():
    rng = np.random.default_rng(0)
    state_dim, depth = 3, 8
    theta = rng.standard_normal((depth, state_dim * state_dim + state_dim))
    W = rng.standard_normal((2, state_dim))
    flip = padded_symmetries(2, 3, odd=True)[1]
    flipped_theta, flipped_W = apply_symmetry(theta, W, state_dim, flip)
    assert not np.allclose(flipped_theta, theta)

    aligned_theta, aligned_W, measured = align(
        flipped_theta, flipped_W, PiecewiseConstant, PiecewiseConstant(theta), W, data_dim=2, state_dim=3, odd=True
    )

    assert np.allclose(aligned_theta, theta, atol=1e-14)
    assert np.allclose(aligned_W, W, atol=1e-14)
    assert measured["l2"] < 1e-14
    assert measured["classifier"] < 1e-14


def test_sign_flip_is_a_symmetry_of_the_flow():
    from deeplimits.resnet import forward
    from deeplimits.regularisers import split_parameters

    rng = np.random.default_rng(1)
    theta = rng.standard_normal((6, 12))
    W = rng.standard_normal((2, 3))
    x = torch.as_tensor(np.c_[rng.standard_normal((5, 2)), np.zeros(5)])
    flipped_theta, flipped_W = apply_symmetry(theta, W, 3, padded_symmetries(2, 3, odd=True)[1])

    scores = forward(*split_parameters(torch.as_tensor(theta), 3), x, "tanh") @ torch.as_tensor(W).T
    flipped_scores = forward(*split_parameters(torch.as_tensor(flipped_theta), 3), x, "tanh") @ torch.as_tensor(flipped_W).T

    assert torch.allclose(scores, flipped_scores, atol=1e-14)
