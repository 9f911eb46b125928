"""The ``deeplimits`` command line: one subcommand per stage of the workflow.

Every subcommand reads its settings from options, from a YAML file given by ``--settings``
(sections ``energy``, ``optimiser``, ``initialisation``, ``continuum``), or both, options
winning; writes its artifacts atomically; and logs what it ran and measured.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

import yaml

from . import commands
from .analysis import commands as analysis_commands
from .reporting import commands as reporting_commands
from .datasets import DATASET_NAMES
from .initialisation import INITIALISATIONS
from .limit import ADAPTIVE_METHODS
from .settings import ACTIVATIONS, LOSSES

logger = logging.getLogger("deeplimits")

__all__ = ["main", "build_parser"]


def _positive(kind):
    """Return an argparse type that parses ``kind`` and rejects values <= 0 with the value in the message."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} is not positive; pass a value > 0")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _add_energy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("energy (defaults: the --settings file, then the library defaults)")
    group.add_argument("--alpha", type=float, help="weight of the derivative penalty alpha N^q sum |theta_{k+1}-theta_k|^p (>= 0; default 1e-2)")
    group.add_argument("--beta", type=float, help="weight of the magnitude penalty beta (1/N) sum |theta_k|^p (> 0; default 1e-3)")
    group.add_argument("--gamma", type=float, help="weight of the classifier penalty gamma (|W|^2 + |c|^2) (>= 0; default 1e-3)")
    group.add_argument("--p", type=float, help="exponent p of the parameter penalties (> 1; default 2)")
    group.add_argument("--q", type=float, help="power q of N in the derivative penalty; q = p - 1 gives the ODE limit (default 1)")
    group.add_argument("--activation", choices=ACTIVATIONS, help="activation sigma (default tanh)")
    group.add_argument("--loss", choices=LOSSES, help="loss l on the class scores (default cross_entropy)")
    group.add_argument("--state-dim", type=int, help="state dimension n >= the number of features d (default d)")


def _add_optimiser_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("optimiser")
    group.add_argument("--tolerance", type=float, help="stop when the dual-metric gradient norm is below this (default 1e-6)")
    group.add_argument("--max-iter", type=int, help="L-BFGS iteration cap; reaching it is reported as not converged (default 3000)")
    group.add_argument("--history-size", type=int, help="L-BFGS curvature pairs kept (default 20)")
    group.add_argument("--alpha-floor", type=float, help="floor of the metric's derivative weight, metric only (default 0)")
    group.add_argument("--initial-step", type=float, help="length of the first step in preconditioned coordinates (default 1)")


def _add_initialisation_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("initialisation")
    group.add_argument("--init", dest="kind", choices=INITIALISATIONS, help="smooth function of t shared by all depths, or i.i.d. layers (default smooth)")
    group.add_argument("--init-scale", dest="scale", type=float, help="standard deviation of the starting parameter entries (default 0.5)")
    group.add_argument("--init-modes", dest="modes", type=int, help="cosine modes of the smooth start (default 3)")
    group.add_argument("--seed", type=int, help="base seed of the starts; restart r uses (seed, r) (default 0)")


