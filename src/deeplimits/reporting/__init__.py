"""Reporting stage of the workflow: figures, tables and the LaTeX macros of the report.

Everything is read from the workflow's ``results/`` folder in the formats of
results/README.md. See :mod:`deeplimits.reporting.figures`,
:mod:`deeplimits.reporting.tables` and :mod:`deeplimits.reporting.macros`.
"""

from .._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".figures": ("FIGURES", "make_figure"),
    ".loading": ("ResultsTree",),
    ".macros": ("macro_keys", "macro_values", "write_macros"),
    ".tables": ("TABLES", "make_table"),
})
