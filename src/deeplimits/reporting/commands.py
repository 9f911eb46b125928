"""Subcommands of the `deeplimits` command line for the reporting stage: ``figure``, ``table``, ``macros``.

Each handler imports its module (and with it matplotlib or pandas) when it runs, so that
building the parser for another subcommand costs nothing.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .names import FIGURE_NAMES, TABLE_NAMES

__all__ = ["register"]


def register(subcommands: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the `deeplimits` parser."""
    figure = subcommands.add_parser("figure", help="draw one figure of the report from the results folder (PDF and PNG)")
    figure.add_argument("name", choices=sorted(FIGURE_NAMES), help="figure to draw")
    _add_common_options(figure)
    figure.add_argument("--out-prefix", type=Path, required=True, help="writes PREFIX.pdf and PREFIX.png")
    figure.set_defaults(handler=run_figure)

    table = subcommands.add_parser("table", help="build one table of the report from the results folder (CSV and LaTeX)")
    table.add_argument("name", choices=sorted(TABLE_NAMES), help="table to build")
    _add_common_options(table)
    table.add_argument("--out-prefix", type=Path, required=True, help="writes PREFIX.csv and PREFIX.tex (booktabs)")
    table.set_defaults(handler=run_table)

    macros = subcommands.add_parser("macros", help=r"write the LaTeX macros \dl{KEY} through which the report quotes numbers")
    _add_common_options(macros)
    macros.add_argument("--out", type=Path, required=True, help="output file, normally results/tables/macros.tex")
    macros.set_defaults(handler=run_macros)


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results"), help="the workflow's results folder (default results)")
    parser.add_argument("--datasets", nargs="+", required=True, help="data set names to include")


def _check_results(arguments: argparse.Namespace) -> None:
    # A wrong folder would give an empty figure or table that looks like a finished one.
    if not arguments.results.is_dir():
        raise FileNotFoundError(f"--results {arguments.results} is not a folder; pass the workflow's results folder")


def _quiet_font_subsetting() -> None:
    # fontTools logs every table it prunes at INFO while matplotlib embeds fonts in a PDF.
    logging.getLogger("fontTools").setLevel(logging.WARNING)


def run_figure(arguments: argparse.Namespace) -> None:
    """Handle ``deeplimits figure``."""
    from .figures import make_figure

    _check_results(arguments)
    _quiet_font_subsetting()
    make_figure(arguments.name, arguments.results, arguments.datasets, arguments.out_prefix)


def run_table(arguments: argparse.Namespace) -> None:
    """Handle ``deeplimits table``."""
    from .tables import make_table

    _check_results(arguments)
    make_table(arguments.name, arguments.results, arguments.datasets, arguments.out_prefix)


def run_macros(arguments: argparse.Namespace) -> None:
    """Handle ``deeplimits macros``."""
    from .macros import write_macros

    _check_results(arguments)
    write_macros(arguments.results, arguments.datasets, arguments.out)
