"""Full-batch L-BFGS with a strong-Wolfe line search, run to a gradient tolerance.

The optimiser works on a flat vector ``x`` in the preconditioned coordinates of
:mod:`deeplimits.metric`, so the Euclidean gradient norm it tests is the dual-metric norm
of the energy's gradient: one tolerance means the same at every depth. The whole state of
the iteration fits in :class:`LBFGSState`, which can be saved and restored, so a run that
resumes from a checkpoint takes exactly the same steps as one that was never interrupted.

References
----------
J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed., Springer 2006:
Algorithm 7.4 (two-loop recursion) and Algorithm 3.5 (strong-Wolfe line search).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

# NOTE: torch keeps its strong-Wolfe line search private (torch/optim/lbfgs.py, unchanged
# from torch 1.5 to 2.13); the pinned torch range keeps the import stable.
from torch.optim.lbfgs import _strong_wolfe

logger = logging.getLogger(__name__)

__all__ = ["LBFGSState", "OptimisationResult", "NonFiniteEnergyError", "minimise"]

Objective = Callable[[torch.Tensor], tuple[float, torch.Tensor]]


class NonFiniteEnergyError(FloatingPointError):
    """The energy or its gradient became NaN or infinite during optimisation."""


@dataclass
class LBFGSState:
    """Everything the iteration needs to continue: iterate, value, gradient and curvature pairs."""

    x: torch.Tensor
    value: float
    gradient: torch.Tensor
    steps: list[torch.Tensor] = field(default_factory=list)
    gradient_changes: list[torch.Tensor] = field(default_factory=list)
    iteration: int = 0
    evaluations: int = 1

    @property
    def gradient_norm(self) -> float:
        return float(torch.linalg.vector_norm(self.gradient))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the state as numpy arrays, for an ``.npz`` checkpoint."""
        size = self.x.numel()
        return {
            "x": self.x.detach().cpu().numpy(),
            "value": np.float64(self.value),
            "gradient": self.gradient.detach().cpu().numpy(),
            "steps": _stack_history(self.steps, size),
            "gradient_changes": _stack_history(self.gradient_changes, size),
            "iteration": np.int64(self.iteration),
            "evaluations": np.int64(self.evaluations),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], device=None) -> "LBFGSState":
        """Rebuild a state written by :meth:`to_arrays`."""

        def tensor(value):
            return torch.as_tensor(value, dtype=torch.float64, device=device)

        return cls(
            x=tensor(arrays["x"]),
            value=float(arrays["value"]),
            gradient=tensor(arrays["gradient"]),
            steps=[tensor(row) for row in arrays["steps"]],
            gradient_changes=[tensor(row) for row in arrays["gradient_changes"]],
            iteration=int(arrays["iteration"]),
            evaluations=int(arrays["evaluations"]),
        )


def _stack_history(history: list[torch.Tensor], size: int) -> np.ndarray:
    if not history:
        return np.zeros((0, size))
    return torch.stack(history).detach().cpu().numpy()


@dataclass
class OptimisationResult:
    """Outcome of :func:`minimise`.

    ``converged`` is true only if the gradient norm reached the tolerance; ``message`` says
    why the iteration stopped otherwise (iteration cap, stalled line search).
    """

    state: LBFGSState
    converged: bool
    message: str

    @property
    def x(self) -> torch.Tensor:
        return self.state.x

    @property
    def value(self) -> float:
        return self.state.value

    @property
    def gradient_norm(self) -> float:
        return self.state.gradient_norm

    @property
    def iterations(self) -> int:
        return self.state.iteration

    @property
    def evaluations(self) -> int:
        return self.state.evaluations


def checked_objective(objective: Objective) -> Objective:
    """Wrap ``objective`` so that a NaN or infinite value or gradient raises at once."""

    def evaluate(x: torch.Tensor) -> tuple[float, torch.Tensor]:
        value, gradient = objective(x)
        if not math.isfinite(value) or not bool(torch.isfinite(gradient).all()):
            raise NonFiniteEnergyError(
                f"the energy is {value!r} or its gradient is not finite; lower the initial scale, "
                "the learning problem's weights or switch to tanh, which keeps the states bounded"
            )
        return value, gradient

    return evaluate


