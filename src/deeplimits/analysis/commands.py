"""Subcommands of the `deeplimits` command line for the analysis stage: ``analyse`` and ``claims``.

Each handler imports the analysis modules (and with them pandas and jsonschema) when it
runs, so that building the parser for another subcommand costs nothing.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..artifacts import atomic_path, write_json

logger = logging.getLogger(__name__)


def register(subcommands: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the `deeplimits` parser."""
    analyse = subcommands.add_parser("analyse", help="measure the models of one study against each other and the limit; fit orders")
    analyse.add_argument("--data", type=Path, required=True, help="data set file written by `deeplimits make-data` (.npz)")
    analyse.add_argument("--models-dir", type=Path, required=True, help="folder with N{depth}/restart{r}.npz and .json")
    analyse.add_argument("--depths", type=int, nargs="+", required=True, help="depths N to analyse")
    analyse.add_argument("--restarts", type=int, required=True, help="number R of restarts; analyses restart0..restart{R-1}")
    analyse.add_argument("--limit-dir", type=Path, help="folder with restart{r}.npz and .json of the continuum minimisers; omit for a study without a limit")
    analyse.add_argument("--study", required=True, help="study name, copied into the tables")
    analyse.add_argument("--out-prefix", type=Path, required=True, help="writes PREFIX.csv, PREFIX_branches.csv and PREFIX_rates.json")
    analyse.add_argument("--fit-min-depth", type=int, default=16, help="smallest depth of the asymptotic range of the order fits (default 16)")
    analyse.add_argument("--no-progress", action="store_true", help="hide progress bars")
    analyse.set_defaults(handler=run_analyse)

    claims = subcommands.add_parser("claims", help="compute the verdict of each claim C1..C9 from the analysis and forward-check files")
    claims.add_argument("--analysis-dir", type=Path, required=True, help="folder with {dataset}/{study}.csv, _branches.csv and _rates.json")
    claims.add_argument("--forward-dir", type=Path, required=True, help="folder with {dataset}/consistency.npz and recovery_restart{r}.npz")
    claims.add_argument("--datasets", nargs="+", required=True, help="data set names to judge the claims on")
    claims.add_argument("--thresholds", type=Path, help="YAML or JSON file with the claims thresholds (default: the schema's defaults)")
    claims.add_argument("--schema", type=Path, help="JSON Schema of the thresholds (default: workflow/schemas/claims.schema.yaml of the source tree)")
    claims.add_argument("--out-prefix", type=Path, required=True, help="writes PREFIX.csv and PREFIX.json")
    claims.set_defaults(handler=run_claims)


def run_analyse(arguments: argparse.Namespace) -> None:
    """Handle ``deeplimits analyse``: write the model table, the branch table and the rates."""
    from ..datasets import load_dataset
    from .study import BRANCH_COLUMNS, MODEL_COLUMNS, analyse_study

    dataset = load_dataset(arguments.data)
    analysis = analyse_study(
        dataset,
        arguments.models_dir,
        arguments.depths,
        arguments.restarts,
        arguments.study,
        limit_dir=arguments.limit_dir,
        fit_min_depth=arguments.fit_min_depth,
        progress=not arguments.no_progress,
    )

    prefix = arguments.out_prefix
    write_csv(prefix.with_name(prefix.name + ".csv"), analysis.rows, MODEL_COLUMNS)
    write_csv(prefix.with_name(prefix.name + "_branches.csv"), analysis.branch_rows, BRANCH_COLUMNS)
    write_json(prefix.with_name(prefix.name + "_rates.json"), analysis.rates)
    logger.info("wrote %s.csv, %s_branches.csv and %s_rates.json", prefix, prefix, prefix)


def run_claims(arguments: argparse.Namespace) -> None:
    """Handle ``deeplimits claims``: judge each claim and write ``PREFIX.csv`` and ``PREFIX.json``."""
    from .claims import CLAIM_COLUMNS, evaluate_claims
    from .thresholds import load_thresholds

    # A wrong folder would give a valid-looking table in which every claim is INCONCLUSIVE.
    for option, folder in (("--analysis-dir", arguments.analysis_dir), ("--forward-dir", arguments.forward_dir)):
        if not folder.is_dir():
            raise FileNotFoundError(f"{option} {folder} is not a folder; pass the folder that `deeplimits analyse` or `forward-check` wrote to")
    thresholds = load_thresholds(arguments.thresholds, arguments.schema)
    verdicts = evaluate_claims(arguments.analysis_dir, arguments.forward_dir, arguments.datasets, thresholds)

    prefix = arguments.out_prefix
    write_csv(prefix.with_name(prefix.name + ".csv"), [verdict.row() for verdict in verdicts], CLAIM_COLUMNS)
    write_json(prefix.with_name(prefix.name + ".json"), {
        "datasets": arguments.datasets,
        "thresholds": thresholds,
        "claims": [verdict.to_dict() for verdict in verdicts],
    })
    for verdict in verdicts:
        logger.info("%s %s: %s", verdict.id, verdict.verdict, verdict.evidence)


def write_csv(path: Path, rows: list[dict], columns: tuple[str, ...]) -> None:
    """Write rows as CSV atomically, with booleans as ``true``/``false`` and missing values empty."""
    import pandas as pd

    table = pd.DataFrame(list(rows), columns=list(columns))
    for column in table.columns:
        if table[column].map(lambda value: isinstance(value, bool)).any():
            table[column] = table[column].map(lambda value: str(value).lower() if isinstance(value, bool) else value)
    with atomic_path(path, suffix=".csv") as temporary:
        table.to_csv(temporary, index=False)
