"""Reporting stage of the workflow: figures, tables and the LaTeX macros of the report.

Everything is read from the workflow's ``results/`` folder in the formats of
results/README.md. See :mod:`deeplimits.reporting.figures`,
:mod:`deeplimits.reporting.tables` and :mod:`deeplimits.reporting.macros`.
"""

from .figures import FIGURES, make_figure
from .loading import ResultsTree
from .macros import macro_keys, macro_values, write_macros
from .tables import TABLES, make_table

__all__ = ["FIGURES", "TABLES", "ResultsTree", "make_figure", "make_table", "macro_keys", "macro_values", "write_macros"]
