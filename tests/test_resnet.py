"""Tests of the discrete ResNet and its energy E_N."""

import numpy as np
import pytest
import torch

from deeplimits.resnet import DiscreteParameters, discrete_energy, forward, layer_times
from deeplimits.settings import EnergySettings
from problems import random_parameters


def test_forward_returns_every_state():
    params = random_parameters(depth=5, state_dim=3, n_classes=2)
    x = torch.randn(7, 3)

    states = forward(params["K"], params["b"], x, "tanh", return_states=True)

    assert states.shape == (6, 7, 3)
    assert torch.equal(states[0], x)
    assert torch.equal(states[-1], forward(params["K"], params["b"], x, "tanh"))


def test_forward_linear_is_matrix_power():
    # With sigma = identity, constant K and b = 0, each layer multiplies by (I + K/N).
    depth = 64
    K = torch.tensor([[0.3, -1.2], [0.8, -0.1]])
    x = torch.randn(10, 2)

    final = forward(K.expand(depth, 2, 2), torch.zeros(depth, 2), x, "identity")

    expected = x @ torch.linalg.matrix_power(torch.eye(2) + K / depth, depth).T
    assert torch.allclose(final, expected, rtol=0, atol=1e-12)


def test_layer_times_are_exact_fractions():
    depth = 49
    times = layer_times(depth)

    assert times.dtype == torch.float64
    # round(t_k N) recovers k; floor could not be trusted for every N.
    assert torch.equal(torch.round(times * depth).long(), torch.arange(depth))


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
@pytest.mark.parametrize("p,q", [(2.0, 1.0), (3.0, 2.0), (1.5, 0.5)])
def test_energy_gradient_matches_finite_differences(activation, loss, p, q):
    settings = EnergySettings(alpha=0.1, beta=0.05, gamma=0.01, p=p, q=q, activation=activation, loss=loss, state_dim=3)
    params = random_parameters(depth=6, state_dim=3, n_classes=3, seed=1)
    x = torch.randn(9, 3)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])

    def energy(K, b, W, c):
        return discrete_energy(DiscreteParameters(K, b, W, c), x, y, settings).total

    inputs = tuple(params[name].clone().requires_grad_(True) for name in ("K", "b", "W", "c"))
    # Central differences in float64 with eps 1e-6 have error about 1e-9 for these smooth
    # energies; relu has kinks, but random inputs meet none within eps almost surely.
    assert torch.autograd.gradcheck(energy, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_energy_terms_by_hand():
    settings = EnergySettings(alpha=2.0, beta=3.0, gamma=5.0, p=2.0, q=1.0, activation="identity", loss="squared", state_dim=1)
    K = torch.tensor([[[1.0]], [[2.0]]])
    b = torch.tensor([[0.0], [1.0]])
    W = torch.tensor([[1.0]])
    c = torch.tensor([0.5])

    terms = discrete_energy(DiscreteParameters(K, b, W, c), torch.zeros(1, 1), torch.tensor([0]), settings)

    # theta_0 = (1, 0), theta_1 = (2, 1): one difference of squared norm 2, N^q = 2.
    assert terms.derivative.item() == pytest.approx(2.0 * 2 * 2)
    # (1/N) sum |theta_k|^2 = (1 + 5) / 2.
    assert terms.magnitude.item() == pytest.approx(3.0 * 3)
    assert terms.classifier.item() == pytest.approx(5.0 * 1.25)
    # X_1 = 0 + (1/2)(1*0 + 0) = 0, X_2 = 0 + (1/2)(2*0 + 1) = 0.5; score 1, target 1.
    assert terms.data.item() == pytest.approx(0.0)
    assert terms.total.item() == pytest.approx(8 + 9 + 6.25)