def _add_continuum_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("continuum discretisation")
    group.add_argument("--degree", type=int, help="Legendre degree D of theta(t) (default 10)")
    group.add_argument("--steps", type=int, help="RK4 steps on [0, 1] during optimisation (default 64)")
    group.add_argument("--rtol", type=float, help="relative tolerance of the adaptive re-evaluation (default 1e-12)")
    group.add_argument("--atol", type=float, help="absolute tolerance of the adaptive re-evaluation (default 1e-12)")
    group.add_argument("--method", choices=ADAPTIVE_METHODS, help="adaptive torchdiffeq method of the re-evaluation (default dopri8)")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("run")
    group.add_argument("--data", type=Path, required=True, help="data set file written by `deeplimits make-data` (.npz)")
    group.add_argument("--settings", type=Path, help="YAML file with sections energy, optimiser, initialisation, continuum")
    group.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to compute; auto takes CUDA when present (default auto)")
    group.add_argument("--threads", type=_positive(int), help="CPU threads for torch (default: torch's choice)")
    group.add_argument("--no-progress", action="store_true", help="hide progress bars")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``deeplimits`` command."""
    parser = argparse.ArgumentParser(prog="deeplimits", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="logging level (default INFO)")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    make_data = subcommands.add_parser("make-data", help="generate or load a data set, split and standardise it")
    make_data.add_argument("--dataset", required=True, choices=DATASET_NAMES, help="data set name")
    make_data.add_argument("--out", type=Path, required=True, help="output .npz (a .json summary is written beside it)")
    make_data.add_argument("--n-samples", type=int, default=200, help="samples before the split (default 200)")
    make_data.add_argument("--noise", type=float, default=0.1, help="noise of the synthetic sets, in feature units (default 0.1)")
    make_data.add_argument("--test-fraction", type=float, default=0.25, help="fraction kept for the test split, in (0, 1) (default 0.25)")
    make_data.add_argument("--seed", type=int, default=0, help="seed of generation, subsampling and split (default 0)")
    make_data.add_argument("--pca-dim", type=int, help="reduce features to this many principal components (default: no reduction)")
    make_data.add_argument("--n-classes", type=int, help="classes of blobs and spirals")
    make_data.add_argument("--path", type=Path, help="the user's file for --dataset file (.csv or .npz)")
    make_data.add_argument("--label-column", help="label column of a CSV file")
    make_data.set_defaults(handler=commands.make_data)

    train = subcommands.add_parser("train", help="train ResNets of one depth from R starts")
    _add_run_options(train)
    train.add_argument("--depth", type=int, required=True, help="number of layers N")
    train.add_argument("--restarts", type=int, default=1, help="number R of starts; writes restart0..restart{R-1} (default 1)")
    train.add_argument("--out-dir", type=Path, required=True, help="folder of restart{r}.npz and restart{r}.json")
    train.add_argument("--checkpoint-dir", type=Path, help="folder of L-BFGS checkpoints; a rerun resumes from them")
    train.add_argument("--checkpoint-seconds", type=_positive(float), default=30.0, help="seconds between checkpoints (default 30)")
    train.add_argument("--checkpoint-iterations", type=_positive(int), help="write a checkpoint every this many iterations instead")
    for add in (_add_energy_options, _add_optimiser_options, _add_initialisation_options):
        add(train)
    train.set_defaults(handler=commands.train)

    solve = subcommands.add_parser("solve-limit", help="minimise the continuum energy E_inf from the same R starts")
    _add_run_options(solve)
    which = solve.add_mutually_exclusive_group()
    which.add_argument("--restarts", type=int, default=1, help="solve from starts 0..R-1 (default 1)")
    which.add_argument("--restart", type=int, help="solve from start r only, as one job of a workflow")
    solve.add_argument("--out-dir", type=Path, required=True, help="folder of restart{r}.npz and restart{r}.json")
    solve.add_argument(
        "--start-from",
        type=Path,
        help="trained model (.npz) whose parameters, projected onto the basis, start the solve instead of the smooth "
        "start; finds the continuum branch that a deep network reached (writes start_from metadata)",
    )
    solve.add_argument("--refine", action=argparse.BooleanOptionalAction, default=True, help="estimate the error by refinement (default on)")
    solve.add_argument("--checkpoint-dir", type=Path, help="folder of L-BFGS checkpoints; a rerun resumes from them")
    solve.add_argument("--checkpoint-seconds", type=_positive(float), default=30.0, help="seconds between checkpoints (default 30)")
    for add in (_add_energy_options, _add_optimiser_options, _add_initialisation_options, _add_continuum_options):
        add(solve)
    solve.set_defaults(handler=commands.solve_limit)

    check = subcommands.add_parser("forward-check", help="compare ResNets at fixed smooth parameters with the ODE")
    _add_run_options(check)
    check.add_argument("--depths", type=int, nargs="+", required=True, help="depths N to compare")
    check.add_argument("--out", type=Path, required=True, help="output .npz (a .json summary is written beside it)")
    check.add_argument("--limit", type=Path, help="continuum solution (.npz) to sample instead of the smooth start; gives the recovery sequence")
    check.add_argument("--restart", type=int, default=0, help="which smooth start to use without --limit (default 0)")
    for add in (_add_energy_options, _add_initialisation_options, _add_continuum_options):
        add(check)
    check.set_defaults(handler=commands.forward_check)

    analysis_commands.register(subcommands)
    reporting_commands.register(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``deeplimits`` command line; return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=arguments.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    # SIGTERM, which a batch system sends at a job's time limit, ends the run as Ctrl-C does:
    # with one line on how to resume, and without writing a result.
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        arguments.handler(arguments)
    except (ValueError, TypeError, KeyError, FileNotFoundError, FloatingPointError, yaml.YAMLError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        logger.error("%s failed: %s", arguments.command, message)
        return 1
    except (KeyboardInterrupt, Terminated) as interruption:
        logger.error(
            "%s %s; run the same command again to continue (train and solve-limit resume "
            "from their last checkpoint)", arguments.command,
            "terminated by SIGTERM" if isinstance(interruption, Terminated) else "interrupted",
        )
        return 143 if isinstance(interruption, Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    It derives from ``BaseException``, as ``KeyboardInterrupt`` does, because the signal can
    arrive while a ``logging`` handler writes a record. The handler passes any ``Exception``
    raised there to ``handleError``, which prints it and carries on.
    """


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


if __name__ == "__main__":
    sys.exit(main())
