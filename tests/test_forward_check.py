"""Tests of the ResNet-to-ODE consistency at fixed smooth parameters (claim C1)."""

import numpy as np
import pytest
import torch

from deeplimits.forward_check import forward_consistency
from deeplimits.initialisation import InitialFunction, InitialisationSettings
from deeplimits.legendre import project
from deeplimits.limit import ContinuumParameters, ContinuumSettings
from deeplimits.settings import EnergySettings
from problems import fitted_order, moons

DEPTHS = [16, 32, 64, 128, 256, 512, 1024]


@pytest.fixture(scope="module")
def consistency():
    torch.set_default_dtype(torch.float64)
    x, y = moons(samples=100)
    settings = EnergySettings(alpha=0.01, beta=0.001, gamma=0.001)
    start = InitialFunction(InitialisationSettings(scale=1.0), restart=0, state_dim=2, n_classes=2)
    params = ContinuumParameters(
        torch.as_tensor(project(start.theta, 20)), torch.as_tensor(start.W), torch.as_tensor(start.c), 2
    )
    return forward_consistency(params, x, y, 2, settings, ContinuumSettings(degree=20), DEPTHS, progress=False)


def test_state_error_is_first_order(consistency):
    # Explicit Euler is first order; N = 16..1024 is asymptotic for this smooth theta, so
    # the fitted order lies within 0.1 of 1.
    assert 0.9 <= fitted_order(consistency["depth"], consistency["state_error"]) <= 1.1


def test_energy_gap_is_first_order(consistency):
    # The data term (through X_N) and both Riemann sums each carry an O(1/N) error, but
    # the O(1/N^2) part is large here: successive orders fall from 1.8 (N = 16) to 1.04
    # (N = 512), so the fit uses the asymptotic range N >= 128.
    asymptotic = consistency["depth"] >= 128
    order = fitted_order(consistency["depth"][asymptotic], consistency["energy_gap"][asymptotic])
    assert 0.9 <= order <= 1.1
    last_ratio = np.log2(consistency["energy_gap"][-2] / consistency["energy_gap"][-1])
    assert 0.9 <= last_ratio <= 1.1


def test_every_term_gap_shrinks(consistency):
    for name in ("gap_data", "gap_derivative", "gap_magnitude"):
        gaps = consistency[name]
        assert gaps[-1] < gaps[0] / 32, name
