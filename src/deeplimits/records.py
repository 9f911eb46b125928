"""Files of trained ResNets and continuum solutions: ``.npz`` arrays beside a metrics JSON.

A trained depth-N model stores ``K`` (N, n, n), ``b`` (N, n), ``W`` (C, n), ``c`` (C,) and
``t`` (N,), the layer times. A continuum solution stores its Legendre ``coefficients``
(D + 1, n*n + n), ``W``, ``c``, and its values on a uniform grid of 4097 points of [0, 1]:
``t`` (4097,), ``K`` (4097, n, n), ``b`` (4097, n), so any tool can read theta without
knowing the basis. The formats are documented in results/README.md.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .artifacts import read_json, read_npz, write_json, write_npz
from .limit import ContinuumParameters
from .resnet import DiscreteParameters, layer_times

__all__ = [
    "GRID_POINTS",
    "save_discrete",
    "load_discrete",
    "save_continuum",
    "load_continuum",
]

GRID_POINTS = 4097


def save_discrete(stem: Path, params: DiscreteParameters, metrics: dict) -> None:
    """Write ``stem.npz`` and ``stem.json`` for a trained ResNet."""
    arrays = {name: getattr(params, name).detach().cpu().numpy() for name in ("K", "b", "W", "c")}
    arrays["t"] = layer_times(params.depth).numpy()
    write_npz(stem.with_suffix(".npz"), arrays)
    write_json(stem.with_suffix(".json"), metrics)


def load_discrete(stem: Path) -> tuple[DiscreteParameters, dict]:
    """Read a trained ResNet written by :func:`save_discrete`."""
    arrays = read_npz(Path(stem).with_suffix(".npz"), required=("K", "b", "W", "c", "t"))
    params = DiscreteParameters(*(torch.as_tensor(arrays[name]) for name in ("K", "b", "W", "c")))
    return params, read_json(Path(stem).with_suffix(".json"))


def save_continuum(stem: Path, params: ContinuumParameters, metrics: dict) -> None:
    """Write ``stem.npz`` and ``stem.json`` for a continuum solution, with its grid values."""
    grid = torch.linspace(0, 1, GRID_POINTS, dtype=params.coefficients.dtype, device=params.coefficients.device)
    with torch.no_grad():
        K, b = params.layers(grid)
    arrays = {
        "coefficients": params.coefficients.detach().cpu().numpy(),
        "W": params.W.detach().cpu().numpy(),
        "c": params.c.detach().cpu().numpy(),
        "t": grid.cpu().numpy(),
        "K": K.cpu().numpy(),
        "b": b.cpu().numpy(),
    }
    write_npz(stem.with_suffix(".npz"), arrays)
    write_json(stem.with_suffix(".json"), metrics)


def load_continuum(stem: Path) -> tuple[ContinuumParameters, dict]:
    """Read a continuum solution written by :func:`save_continuum`."""
    arrays = read_npz(Path(stem).with_suffix(".npz"), required=("coefficients", "W", "c", "K"))
    state_dim = arrays["K"].shape[-1]
    params = ContinuumParameters(
        torch.as_tensor(arrays["coefficients"]), torch.as_tensor(arrays["W"]), torch.as_tensor(arrays["c"]), state_dim
    )
    return params, read_json(Path(stem).with_suffix(".json"))
