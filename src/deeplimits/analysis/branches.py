"""Branches of continuum minimisers, and the assignment of discrete minimisers to them.

The energies are not convex, so R starts can reach different local minimisers. Continuum
minimisers from different starts that coincide up to the refinement error form one branch.
Each discrete minimiser belongs to the branch whose continuum minimiser is nearest in
L^2(0,1). Gamma-convergence predicts convergence branch by branch for isolated local
minimisers; the lowest energy over all branches is the global statement.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from ..interpolation import LegendreFunction, align
from .measures import Geometry, LimitSolution, TrainedModel, limit_distances

logger = logging.getLogger(__name__)

__all__ = [
    "TOLERANCE_FACTOR",
    "TOLERANCE_FLOOR",
    "Branch",
    "same_branch_tolerance",
    "group_branches",
    "nearest_branch",
]

# Two continuum solves of one local minimiser differ by their optimisation and
# discretisation errors, which the refinement estimate (re-solving with a higher degree, a
# halved step and a tenfold tighter gradient tolerance) measures. The factor 100 covers an
# estimate that is low by up to two orders of magnitude. Measured on moons (degree 10,
# tolerance 1e-6): three starts of one minimiser lie within 9.2e-6 of each other, about 3
# times their estimate of 3.2e-6, while the two branches of the q = 2 problem lie 6.6 apart.
TOLERANCE_FACTOR = 100.0
# An estimate: with a dual gradient norm below 1e-6 in the Sobolev metric with beta = 1e-3,
# theta lies within about 1e-6 / sqrt(beta) = 3e-5 of the minimiser in L^2. The floor stays
# above that when the refinement estimate is smaller or was not computed.
TOLERANCE_FLOOR = 1e-4


@dataclass
class Branch:
    """Continuum minimisers from several starts that coincide up to the refinement error.

    Attributes
    ----------
    index : int
        Branches are numbered by increasing energy, so branch 0 has the lowest.
    solutions : list of LimitSolution
        Members, by restart.
    representative : LimitSolution
        The member of lowest energy; distances are measured to it.
    members : int
        Number of discrete minimisers assigned to the branch.
    """

    index: int
    solutions: list[LimitSolution]
    representative: LimitSolution
    members: int = 0

    @property
    def restarts(self) -> list[int]:
        """Return the restarts whose continuum solves reached this branch, each once.

        A restart has two solves, from the smooth start and from its deepest network, and
        both may reach the same branch.
        """
        return sorted({solution.restart for solution in self.solutions})

    @property
    def energy(self) -> float:
        return self.representative.energy

    @property
    def lowest(self) -> bool:
        return self.index == 0

    @property
    def converged(self) -> bool:
        return all(solution.converged for solution in self.solutions)

    @property
    def energy_error_estimate(self) -> float:
        """Largest refinement estimate of E_inf over the members; NaN if any was not computed."""
        return max(solution.refinement_estimate("energy") for solution in self.solutions)

    @property
    def theta_error_estimate(self) -> float:
        """Largest refinement estimate of theta in L^2 over the members; NaN if any was not computed."""
        return max(solution.refinement_estimate("theta_l2") for solution in self.solutions)

    @property
    def classifier_error_estimate(self) -> float:
        return max(solution.refinement_estimate("classifier") for solution in self.solutions)


def same_branch_tolerance(first: LimitSolution, second: LimitSolution) -> float:
    """Return the distance below which two continuum minimisers count as one branch.

    ``max(TOLERANCE_FACTOR * e, TOLERANCE_FLOOR)`` with e the larger of the two refinement
    estimates of theta (L^2) plus classifier; the floor alone when an estimate is missing.
    """
    estimates = [
        solution.refinement_estimate("theta_l2") + solution.refinement_estimate("classifier")
        for solution in (first, second)
    ]
    if any(math.isnan(estimate) for estimate in estimates):
        return TOLERANCE_FLOOR
    return max(TOLERANCE_FACTOR * max(estimates), TOLERANCE_FLOOR)


def group_branches(solutions: list[LimitSolution], geometry: Geometry) -> list[Branch]:
    """Group continuum minimisers into branches.

    Two minimisers are joined when the aligned L^2 distance of theta plus the distance of
    (W, c) is below :func:`same_branch_tolerance`. Branches are the connected components of
    that relation (single linkage), numbered by increasing energy.
    """
    if not solutions:
        raise ValueError("no continuum solutions to group; pass --limit-dir with at least one restart")

    parent = list(range(len(solutions)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for i, first in enumerate(solutions):
        for j in range(i + 1, len(solutions)):
            second = solutions[j]
            distance = _solution_distance(first, second, geometry)
            tolerance = same_branch_tolerance(first, second)
            logger.debug("limit restarts %d and %d: distance %.3e, tolerance %.1e", first.restart, second.restart, distance, tolerance)
            if distance < tolerance:
                parent[root(j)] = root(i)

    components: dict[int, list[LimitSolution]] = {}
    for index, solution in enumerate(solutions):
        components.setdefault(root(index), []).append(solution)

    groups = sorted(components.values(), key=lambda members: (min(member.energy for member in members), min(member.restart for member in members)))
    branches = []
    for index, members in enumerate(groups):
        representative = min(members, key=lambda member: (member.energy, member.restart))
        branches.append(Branch(index, sorted(members, key=lambda member: member.restart), representative))
        logger.info("branch %d: restarts %s, E_inf = %.12g", index, [member.restart for member in members], representative.energy)
    return branches


def _solution_distance(first: LimitSolution, second: LimitSolution, geometry: Geometry) -> float:
    # The symmetries act linearly on theta at each t, so they act on Legendre coefficients
    # exactly as on values.
    _, W, measured = align(
        second.params.coefficients.numpy(), second.W, LegendreFunction, first.function, first.W,
        geometry.data_dim, geometry.state_dim, geometry.odd,
    )
    classifier = math.sqrt(float(((W - first.W) ** 2).sum() + ((second.c - first.c) ** 2).sum()))
    return measured["l2"] + classifier


def nearest_branch(model: TrainedModel, branches: list[Branch], geometry: Geometry) -> tuple[int, list[dict[str, float]]]:
    """Return the index of the branch nearest to a discrete minimiser, and its distances to every branch.

    Nearest means the smallest aligned L^2 distance of the piecewise-constant interpolant
    to the branch's representative; ties are broken by the classifier distance.
    """
    measured = [limit_distances(model, branch.representative, geometry) for branch in branches]
    index = min(range(len(branches)), key=lambda position: (measured[position]["l2"], measured[position]["classifier"]))
    return index, measured
