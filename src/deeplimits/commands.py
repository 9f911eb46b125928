"""Handlers of the ``deeplimits`` subcommands: resolve settings, run, write artifacts."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from .artifacts import provenance, write_json, write_npz
from .datasets import Dataset, load_dataset, make_dataset, save_dataset
from .initialisation import InitialFunction, InitialisationSettings
from .legendre import project
from .limit import ContinuumParameters, ContinuumSettings
from .limit_solver import refinement_errors, solve_continuum
from .forward_check import forward_consistency
from .records import load_continuum, load_discrete, save_continuum, save_discrete
from .settings import EnergySettings
from .training import OptimiserSettings, accuracy, train as train_depth

logger = logging.getLogger(__name__)

SECTIONS = {
    "energy": EnergySettings,
    "optimiser": OptimiserSettings,
    "initialisation": InitialisationSettings,
    "continuum": ContinuumSettings,
}

# Degree of the Legendre projection of the smooth start in the forward check: the start has
# at most a few cosine modes of frequency below 2 pi, which degree 24 resolves to rounding.
FORWARD_CHECK_DEGREE = 24


def read_settings_file(path: Path | None) -> dict[str, dict]:
    """Read a settings YAML file and reject unknown sections by name."""
    if path is None:
        return {}
    try:
        content = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"settings file {path} is not valid YAML: {error}") from error
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a mapping with sections {sorted(SECTIONS)}, got {type(content).__name__}")
    unknown = sorted(set(content) - set(SECTIONS))
    if unknown:
        raise ValueError(f"{path}: unknown sections {unknown}; valid sections are {sorted(SECTIONS)}")
    return content


def resolve(section: str, arguments: argparse.Namespace, file_values: dict, **fallbacks):
    """Build the settings of ``section`` from defaults, ``fallbacks``, the file, then options."""
    kind = SECTIONS[section]
    values = dict(fallbacks)
    from_file = file_values.get(section) or {}
    unknown = sorted(set(from_file) - {field.name for field in dataclasses.fields(kind)})
    if unknown:
        raise ValueError(f"unknown keys {unknown} in section {section!r}; valid keys are {[field.name for field in dataclasses.fields(kind)]}")
    values.update(from_file)
    for field in dataclasses.fields(kind):
        option = getattr(arguments, field.name, None)
        if option is not None:
            values[field.name] = option
    return kind(**values)


def choose_device(name: str) -> torch.device:
    """Return the torch device for "auto", "cpu" or "cuda"; "cuda" without CUDA raises."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but torch finds no CUDA device; use --device cpu or auto")
    return torch.device(name)


def _prepare(arguments: argparse.Namespace):
    """Load the data and the energy settings shared by train, solve-limit and forward-check."""
    # Checked before any work: a long training that cannot save its result is lost.
    for option in ("out_dir", "checkpoint_dir"):
        folder = getattr(arguments, option, None)
        if folder is not None and folder.exists() and not folder.is_dir():
            raise ValueError(f"--{option.replace('_', '-')} {folder} is a file, not a folder; pass a folder path")
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    device = choose_device(arguments.device)
    file_values = read_settings_file(arguments.settings)
    dataset = load_dataset(arguments.data)
    settings = resolve("energy", arguments, file_values, state_dim=dataset.n_features)
    padded = dataset.padded(settings.state_dim)

    def tensor(values, dtype=torch.float64):
        return torch.as_tensor(values, dtype=dtype, device=device)

    tensors = {
        "x_train": tensor(padded.x_train),
        "y_train": tensor(padded.y_train, torch.int64),
        "x_test": tensor(padded.x_test),
        "y_test": tensor(padded.y_test, torch.int64),
    }
    logger.info("data %s: %d training and %d test samples, d=%d, n=%d, %d classes, device %s",
                dataset.name, len(dataset.y_train), len(dataset.y_test), dataset.n_features, settings.state_dim, dataset.n_classes, device)
    return device, file_values, dataset, settings, tensors


def make_data(arguments: argparse.Namespace) -> None:
    """Generate a data set and write it with a JSON summary."""
    if arguments.out.suffix != ".npz":
        raise ValueError(f"--out {arguments.out} must end in .npz, the format the file is written in")
    dataset = make_dataset(
        arguments.dataset,
        n_samples=arguments.n_samples,
        noise=arguments.noise,
        test_fraction=arguments.test_fraction,
        seed=arguments.seed,
        pca_dim=arguments.pca_dim,
        n_classes=arguments.n_classes,
        path=None if arguments.path is None else str(arguments.path),
        label_column=arguments.label_column,
    )
    save_dataset(dataset, arguments.out)
    write_json(arguments.out.with_suffix(".json"), _dataset_summary(dataset, vars(arguments)))
    logger.info("wrote %s", arguments.out)


