"""Benchmark: L-BFGS iterations and wall time per depth, with and without preconditioning.

Trains the baseline energy on moons (200 samples, restart 0) at each depth twice: with the
discrete Sobolev preconditioner of deeplimits.metric, and as plain L-BFGS on (K_k, b_k)
(the metric replaced by the identity). Both stop on the same rule, the gradient norm in the
dual Sobolev metric below the tolerance, or at the iteration cap. Writes a CSV and prints a
Markdown table.

    python benchmarks/bench_training.py --depths 4 16 64 256 --out benchmarks/results/training.csv
"""

from __future__ import annotations

import argparse
import csv
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch

from deeplimits.datasets import make_dataset
from deeplimits.initialisation import InitialFunction, InitialisationSettings
from deeplimits.metric import SobolevMetric, metric_weights
from deeplimits.optimise import minimise, start
from deeplimits.regularisers import split_parameters
from deeplimits.resnet import DiscreteParameters
from deeplimits.settings import EnergySettings
from deeplimits.training import DiscreteProblem, OptimiserSettings


def run(depth: int, preconditioned: bool, optimiser: OptimiserSettings, x, y) -> dict:
    settings = EnergySettings()
    problem = DiscreteProblem(x, y, 2, settings, depth, optimiser)
    dual = SobolevMetric.discrete(depth, *metric_weights(settings.alpha, settings.beta, settings.q, depth, 0.0))
    if not preconditioned:
        problem.metric = SobolevMetric(np.eye(depth))

    first = InitialFunction(InitialisationSettings(), 0, 2, 2)
    K, b = split_parameters(torch.as_tensor(first.layers(depth)), 2)
    initial = problem.pack(DiscreteParameters(K, b, torch.as_tensor(first.W), torch.as_tensor(first.c)))

    def dual_norm(gradient: torch.Tensor) -> float:
        # In theta coordinates the gradient's dual norm is |L^{-1} g|; in phi coordinates
        # (preconditioned) it is the Euclidean norm already.
        if preconditioned:
            return float(torch.linalg.vector_norm(gradient))
        layers = gradient[: problem.layer_size].reshape(depth, -1)
        scaled = torch.linalg.solve_triangular(dual.factor, layers, upper=False)
        return float(torch.sqrt((scaled**2).sum() + (gradient[problem.layer_size :] ** 2).sum()))

    # Stop on the dual norm in both runs: a tolerance far below reach, checked by hand.
    state = start(problem.objective, initial)
    started = time.perf_counter()
    converged = False
    while state.iteration < optimiser.max_iter:
        result = minimise(problem.objective, state, tolerance=0.0, max_iter=state.iteration + 1, history_size=optimiser.history_size)
        state = result.state
        if dual_norm(state.gradient) <= optimiser.tolerance:
            converged = True
            break
        if result.message.startswith("line search"):
            break
    wall = time.perf_counter() - started
    return {
        "depth": depth,
        "preconditioned": preconditioned,
        "converged": converged,
        "iterations": state.iteration,
        "evaluations": state.evaluations,
        "dual_gradient_norm": dual_norm(state.gradient),
        "energy": state.value,
        "wall_time_s": round(wall, 3),
        "seconds_per_iteration": round(wall / max(state.iteration, 1), 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[4, 16, 64, 256, 1024])
    parser.add_argument("--max-iter", type=int, default=3000, help="iteration cap of both runs")
    parser.add_argument("--plain-max-depth", type=int, default=256, help="skip plain L-BFGS above this depth")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/training.csv"))
    arguments = parser.parse_args()

    torch.set_num_threads(1)
    data = make_dataset("moons", n_samples=200, seed=0)
    x, y = torch.as_tensor(data.x_train), torch.as_tensor(data.y_train)
    optimiser = OptimiserSettings(max_iter=arguments.max_iter)

    rows = []
    for depth in arguments.depths:
        for preconditioned in (True, False):
            if not preconditioned and depth > arguments.plain_max_depth:
                continue
            rows.append(run(depth, preconditioned, optimiser, x, y))
            print(rows[-1], flush=True)

    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    with arguments.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmachine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, torch {torch.__version__}, 1 thread; peak RSS {peak:.0f} MiB\n")
    print("| N | preconditioned | converged | iterations | wall time (s) | s/iteration |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['depth']} | {row['preconditioned']} | {row['converged']} | {row['iterations']} | {row['wall_time_s']} | {row['seconds_per_iteration']} |")


if __name__ == "__main__":
    main()
