"""Tables 2–3: Pearson correlations over kommuner between the report's variables, with the
substitutes and derivations REPORT_SPEC names and the marked kommun's own values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.domain import MISSING_IN_DATA
from helpers.reports.valfard.spec import Variable


@dataclass(frozen=True)
class ResolvedVariable:
    variable: Variable
    values: pd.Series  # per kommun; all NaN when missing
    used: str | None  # what the values are: a KPI id, "N01951/N02993", or None when missing
    note: str

    @property
    def label(self) -> str:
        """The row's name: what the values shown are (a substitute's own name when used)."""
        var = self.variable
        if var.substitute_label and self.used == var.substitute:
            return var.substitute_label
        return var.label


def resolve_variable(var: Variable, wide: pd.DataFrame) -> ResolvedVariable:
    """The values of a table variable: the KPI itself, a derivation, a substitute, or missing."""

    def has(kpi: str | None) -> bool:
        return kpi is not None and kpi in wide.columns and wide[kpi].notna().any()

    if has(var.kpi):
        return ResolvedVariable(var, wide[var.kpi], var.kpi, "")
    if var.derive and all(has(k) for k in var.derive):
        num, den = var.derive
        values = wide[num] / wide[den].where(wide[den] > 0)
        note = f"{var.kpi} saknas i data; beräknat som {var.derive_text}."
        return ResolvedVariable(var, values, f"{num}/{den}", note)
    if has(var.substitute):
        note = f"{var.kpi} saknas i data; ersatt med {var.substitute_text or var.substitute}."
        return ResolvedVariable(var, wide[var.substitute], var.substitute, note)
    empty = pd.Series(np.nan, index=wide.index)
    return ResolvedVariable(var, empty, None, f"{var.kpi} {MISSING_IN_DATA}.")


def pairwise_pearson(x: pd.DataFrame, y: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of every column of ``x`` with every column of ``y`` over the kommuner where
    both are present (NaN below 3 kommuner), and those numbers of kommuner."""
    both = pd.concat([x, y], axis=1, ignore_index=True)
    r = both.corr(min_periods=3).to_numpy()[: x.shape[1], x.shape[1]:]
    n = x.notna().to_numpy(int).T @ y.notna().to_numpy(int)
    return r, n


def correlation_table(
    wide: pd.DataFrame,
    rows: Sequence[Variable],
    columns: Sequence[Variable],
    *,
    year: int,
    kommun: str | None = None,
) -> pd.DataFrame:
    """Long table: one line per (row, column) with r and n, plus the kommun's own values.

    Columns: ``ar, typ, rad, rad_kpi, rad_data, kolumn, kolumn_kpi, kolumn_data, varde, n,
    anmarkning, kommun``; ``typ`` is "korrelation" or "kommunvarde" (the marked kommun's value
    of the row variable, or of the column variable on the row "Värde för <kommun>").
    """
    resolved_rows = [resolve_variable(v, wide) for v in rows]
    resolved_cols = [resolve_variable(v, wide) for v in columns]
    r_all, n_all = pairwise_pearson(
        pd.concat([r.values for r in resolved_rows], axis=1, ignore_index=True),
        pd.concat([c.values for c in resolved_cols], axis=1, ignore_index=True),
    )
    records = []
    for i, r in enumerate(resolved_rows):
        for j, c in enumerate(resolved_cols):
            note = r.note or (MISSING_IN_DATA if r.used is None else "")
            value = float(r_all[i, j])
            records.append(_table_record("korrelation", r, c, value, int(n_all[i, j]), note))
    if kommun is not None:
        records += _kommun_records(resolved_rows, resolved_cols, kommun)
    out = pd.DataFrame.from_records(records)
    out.insert(0, "ar", year)
    return out


def _table_record(typ, row, col, value, n, note, kommun=None) -> dict:
    return {
        "typ": typ,
        "rad": row.label if row else None,
        "rad_kpi": row.variable.kpi if row else None,
        "rad_data": row.used if row else None,
        "kolumn": col.label if col else None,
        "kolumn_kpi": col.variable.kpi if col else None,
        "kolumn_data": col.used if col else None,
        "varde": value,
        "n": n,
        "anmarkning": note,
        "kommun": kommun,
    }


def _kommun_records(rows, cols, kommun: str) -> list[dict]:
    def value(r: ResolvedVariable) -> float:
        return float(r.values.get(kommun, np.nan))

    records = []
    for r in rows:
        v = value(r)
        records.append(_table_record("kommunvarde", r, None, v, int(pd.notna(v)), r.note, kommun))
    for c in cols:
        v = value(c)
        records.append(_table_record("kommunvarde", None, c, v, int(pd.notna(v)), c.note, kommun))
    return records