def _dataset_summary(dataset: Dataset, options: dict) -> dict:
    return {
        "name": dataset.name,
        "n_train": len(dataset.y_train),
        "n_test": len(dataset.y_test),
        "n_features": dataset.n_features,
        "n_classes": dataset.n_classes,
        "options": {key: value for key, value in options.items() if key not in ("handler", "out", "log_level")},
    }


def _common_metrics(dataset, settings, init_settings, optimiser, device, restart) -> dict:
    return {
        "dataset": dataset.name,
        "n_features": dataset.n_features,
        "n_classes": dataset.n_classes,
        "restart": restart,
        "seed": init_settings.seed,
        "settings": settings.to_dict(),
        "initialisation": init_settings.to_dict(),
        "optimiser": optimiser.to_dict(),
        "device": str(device),
        "provenance": provenance(str(device)),
    }


def train(arguments: argparse.Namespace) -> None:
    """Train depth-N ResNets from ``--restarts`` starts and write one model per start."""
    device, file_values, dataset, settings, data = _prepare(arguments)
    optimiser = resolve("optimiser", arguments, file_values)
    init_settings = resolve("initialisation", arguments, file_values)
    if arguments.depth < 1:
        raise ValueError(f"--depth must be >= 1, got {arguments.depth}")
    if arguments.restarts < 1:
        raise ValueError(f"--restarts must be >= 1, got {arguments.restarts}")

    for restart in range(arguments.restarts):
        start = InitialFunction(init_settings, restart, settings.state_dim, dataset.n_classes)
        checkpoint = arguments.checkpoint_dir / f"restart{restart}.npz" if arguments.checkpoint_dir else None
        logger.info("training N=%d restart %d (%s start)", arguments.depth, restart, init_settings.kind)
        result = train_depth(
            data["x_train"], data["y_train"], dataset.n_classes, settings, arguments.depth,
            start.layers(arguments.depth), start.W, start.c, optimiser,
            {"initialisation": init_settings.to_dict(), "restart": restart},
            checkpoint=checkpoint,
            checkpoint_seconds=arguments.checkpoint_seconds,
            checkpoint_iterations=arguments.checkpoint_iterations,
            progress=not arguments.no_progress,
        )

        optimisation = result.optimisation
        metrics = {
            **_common_metrics(dataset, settings, init_settings, optimiser, device, restart),
            "depth": arguments.depth,
            "energy": result.terms.to_floats(),
            "gradient_norm": optimisation.gradient_norm,
            "iterations": optimisation.iterations,
            "evaluations": optimisation.evaluations,
            "converged": optimisation.converged,
            "stop_reason": optimisation.message,
            "resumed_from_iteration": result.resumed_from_iteration,
            "wall_time": result.wall_time,
            "train_accuracy": accuracy(result.params, data["x_train"], data["y_train"], settings.activation),
            "test_accuracy": accuracy(result.params, data["x_test"], data["y_test"], settings.activation),
        }
        save_discrete(arguments.out_dir / f"restart{restart}", result.params, metrics)
        log = logger.info if optimisation.converged else logger.warning
        log("N=%d restart %d: E_N = %.12g, gradient norm %.2e, %d iterations, %s",
            arguments.depth, restart, metrics["energy"]["total"], optimisation.gradient_norm, optimisation.iterations,
            "converged" if optimisation.converged else f"NOT converged ({optimisation.message})")


