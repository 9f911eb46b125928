"""LaTeX text: escaping, number formatting and booktabs tables.

Everything here writes text that pdfLaTeX reads without extra packages beyond booktabs.
Special characters are escaped, and the few non-ASCII symbols that result texts use are
turned into math commands. Numbers use ``\\ensuremath``, so they read the same in text
and in math mode.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "MISSING",
    "escape_latex",
    "format_number",
    "format_order",
    "format_interval",
    "Column",
    "booktabs_table",
]

# Printed where a value is missing or not finite.
MISSING = "n/a"

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\ensuremath{<}",
    ">": r"\ensuremath{>}",
    "|": r"\ensuremath{|}",
}

# Symbols that result texts may contain and that pdfLaTeX's default input encoding lacks.
_SYMBOLS = {
    "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}",
    "×": r"\ensuremath{\times}",
    "−": "-",
    "–": "--",
    "—": "---",
    "∞": r"\ensuremath{\infty}",
    "α": r"\ensuremath{\alpha}",
    "β": r"\ensuremath{\beta}",
    "γ": r"\ensuremath{\gamma}",
    "θ": r"\ensuremath{\theta}",
    "σ": r"\ensuremath{\sigma}",
    "±": r"\ensuremath{\pm}",
    "≈": r"\ensuremath{\approx}",
    "→": r"\ensuremath{\to}",
}


def escape_latex(text) -> str:
    """Return ``text`` with LaTeX's special characters escaped, for use in running text.

    ``None`` and NaN become :data:`MISSING`. Characters outside ASCII that are not in the
    small table of math symbols are replaced by ``?``, so the output always compiles.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return MISSING
    pieces = []
    for character in str(text):
        if character in _ESCAPES:
            pieces.append(_ESCAPES[character])
        elif character in _SYMBOLS:
            pieces.append(_SYMBOLS[character])
        elif ord(character) < 128:
            pieces.append(character)
        else:
            pieces.append("?")
    return "".join(pieces)


def format_number(value, digits: int = 3, trim: bool = False) -> str:
    """Format a number for LaTeX with ``digits`` significant digits.

    Integers print as they are. Magnitudes in [1e-3, 1e5) print in decimal notation
    (``0.0523``), others in scientific notation inside ``\\ensuremath``
    (``\\ensuremath{8.48\\times 10^{-8}}``), and exact powers of ten as ``10^{k}``.
    With ``trim``, trailing zeros of the decimal notation are dropped (``0.01`` rather
    than ``0.0100``), for settings rather than measured values.
    Missing or non-finite values give :data:`MISSING`, booleans "yes" or "no", and text
    is escaped as it is.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, numbers.Number):
        return escape_latex(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return MISSING
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e5:
        text = _decimal(value, digits)
        return text.rstrip("0").rstrip(".") if trim and "." in text else text

    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    exponent = int(exponent)
    mantissa = mantissa.rstrip("0").rstrip(".")
    if mantissa in ("1", "-1"):
        sign = "-" if mantissa == "-1" else ""
        return rf"\ensuremath{{{sign}10^{{{exponent}}}}}"
    return rf"\ensuremath{{{mantissa}\times 10^{{{exponent}}}}}"


def _decimal(value: float, digits: int) -> str:
    """Return ``value`` rounded to ``digits`` significant digits in plain decimal notation."""
    places = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    return f"{value:.{places}f}"


def format_order(value) -> str:
    """Format an observed order with two decimals, the precision its interval supports."""
    if value is None or not math.isfinite(float(value)):
        return MISSING
    return f"{float(value):.2f}"


def format_interval(low, high) -> str:
    """Return the interval ``[low, high]`` of an order, both ends with two decimals."""
    if low is None or high is None or not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return MISSING
    return f"[{float(low):.2f}, {float(high):.2f}]"


@dataclass(frozen=True)
class Column:
    """A column of a LaTeX table: header (LaTeX), source column, formatter, alignment."""

    header: str
    key: str
    formatter: Callable[[object], str] = escape_latex
    align: str = "l"


def booktabs_table(table: pd.DataFrame, columns: Sequence[Column], group_by: str | None = None, note: str | None = None) -> str:
    """Render ``table`` as a booktabs ``tabular``, one row per table row.

    Parameters
    ----------
    table : DataFrame
    columns : sequence of Column
        The columns to print, in order. Each column's ``key`` must be a column of ``table``.
    group_by : str, optional
        A column of ``table``. A small vertical space separates rows where its value changes.
    note : str, optional
        A comment line written above the table (plain text, not typeset).

    Returns
    -------
    str
        The ``tabular`` environment, without a float around it, so that the report chooses
        the caption and placement. An empty table gets one row with the text "no data".
    """
    missing = [column.key for column in columns if column.key not in table.columns]
    if missing and not table.empty:
        raise KeyError(f"table columns {missing} not found; the table has {list(table.columns)}")

    lines = []
    if note:
        lines.append(f"% {note}")
    lines.append(r"\begin{tabular}{" + "".join(column.align for column in columns) + "}")
    lines.append(r"\toprule")
    lines.append(" & ".join(column.header for column in columns) + r" \\")
    lines.append(r"\midrule")
    if table.empty:
        lines.append(rf"\multicolumn{{{len(columns)}}}{{l}}{{no data}} \\")
    previous = None
    for _, row in table.iterrows():
        if group_by is not None and previous is not None and row[group_by] != previous:
            lines.append(r"\addlinespace")
        previous = row[group_by] if group_by is not None else None
        cells = [column.formatter(_plain(row[column.key])) for column in columns]
        lines.append(" & ".join(cells) + r" \\")
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def _plain(value):
    """Turn pandas and numpy scalars into Python values, NaN into None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value
