"""Shaping tables for the reports: Swedish-formatted display frames and CSV files.

Display frames hold text (numbers already written the Swedish way), so the HTML and PDF exports
show exactly what is formatted here. CSV files hold the raw numbers (decimal point), one file per
table or figure, in ``<output_dir>/tables/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from IPython import get_ipython

from helpers.formatting import MISSING, format_number


def write_csv(frame: pd.DataFrame, output_dir: str | Path, name: str) -> Path:
    """Write ``tables/<name>.csv`` (UTF-8, no index, ``\\n`` line ends) and return its path."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def hide_default_index() -> None:
    """Show DataFrames in the running notebook without pandas' 0, 1, 2, … row numbers.

    Registers an HTML formatter for DataFrames whose index is a plain RangeIndex (a meaningful
    index is still shown); outside IPython it does nothing.
    """
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, _html_without_default_index)


def _html_without_default_index(frame: pd.DataFrame) -> str:
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    return frame.to_html(index=not plain, border=0, classes="dataframe", na_rep="")


def format_value(value: float) -> str:
    """A raw value with decimals by magnitude: 12 345 · 12,3 · 1,23; "saknas" when missing."""
    if pd.isna(value):
        return format_number(value)
    magnitude = abs(float(value))
    return format_number(value, 0 if magnitude >= 1000 else 1 if magnitude >= 10 else 2)


def _data_label(row: pd.Series) -> str:
    """Which KPI the values of a row come from, naming substitutes and derivations."""
    if pd.isna(row["data"]):
        return row["kpi"]
    if row["data"] == row["kpi"]:
        return row["kpi"]
    if "/" in row["data"]:
        return f"{row['data']} (för {row['kpi']})"
    return f"{row['data']} (ersätter {row['kpi']})"


def correlation_display(long: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """A correlation table as shown in the report, from the long table of
    ``valfard.correlation_table``: one row per variable in the given order (the index, headed
    "Variabel"), a column "Nyckeltal" naming the data used, one column per quality or cost
    measure, "saknas" where a variable has no values. The kommun's own values are not here:
    they have other units and a table of their own (:func:`own_values_display`).
    """
    corr = long[long["typ"] == "korrelation"]
    rows = list(dict.fromkeys(corr["rad"]))
    columns = list(dict.fromkeys(corr["kolumn"]))
    cells = corr.assign(
        text=[
            MISSING if pd.isna(d) else format_number(v, decimals)
            for v, d in zip(corr["varde"], corr["rad_data"], strict=True)
        ]
    )
    table = cells.pivot(index="rad", columns="kolumn", values="text").reindex(rows)[columns]
    info = corr.drop_duplicates("rad").set_index("rad")
    data = info[["rad_kpi", "rad_data"]].set_axis(["kpi", "data"], axis=1)
    table.insert(0, "Nyckeltal", data.apply(_data_label, axis=1).reindex(rows))
    table.index.name = "Variabel"
    table.columns.name = None
    return table


OWN_VALUE_DECIMALS = 1
WHOLE_UNITS = frozenset({"antal", "kronor"})
"""Units shown as whole numbers (a count or an amount in kronor has no meaningful decimal)."""
"""Decimals of the column of a kommun's own values (one number of decimals for the column;
the units differ by row and stand in their own column)."""


def own_values_display(own: pd.DataFrame, label: str) -> pd.DataFrame:
    """A kommun's own values of the correlation tables' variables: ``own`` has ``variabel,
    kpi, data, enhet, varde`` per variable; shown as Variabel (the row header), Nyckeltal (the
    data used), Enhet and the value (column ``label``; one decimal, counts and kronor whole),
    "saknas" where missing."""
    data = own[["kpi", "data"]]
    return pd.DataFrame({
        "Variabel": own["variabel"],
        "Nyckeltal": data.apply(_data_label, axis=1),
        "Enhet": own["enhet"],
        label: [format_number(v, 0 if unit in WHOLE_UNITS else OWN_VALUE_DECIMALS)
                for v, unit in zip(own["varde"], own["enhet"], strict=True)],
    })


def notes(long: pd.DataFrame) -> list[str]:
    """The distinct notes of a correlation table (substitutions, derivations, missing data)."""
    return [n for n in dict.fromkeys(long["anmarkning"].dropna()) if n]


def n_range(long: pd.DataFrame) -> tuple[int, int]:
    """Smallest and largest number of kommuner behind a computed correlation."""
    n = long.loc[(long["typ"] == "korrelation") & long["varde"].notna(), "n"]
    return (int(n.min()), int(n.max())) if len(n) else (0, 0)