def solve_limit(arguments: argparse.Namespace) -> None:
    """Minimise E_inf from ``--restarts`` starts and write one solution per start."""
    device, file_values, dataset, settings, data = _prepare(arguments)
    optimiser = resolve("optimiser", arguments, file_values)
    init_settings = resolve("initialisation", arguments, file_values)
    continuum = resolve("continuum", arguments, file_values)
    if arguments.restart is not None:
        if arguments.restart < 0:
            raise ValueError(f"--restart must be >= 0, got {arguments.restart}")
        restarts = [arguments.restart]
    elif arguments.restarts < 1:
        raise ValueError(f"--restarts must be >= 1, got {arguments.restarts}")
    else:
        restarts = range(arguments.restarts)

    for restart in restarts:
        start = InitialFunction(init_settings, restart, settings.state_dim, dataset.n_classes)
        start_point = (start.theta, start.W, start.c)
        if arguments.start_from is not None:
            start_point = _model_start(arguments.start_from, settings.state_dim)
        checkpoint = arguments.checkpoint_dir / f"restart{restart}.npz" if arguments.checkpoint_dir else None
        logger.info("solving the continuum problem, restart %d, degree %d, from %s", restart, continuum.degree,
                    arguments.start_from or "the smooth start")
        result = solve_continuum(
            data["x_train"], data["y_train"], dataset.n_classes, settings, continuum, optimiser,
            start_point,
            {"initialisation": init_settings.to_dict(), "restart": restart, "start_from": str(arguments.start_from)},
            checkpoint=checkpoint,
            checkpoint_seconds=arguments.checkpoint_seconds,
            progress=not arguments.no_progress,
        )

        refinement = None
        if arguments.refine:
            refinement = refinement_errors(
                data["x_train"], data["y_train"], dataset.n_classes, settings, continuum, optimiser, result,
                progress=not arguments.no_progress,
            )

        optimisation = result.optimisation
        params = result.params
        metrics = {
            **_common_metrics(dataset, settings, init_settings, optimiser, device, restart),
            "continuum": continuum.to_dict(),
            "degree": continuum.degree,
            "energy": result.terms.to_floats(),
            "energy_rk4": result.terms_rk4.to_floats(),
            "gradient_norm": optimisation.gradient_norm,
            "iterations": optimisation.iterations,
            "evaluations": optimisation.evaluations,
            "converged": optimisation.converged,
            "stop_reason": optimisation.message,
            "resumed_from_iteration": result.resumed_from_iteration,
            "wall_time": result.wall_time,
            "refinement": refinement,
            "start_from": None if arguments.start_from is None else str(arguments.start_from),
            "train_accuracy": _continuum_accuracy(params, data["x_train"], data["y_train"], settings, continuum),
            "test_accuracy": _continuum_accuracy(params, data["x_test"], data["y_test"], settings, continuum),
        }
        save_continuum(arguments.out_dir / f"restart{restart}", params, metrics)
        logger.info("restart %d: E_inf = %.12g, estimated error %s", restart, metrics["energy"]["total"],
                    "not computed" if refinement is None else f"{refinement['estimate']['energy']:.2e}")


def _model_start(path: Path, state_dim: int):
    """Return a start ``(theta function, W, c)`` from the piecewise-constant interpolant of a trained model."""
    params, _ = load_discrete(Path(path).with_suffix(""))
    if params.K.shape[-1] != state_dim:
        raise ValueError(f"--start-from {path} has state dimension {params.K.shape[-1]}, but the energy uses {state_dim}; pass --state-dim {params.K.shape[-1]}")
    values = params.theta.numpy()
    depth = values.shape[0]

    def theta(times):
        # Layer of each time; the projection's Gauss nodes never fall on a grid point t_k.
        layers = np.minimum((np.asarray(times) * depth).astype(int), depth - 1)
        return values[layers]

    return theta, params.W.numpy(), params.c.numpy()


def _continuum_accuracy(params, x, y, settings, continuum) -> float:
    from .limit import ode_final_state
    from .resnet import classify

    with torch.no_grad():
        scores = classify(ode_final_state(params, x, settings.activation, continuum, adaptive=True), params.W, params.c)
    return float((scores.argmax(dim=1) == y).double().mean())


def forward_check(arguments: argparse.Namespace) -> None:
    """Compare ResNets at fixed parameters with the ODE over ``--depths``; write arrays and a summary."""
    device, file_values, dataset, settings, data = _prepare(arguments)
    continuum = resolve("continuum", arguments, file_values)
    depths = sorted(set(arguments.depths))
    if depths[0] < 1:
        raise ValueError(f"--depths must all be >= 1, got {arguments.depths}")

    if arguments.limit is not None:
        params, _ = load_continuum(arguments.limit)
        params = ContinuumParameters(*(value.to(device) for value in (params.coefficients, params.W, params.c)), params.state_dim)
        source = str(arguments.limit)
    else:
        init_settings = resolve("initialisation", arguments, file_values)
        start = InitialFunction(init_settings, arguments.restart, settings.state_dim, dataset.n_classes)
        coefficients = project(start.theta, FORWARD_CHECK_DEGREE)
        params = ContinuumParameters(*(torch.as_tensor(value, dtype=torch.float64, device=device) for value in (coefficients, start.W, start.c)), settings.state_dim)
        source = f"smooth start {arguments.restart}"

    started = time.perf_counter()
    rows = forward_consistency(params, data["x_train"], data["y_train"], dataset.n_classes, settings, continuum, depths,
                               progress=not arguments.no_progress)
    write_npz(arguments.out, rows)
    write_json(arguments.out.with_suffix(".json"), {
        "dataset": dataset.name,
        "source": source,
        "settings": settings.to_dict(),
        "continuum": continuum.to_dict(),
        "depths": depths,
        "state_error": rows["state_error"].tolist(),
        "energy_gap": rows["energy_gap"].tolist(),
        "wall_time": time.perf_counter() - started,
        "provenance": provenance(str(device)),
    })
    logger.info("wrote %s", arguments.out)
