"""Consistency of the ResNet with the ODE at fixed parameters (and the recovery sequence).

For a smooth theta(t) sampled at t_k = k/N, the ResNet is the explicit Euler method for
``dX/dt = sigma(K(t) X + b(t))``, so ``max_s |X_N^s - X^s(1)| = O(1/N)``, and the Riemann
sums of the penalties differ from their integrals by O(1/N): ``|E_N(theta) - E_inf(theta)|
= O(1/N)``. With theta a continuum minimiser this is the recovery sequence of the
Gamma-convergence proof (the limsup inequality).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import torch
from tqdm.auto import tqdm

from .limit import ContinuumParameters, ContinuumProblem, ContinuumSettings, ode_final_state
from .regularisers import split_parameters
from .resnet import DiscreteParameters, discrete_energy, forward, layer_times
from .settings import EnergySettings

logger = logging.getLogger(__name__)

__all__ = ["forward_consistency"]


def forward_consistency(
    params: ContinuumParameters,
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    settings: EnergySettings,
    continuum: ContinuumSettings,
    depths: list[int],
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Compare ResNets with theta_k = theta(t_k) against the ODE and E_inf, depth by depth.

    Parameters
    ----------
    params : ContinuumParameters
        The fixed smooth parameters and classifier.
    x : Tensor, shape (S, n)
    y : Tensor, shape (S,)
    n_classes : int
    settings : EnergySettings
    continuum : ContinuumSettings
        Adaptive solver settings of the reference solution X(1) and E_inf(theta).
    depths : list of int

    Returns
    -------
    dict of ndarray
        ``depth``; ``state_error`` = max over samples and coordinates of
        ``|X_N - X(1)|``; ``energy_discrete`` = E_N(theta(t_k)); ``energy_continuum`` =
        E_inf(theta) (repeated); ``energy_gap`` = ``|E_N - E_inf|``; and the gap of each
        term (``gap_data``, ``gap_derivative``, ``gap_magnitude``).
    """
    problem = ContinuumProblem(x, y, n_classes, settings, replace(continuum, degree=params.degree))
    with torch.no_grad():
        reference_state = ode_final_state(params, x, settings.activation, continuum, adaptive=True)
        continuum_terms = problem.energy(params, adaptive=True).to_floats()

    rows = {key: [] for key in ("depth", "state_error", "energy_discrete", "energy_continuum", "energy_gap", "gap_data", "gap_derivative", "gap_magnitude")}
    for depth in tqdm(depths, desc="forward check", disable=not progress, leave=False):
        with torch.no_grad():
            K, b = split_parameters(params.theta(layer_times(depth, x.dtype, x.device)), settings.state_dim)
            state = forward(K, b, x, settings.activation)
            terms = discrete_energy(DiscreteParameters(K, b, params.W, params.c), x, y, settings).to_floats()

        rows["depth"].append(depth)
        rows["state_error"].append(float((state - reference_state).abs().max()))
        rows["energy_discrete"].append(terms["total"])
        rows["energy_continuum"].append(continuum_terms["total"])
        rows["energy_gap"].append(abs(terms["total"] - continuum_terms["total"]))
        for name in ("data", "derivative", "magnitude"):
            rows[f"gap_{name}"].append(abs(terms[name] - continuum_terms[name]))
        logger.info("N=%d: state error %.3e, energy gap %.3e", depth, rows["state_error"][-1], rows["energy_gap"][-1])

    return {key: np.asarray(values) for key, values in rows.items()}