def start(objective: Objective, x0: torch.Tensor) -> LBFGSState:
    """Evaluate ``objective`` at ``x0`` and return the initial state."""
    value, gradient = checked_objective(objective)(x0)
    return LBFGSState(x=x0.detach().clone(), value=value, gradient=gradient)


def minimise(
    objective: Objective,
    state: LBFGSState,
    *,
    tolerance: float = 1e-6,
    max_iter: int = 1000,
    history_size: int = 20,
    initial_step: float = 1.0,
    callback: Callable[[LBFGSState], None] | None = None,
) -> OptimisationResult:
    """Minimise ``objective`` by L-BFGS from ``state`` until the gradient norm is below ``tolerance``.

    Parameters
    ----------
    objective : callable
        Maps x (1-D float64 tensor) to ``(value, gradient)``.
    state : LBFGSState
        Starting state, from :func:`start` or a checkpoint.
    tolerance : float, default 1e-6
        Stop when the Euclidean gradient norm is at most this.
    max_iter : int, default 1000
        Cap on the total iteration count (including iterations done before a resume).
    history_size : int, default 20
        Number of curvature pairs kept.
    initial_step : float, default 1.0
        Length of the first step along the steepest descent direction; later steps start
        from the quasi-Newton step of length 1.
    callback : callable, optional
        Called with the state after every iteration, for checkpoints and progress bars.

    Returns
    -------
    OptimisationResult

    Raises
    ------
    NonFiniteEnergyError
        If the objective returns NaN or infinity.
    """
    evaluate = checked_objective(objective)

    while True:
        if state.gradient_norm <= tolerance:
            return OptimisationResult(state, True, "gradient norm below tolerance")
        if state.iteration >= max_iter:
            return OptimisationResult(state, False, f"iteration cap {max_iter} reached")

        direction = _two_loop_direction(state)
        slope = float(direction @ state.gradient)
        if slope >= 0:
            # Rounding made the quasi-Newton direction uphill: restart from steepest descent.
            state.steps.clear()
            state.gradient_changes.clear()
            direction = -state.gradient
            slope = float(direction @ state.gradient)

        step = 1.0 if state.steps else min(1.0, initial_step / state.gradient_norm)

        def along(x, t, d):
            return evaluate(x + t * d)

        # torch's default tolerance_change of 1e-9 ends the zoom once the bracket times
        # max|d| is below it, which stalls the iteration near minimisers of flat energies.
        value, gradient, step, line_evaluations = _strong_wolfe(
            along, state.x, step, direction, state.value, state.gradient, slope, tolerance_change=1e-14
        )
        state.evaluations += line_evaluations

        if not value < state.value:
            return OptimisationResult(state, False, "line search found no decrease (stalled)")

        _update_state(state, step * direction, value, gradient, history_size)
        if callback is not None:
            callback(state)


def _two_loop_direction(state: LBFGSState) -> torch.Tensor:
    """Return ``-H g`` with H the L-BFGS inverse-Hessian approximation (Nocedal and Wright, Alg. 7.4)."""
    direction = -state.gradient.clone()
    if not state.steps:
        return direction

    curvatures = [float(s @ y) for s, y in zip(state.steps, state.gradient_changes)]
    coefficients = []
    for s, y, sy in reversed(list(zip(state.steps, state.gradient_changes, curvatures))):
        coefficient = float(s @ direction) / sy
        coefficients.append(coefficient)
        direction -= coefficient * y

    newest_change = state.gradient_changes[-1]
    direction *= curvatures[-1] / float(newest_change @ newest_change)

    for (s, y, sy), coefficient in zip(zip(state.steps, state.gradient_changes, curvatures), reversed(coefficients)):
        direction += (coefficient - float(y @ direction) / sy) * s

    return direction


def _update_state(state: LBFGSState, step: torch.Tensor, value: float, gradient: torch.Tensor, history_size: int) -> None:
    gradient_change = gradient - state.gradient

    # Keep a pair only with positive curvature, so that H stays positive definite.
    if float(step @ gradient_change) > 1e-12 * float(torch.linalg.vector_norm(step) * torch.linalg.vector_norm(gradient_change)):
        state.steps.append(step)
        state.gradient_changes.append(gradient_change)
        if len(state.steps) > history_size:
            state.steps.pop(0)
            state.gradient_changes.pop(0)

    state.x = state.x + step
    state.value = value
    state.gradient = gradient
    state.iteration += 1
