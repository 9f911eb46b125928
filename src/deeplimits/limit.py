"""The continuum problem: parameter estimation for ``dX/dt = sigma(K(t) X + b(t))``.

The Gamma-limit of E_N as N -> infinity (for q = p - 1, alpha > 0) is

    E_inf(theta, W, c) = (1/S) sum_s l(W X^s(1) + c, y_s) + alpha int_0^1 |theta'|^p dt
                         + beta int_0^1 |theta|^p dt + gamma (|W|^2 + |c|^2),

with ``X^s(0) = x_s``. Here theta lies in the span of Legendre polynomials of degree <= D
(:mod:`deeplimits.legendre`), a conforming subspace of W^{1,p}(0,1).

Two ODE solvers play different parts. During optimisation the state is integrated by the
classical fixed-grid RK4 method of torchdiffeq (its 3/8 rule) with the parameters evaluated
at the stage times; backpropagation through a fixed grid returns the exact gradient of the
discretised energy, so L-BFGS converges cleanly. Backpropagating through an adaptive
solver would treat its step sizes as constants and return a gradient inconsistent with the
energy. The energy of record is then re-evaluated with an adaptive Dormand-Prince solver at
a tight tolerance, with a fixed first step and a forced step at t = 1 so that X(1) is a
computed state, not an interpolated one.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, replace

import torch

from .functions import activation_function, loss_function
from .legendre import gauss_nodes, legendre_values, mass_matrix, stiffness_matrix
from .metric import SobolevMetric, metric_weights
from .regularisers import classifier_penalty, powered_norm, split_parameters
from .resnet import EnergyTerms, classify
from .settings import EnergySettings

logger = logging.getLogger(__name__)

__all__ = ["ContinuumSettings", "ContinuumParameters", "ContinuumProblem", "ode_final_state"]

ADAPTIVE_METHODS = ("dopri5", "dopri8")


@dataclass(frozen=True)
class ContinuumSettings:
    """Discretisation of the continuum problem.

    Parameters
    ----------
    degree : int, default 10
        Highest Legendre degree D of theta(t); 0 gives constant parameters.
    steps : int, default 64
        Number of uniform RK4 steps on [0, 1] during optimisation.
    rtol, atol : float, default 1e-12
        Tolerances of the adaptive solver that re-evaluates the energy of record.
    method : {"dopri8", "dopri5"}, default "dopri8"
        Adaptive torchdiffeq method of the re-evaluation.
    first_step : float, default 1/64
        First step of the adaptive solver, fixed so that its step sequence does not
        depend on the parameters through torchdiffeq's automatic first-step guess.
    """

    degree: int = 10
    steps: int = 64
    rtol: float = 1e-12
    atol: float = 1e-12
    method: str = "dopri8"
    first_step: float = 1 / 64

    def __post_init__(self) -> None:
        if isinstance(self.degree, bool) or not isinstance(self.degree, int) or self.degree < 0:
            raise ValueError(f"degree must be an integer >= 0, got {self.degree!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {self.steps!r}")
        for name in ("rtol", "atol", "first_step"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if self.method not in ADAPTIVE_METHODS:
            raise ValueError(f"unknown adaptive method {self.method!r}; choose one of {list(ADAPTIVE_METHODS)}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ContinuumParameters:
    """Continuum parameters ``theta(t) = sum_j a_j P_j(2t - 1)`` and the classifier.

    Attributes
    ----------
    coefficients : Tensor, shape (D + 1, m)
        Legendre coefficients a_j of theta = (K, b) flattened, m = n*n + n.
    W : Tensor, shape (C, n)
    c : Tensor, shape (C,)
    state_dim : int
    """

    coefficients: torch.Tensor
    W: torch.Tensor
    c: torch.Tensor
    state_dim: int

    @property
    def degree(self) -> int:
        return self.coefficients.shape[0] - 1

    def theta(self, times: torch.Tensor) -> torch.Tensor:
        """Evaluate theta at ``times`` of shape (T,); returns shape (T, m)."""
        return legendre_values(times, self.degree) @ self.coefficients

    def theta_derivative(self, times: torch.Tensor) -> torch.Tensor:
        """Evaluate theta' at ``times`` of shape (T,); returns shape (T, m)."""
        return legendre_values(times, self.degree, derivative=True) @ self.coefficients

    def layers(self, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return K(t) of shape (T, n, n) and b(t) of shape (T, n) at ``times``."""
        return split_parameters(self.theta(times), self.state_dim)

    def elevated(self, degree: int) -> "ContinuumParameters":
        """Return the same function written in a basis of higher ``degree`` (zero-padded)."""
        extra = degree - self.degree
        if extra < 0:
            raise ValueError(f"cannot lower the degree from {self.degree} to {degree}")
        padding = torch.zeros(extra, self.coefficients.shape[1], dtype=self.coefficients.dtype, device=self.coefficients.device)
        return replace(self, coefficients=torch.cat([self.coefficients, padding]))


def _vector_field(params: ContinuumParameters, activation: str):
    sigma = activation_function(activation)
    n = params.state_dim

    def field(t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        theta = legendre_values(t, params.degree) @ params.coefficients
        K = theta[: n * n].reshape(n, n)
        return sigma(state @ K.T + theta[n * n :])

    return field


def ode_final_state(
    params: ContinuumParameters,
    x: torch.Tensor,
    activation: str,
    settings: ContinuumSettings,
    adaptive: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
) -> torch.Tensor:
    """Return X(1) for ``dX/dt = sigma(K(t) X + b(t))``, ``X(0) = x``, shape (S, n).

    Parameters
    ----------
    params : ContinuumParameters
    x : Tensor, shape (S, n)
    activation : str
    settings : ContinuumSettings
    adaptive : bool, default False
        False: fixed-grid RK4 with ``settings.steps`` steps (differentiable, exact
        gradients of the discretised map). True: the adaptive method at tolerance ``rtol``
        and ``atol`` (default ``settings.rtol``, ``settings.atol``).
    """
    # torchdiffeq imports scipy.integrate, half a second that a training job, which loads
    # this module only for its settings, need not pay.
    import torchdiffeq

    field = _vector_field(params, activation)
    if not adaptive:
        # Passing the grid itself, rather than ``step_size``, avoids torchdiffeq building
        # ceil(1/h + 1) points, which for some step counts adds a last step of zero length.
        grid = torch.linspace(0, 1, settings.steps + 1, dtype=x.dtype, device=x.device)
        return torchdiffeq.odeint(field, x, grid, method="rk4")[-1]

    span = torch.tensor([0.0, 1.0], dtype=x.dtype, device=x.device)
    options = {"first_step": settings.first_step, "step_t": span[1:]}
    return torchdiffeq.odeint(
        field,
        x,
        span,
        method=settings.method,
        rtol=settings.rtol if rtol is None else rtol,
        atol=settings.atol if atol is None else atol,
        options=options,
    )[-1]


class ContinuumProblem:
    """The energy E_inf of one data set as a function of a flat unknown vector.

    Parameters
    ----------
    x : Tensor, shape (S, n)
    y : Tensor, shape (S,)
    n_classes : int
    settings : EnergySettings
    continuum : ContinuumSettings
    alpha_floor : float
        Floor of the metric's derivative weight; see :func:`deeplimits.metric.metric_weights`.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        n_classes: int,
        settings: EnergySettings,
        continuum: ContinuumSettings,
        alpha_floor: float = 0.0,
    ) -> None:
        self.x, self.y = x, y
        self.n_classes = n_classes
        self.settings = settings
        self.continuum = continuum

        degree = continuum.degree
        self.mass = torch.as_tensor(mass_matrix(degree), dtype=x.dtype, device=x.device)
        self.stiffness = torch.as_tensor(stiffness_matrix(degree), dtype=x.dtype, device=x.device)
        mass_weight, stiffness_weight = metric_weights(settings.alpha, settings.beta, settings.q, None, alpha_floor)
        gram = mass_weight * mass_matrix(degree) + stiffness_weight * stiffness_matrix(degree)
        self.metric = SobolevMetric(gram, dtype=x.dtype, device=x.device)

        n = settings.state_dim
        self.width = n * n + n
        self.layer_size = (degree + 1) * self.width

    def pack(self, params: ContinuumParameters) -> torch.Tensor:
        """Return the flat unknowns ``(L^T a, W, c)`` of ``params``."""
        phi = self.metric.coordinates_from(params.coefficients)
        return torch.cat([phi.flatten(), params.W.flatten(), params.c]).detach()

    def unpack(self, unknowns: torch.Tensor) -> ContinuumParameters:
        """Return the parameters of a flat unknown vector; differentiable."""
        n = self.settings.state_dim
        phi = unknowns[: self.layer_size].reshape(self.continuum.degree + 1, self.width)
        classifier = unknowns[self.layer_size :]
        W = classifier[: self.n_classes * n].reshape(self.n_classes, n)
        c = classifier[self.n_classes * n :]
        return ContinuumParameters(self.metric.parameters_from(phi), W, c, n)

    def penalties(self, params: ContinuumParameters) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(int |theta'|^p, int |theta|^p)`` over [0, 1].

        For p = 2 these are the quadratic forms of the stiffness and mass matrices, exact;
        otherwise Gauss-Legendre quadrature with 8(D + 1) nodes, whose error is below the
        optimisation tolerance for the smooth minimisers met here.
        """
        p = self.settings.p
        a = params.coefficients
        if p == 2:
            return (a * (self.stiffness @ a)).sum(), (a * (self.mass @ a)).sum()

        nodes, weights = gauss_nodes(8 * (params.degree + 1))
        nodes = torch.as_tensor(nodes, dtype=a.dtype, device=a.device)
        weights = torch.as_tensor(weights, dtype=a.dtype, device=a.device)
        return (weights * powered_norm(params.theta_derivative(nodes), p)).sum(), (weights * powered_norm(params.theta(nodes), p)).sum()

    def energy(self, params: ContinuumParameters, adaptive: bool = False, **tolerances) -> EnergyTerms:
        """Evaluate E_inf with the RK4 grid (``adaptive=False``) or the adaptive solver."""
        final = ode_final_state(params, self.x, self.settings.activation, self.continuum, adaptive, **tolerances)
        data = loss_function(self.settings.loss)(classify(final, params.W, params.c), self.y)
        derivative, magnitude = self.penalties(params)
        return EnergyTerms(
            data=data,
            derivative=self.settings.alpha * derivative,
            magnitude=self.settings.beta * magnitude,
            classifier=self.settings.gamma * classifier_penalty(params.W, params.c),
        )

    def objective(self, unknowns: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Return the RK4-discretised E_inf and its exact gradient."""
        unknowns = unknowns.detach().requires_grad_(True)
        total = self.energy(self.unpack(unknowns)).total
        (gradient,) = torch.autograd.grad(total, unknowns)
        return float(total.detach()), gradient
