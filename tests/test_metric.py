"""Tests of the discrete Sobolev metric and its change of variables."""

import numpy as np
import pytest
import torch

from deeplimits.metric import SobolevMetric, metric_weights
from deeplimits.regularisers import derivative_penalty, magnitude_penalty


@pytest.mark.parametrize("depth", [1, 2, 7, 64])
def test_factor_reproduces_gram_matrix(depth):
    mass, stiffness = 0.3, 2.5
    difference = np.diff(np.eye(depth), axis=0)
    gram = mass / depth * np.eye(depth) + stiffness * difference.T @ difference

    metric = SobolevMetric.discrete(depth, mass, stiffness)

    assert np.allclose(metric.gram().numpy(), gram, rtol=0, atol=1e-12)


def test_penalties_become_squared_norm():
    depth, alpha, beta = 50, 0.02, 0.001
    metric = SobolevMetric.discrete(depth, *metric_weights(alpha, beta, 1.0, depth, alpha_floor=0.0))
    theta = torch.randn(depth, 6)

    phi = metric.coordinates_from(theta)

    penalties = alpha * derivative_penalty(theta, 2.0, 1.0) + beta * magnitude_penalty(theta, 2.0)
    assert (phi**2).sum().item() == pytest.approx(penalties.item(), rel=1e-12)
    assert torch.allclose(metric.parameters_from(phi), theta, rtol=0, atol=1e-12)


def test_floor_applies_only_below_it():
    assert metric_weights(0.0, 1e-3, 1.0, 64, alpha_floor=1e-4) == (1e-3, pytest.approx(1e-4 * 64))
    assert metric_weights(1e-2, 1e-3, 1.0, 64, alpha_floor=1e-4) == (1e-3, pytest.approx(1e-2 * 64))
    assert metric_weights(1e-2, 1e-3, 1.0, None, alpha_floor=0.0) == (1e-3, 1e-2)
