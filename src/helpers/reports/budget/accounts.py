"""SKR's resultaträkning as published and the check of its sums.

The resultaträkning is read from ``data/raw/skr/resultatrakning_2024.csv``, a committed
transcription of the published table (the figures are facts of the source document). Its sums are
checked against their parts: a published sum that differs from the sum of the rounded rows is
reported as a rounding difference, never corrected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.formatting import escape_markdown as md
from helpers.formatting import format_number
from helpers.rendering.notebook import Table

RESULTATRAKNING_FILE = paths.SKR_RAW_DIR / "resultatrakning_2024.csv"
RESULTATRAKNING_DOCUMENT = "SKR:s verksamhetsplan med budget 2024"
"""The published document the resultaträkning is transcribed from (its ``# Källa:`` line)."""
RESULTATRAKNING_COLUMNS = {
    "budget_2023": "Budget 2023",
    "prognos_t2_2023": "Prognos T2 2023",
    "budget_2024": "Budget 2024",
}
"""Value columns of the transcription → their headings in the published table."""
CHANGE_COLUMN = "Förändring budget 2023–2024"


def load_resultatrakning(path: str | Path | None = None) -> pd.DataFrame:
    """The transcribed table: ``nr, rad, typ (rubrik|post|summa), summa_av`` and the value
    columns (nullable integers, mkr). ``attrs["source"]`` holds the file's source lines."""
    path = Path(path) if path is not None else RESULTATRAKNING_FILE
    table = pd.read_csv(path, comment="#", dtype={"summa_av": "string", "rad": "string",
                                                  "typ": "string"})
    for column in RESULTATRAKNING_COLUMNS:
        table[column] = table[column].astype("Int64")
    table["summa_av"] = table["summa_av"].fillna("")
    table.attrs["source"] = resultatrakning_source(path)
    return table


def resultatrakning_source(path: str | Path | None = None) -> str:
    """The document and page the transcription names (its first ``# Källa:`` line)."""
    path = Path(path) if path is not None else RESULTATRAKNING_FILE
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Källa:"):
            return line.removeprefix("#").strip()
    raise ValueError(f"{path} names no source (a '# Källa:' line). Fix: add it.")


def resultatrakning_table(rr: pd.DataFrame) -> pd.DataFrame:
    """The published table with its headings, plus the change Budget 2023 → Budget 2024."""
    table = rr[["rad", *RESULTATRAKNING_COLUMNS]].rename(columns=RESULTATRAKNING_COLUMNS)
    table[CHANGE_COLUMN] = rr["budget_2024"] - rr["budget_2023"]
    return table.rename(columns={"rad": "Rad"}).reset_index(drop=True)


def _parts(formula: str) -> list[int]:
    return [int(part) for part in formula.split("+")]


def sum_check(rr: pd.DataFrame) -> pd.DataFrame:
    """Every published sum against the sum of its published parts, per value column.

    A difference is the published sum minus the sum of the parts. Each part is rounded to whole
    mkr, so up to half a unit per part (and per sum) can be lost: a difference within that bound
    is a rounding difference; a larger one is reported as larger than rounding explains. The
    published figures are never changed.
    """
    by_nr = rr.set_index("nr")
    rows = []
    for _, row in rr[rr["typ"] == "summa"].iterrows():
        parts = _parts(row["summa_av"])
        for column, heading in RESULTATRAKNING_COLUMNS.items():
            values = [int(by_nr.at[nr, column]) for nr in parts]
            computed = sum(values)
            published = int(row[column])
            difference = published - computed
            rows.append({
                "Rad": row["rad"],
                "Kolumn": heading,
                "Publicerad summa": published,
                "Delar": " + ".join(f"({by_nr.at[nr, 'rad']} {format_number(v)})"
                                    for nr, v in zip(parts, values, strict=True)),
                "Summa av delarna": computed,
                "Differens": difference,
                "Bedömning": _assessment(difference, len(parts)),
            })
    return pd.DataFrame(rows)


def _assessment(difference: int, n_parts: int) -> str:
    if difference == 0:
        return "stämmer"
    if abs(difference) <= math.ceil((n_parts + 1) / 2):
        return "avrundningsdifferens"
    return "större än avrundning förklarar"


def rounding_differences(check: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`kontroll` where the published sum differs from its parts."""
    return check[check["Differens"] != 0].reset_index(drop=True)


def swedish_display(table: pd.DataFrame, decimals: Mapping[str, int] | None = None,
                    missing: str = "saknas", blank_rows: Sequence[int] = ()) -> pd.DataFrame:
    """The table as text, numbers written the Swedish way (``format_number``: thin-space
    thousands, decimal comma, minus sign); HTML and PDF show exactly this, right-aligned.

    ``decimals`` maps numeric columns to their decimals (default 0 for every numeric column).
    Missing numbers read ``missing``, except in ``blank_rows`` (headings), which stay empty.
    """
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    decimals = {c: 0 for c in numeric} | dict(decimals or {})
    out = table.copy()
    for column, places in decimals.items():
        out[column] = [format_number(None if pd.isna(x) else float(x), places, missing=missing)
                       for x in table[column]]
    for row in blank_rows:
        out.loc[row, list(decimals)] = ""
    return out.fillna("")


def published_table(rr: pd.DataFrame) -> Table:
    """Tabell 1: the resultaträkning as published, with the change Budget 2023 → 2024; the
    headings without amounts ("Intäkter", "Kostnader") head row groups that run to their sum."""
    table = resultatrakning_table(rr)
    shown = swedish_display(table)
    shown.insert(0, "Del", _heading_groups(rr))
    shown = shown[(rr["typ"] != "rubrik").to_numpy()].reset_index(drop=True)
    return Table(shown, 1, "Förbundets resultaträkning (mkr)", data=table, name="budget_skr",
                 source=rr.attrs["source"], group="Del")


def _heading_groups(rr: pd.DataFrame) -> list[str]:
    """Per row, the heading ("rubrik") above it, up to and including the sum that closes it;
    "" for rows outside a heading (the results)."""
    groups, current = [], ""
    for rad, typ in zip(rr["rad"], rr["typ"], strict=True):
        if typ == "rubrik":
            current = rad
        groups.append(current)
        if typ == "summa":
            current = ""
    return groups


def check_table(rr: pd.DataFrame) -> Table:
    """Tabell 2: every published sum against the sum of its published parts."""
    check = sum_check(rr)
    shown = swedish_display(check)[["Rad", "Kolumn", "Publicerad summa", "Summa av delarna",
                                    "Differens", "Bedömning", "Delar"]]
    return Table(shown, 2, "Kontroll av summorna", data=check, group="Rad",
                 name="budget_skr_kontroll",
                 source=f"Egen kontroll av de publicerade talen. {rr.attrs['source']}",
                 note=sum_check_text(rr))


def sum_check_text(rr: pd.DataFrame) -> str:
    """The rounding differences found, in Swedish."""
    found = rounding_differences(sum_check(rr))
    if found.empty:
        return "Alla publicerade summor stämmer med summan av sina delar."
    items = "; ".join(
        f"{md(r['Rad'])}, {md(r['Kolumn'])}: publicerat {format_number(r['Publicerad summa'])}, "
        f"delarna ger {format_number(r['Summa av delarna'])} "
        f"(differens {format_number(r['Differens'])})" for _, r in found.iterrows())
    return (f"{len(found)} publicerade summor skiljer sig från summan av de avrundade delarna: "
            f"{items}. Skillnaderna är avrundningsdifferenser (delarna är avrundade till hela "
            f"mkr); tabellen återges som publicerad, utan rättelser.")
