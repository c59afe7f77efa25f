"""The nulägesanalys of one unit, per indicator: latest value, Riket, the kommungrupp mean (or
the mean of all regions), the mean of a "Liknande kommuner/regioner" group, rank and
percentile, 5-year trend, the K/M gap, and the deviation from the comparison group in standard
deviations across all kommuner (regions); "bättre"/"sämre" only where the parameters state
the direction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.formatting import format_number
from helpers.reports.agenda2030.selection import goal_labels
from helpers.reports.agenda2030.spec import (
    BETTER,
    RIKET,
    STATUS_SERVED,
    TREND_MIN_VALUES,
    TREND_YEARS,
    WORSE,
)


def _t_values(values: pd.DataFrame) -> pd.DataFrame:
    return values[(values["gender"] == "T") & values["value"].notna()]


def _trend(series: pd.Series, year: int) -> float:
    """Least-squares slope per year over ``year - 4 … year`` (at least 3 values), else NaN."""
    window = series[(series.index > year - TREND_YEARS) & (series.index <= year)]
    if len(window) < TREND_MIN_VALUES:
        return np.nan
    return float(np.polyfit(window.index.astype(float), window.to_numpy(float), 1)[0])


@dataclass(frozen=True)
class _Comparison:
    """Who a unit is compared with in the nulägesanalys (see :func:`build_nulage`)."""

    unit: str
    units: list[str]
    group: list[str]
    liknande: list[str]
    directions: dict[str, str]

    def row(self, row: Any, kpi_values: pd.DataFrame, gendered: pd.DataFrame) -> dict[str, Any]:
        """The nulägesanalys row of one indicator (``kpi_values``: its T values, all units)."""
        own = kpi_values[kpi_values["municipality"] == self.unit].set_index("period")["value"]
        if own.empty:
            return _empty_row(row)
        year = int(own.index.max())
        same_year = kpi_values[kpi_values["period"] == year].set_index("municipality")["value"]
        peers = same_year.reindex(self.units).dropna()
        group_values = same_year.reindex(self.group).dropna()
        liknande_values = same_year.reindex(self.liknande).dropna()
        value = float(own[year])
        sd = float(peers.std(ddof=1)) if len(peers) > 1 else np.nan
        group_mean = float(group_values.mean()) if len(group_values) else np.nan
        liknande_mean = float(liknande_values.mean()) if len(liknande_values) else np.nan
        comparison = liknande_mean if self.liknande else group_mean
        kvinnor = _gender_value(gendered, row.kpi, year, "K")
        man = _gender_value(gendered, row.kpi, year, "M")
        deviation = (value - comparison) / sd if sd and not np.isnan(sd) else np.nan
        direction = self.directions.get(row.kpi)
        ranked = self.unit in peers.index
        return {
            "mal": row.mal, "malnamn": row.malnamn, "kpi": row.kpi, "titel": row.titel,
            "ar": year, "varde": value,
            "riket": float(same_year[RIKET]) if RIKET in same_year.index else np.nan,
            "grupp_medel": group_mean, "grupp_n": len(group_values),
            "liknande_medel": liknande_mean, "liknande_n": len(liknande_values),
            "rang": int((peers > value).sum() + 1) if ranked else pd.NA, "antal": len(peers),
            "percentil": 100 * ((peers < value).sum() + 0.5 * ((peers == value).sum() - 1))
            / (len(peers) - 1) if len(peers) > 1 and ranked else np.nan,
            "trend_per_ar": _trend(own.sort_index(), year),
            "kvinnor": kvinnor, "man": man, "skillnad_k_m": kvinnor - man,
            "sd": sd, "jamforelse": comparison, "avvikelse_sd": deviation,
            "riktning": direction or "", "bedomning": _judgement(deviation, direction),
        }


def build_nulage(unit: str, selection: pd.DataFrame, values: pd.DataFrame, units: Sequence[str],
                 kommungrupp: Sequence[str] | None = None,
                 liknande: Sequence[str] | None = None,
                 directions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The nulägesanalys of ``unit``: one row per indicator with values for it.

    For the unit's latest year with a value: ``varde``; ``riket`` (0000); ``grupp_medel``/
    ``grupp_n``: the unweighted mean over ``kommungrupp`` (kommun level: the unit's kommungrupp;
    region level: None = all regions); ``liknande_medel``/``liknande_n`` over ``liknande``;
    ``rang`` (1 = highest value) among ``units`` with a value (``antal``), ``percentil`` (share
    of those with a lower value, ties counting half, in %); ``trend_per_ar`` (slope over the 5
    latest years); ``kvinnor``, ``man``, ``skillnad_k_m`` (K − M) where divided by gender;
    ``sd`` (standard deviation across ``units``); ``jamforelse`` = the Liknande mean when given,
    else the group mean; ``avvikelse_sd`` = (varde − jamforelse) / sd; ``riktning`` and
    ``bedomning`` ("bättre"/"sämre") only where ``directions`` states the desired direction.
    """
    comparison = _Comparison(unit, list(units),
                             list(kommungrupp) if kommungrupp is not None else list(units),
                             list(liknande) if liknande else [], dict(directions or {}))
    served = selection[selection["status"] == STATUS_SERVED]
    t = _t_values(values)
    by_kpi = dict(tuple(t[t["kpi"].isin(served["kpi"])].groupby("kpi")))
    gendered = values[values["gender"].isin(["K", "M"]) & values["value"].notna()
                      & (values["municipality"] == unit)]
    rows = []
    for row in served.itertuples(index=False):
        kpi_values = by_kpi.get(row.kpi)
        if kpi_values is not None:
            rows.append(comparison.row(row, kpi_values, gendered))
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for column in ("rang", "ar", "antal", "grupp_n", "liknande_n"):
        table[column] = table[column].astype("Int64")
    return table


def _empty_row(row: Any) -> dict[str, Any]:
    return {"mal": row.mal, "malnamn": row.malnamn, "kpi": row.kpi, "titel": row.titel,
            "ar": pd.NA, "varde": np.nan, "riktning": "", "bedomning": ""}


def _gender_value(gendered: pd.DataFrame, kpi: str, year: int, gender: str) -> float:
    rows = gendered[(gendered["kpi"] == kpi) & (gendered["period"] == year)
                    & (gendered["gender"] == gender)]
    return float(rows["value"].iloc[0]) if len(rows) else np.nan


def _judgement(deviation: float, direction: str | None) -> str:
    if direction is None or np.isnan(deviation) or deviation == 0:
        return ""
    better = deviation > 0 if direction == "högre" else deviation < 0
    return BETTER if better else WORSE


def standing_out(nulage: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` indicators deviating most from the comparison group (|avvikelse_sd|)."""
    if nulage.empty:
        return nulage
    chosen = nulage.dropna(subset=["avvikelse_sd"])
    order = chosen["avvikelse_sd"].abs().sort_values(ascending=False).index
    return chosen.loc[order[:n]].reset_index(drop=True)


VALUE_DECIMALS = 1
"""Decimals of every value column of the nulägesanalys (the KPI's value, Riket, the group
means, the trend, K − M): one number of decimals per column, as a table sets it. The rows hold
different KPIs (the unit is in each KPI's title); the CSV keeps every digit."""


def _value_text(x: Any) -> str:
    return format_number(None if x is None or pd.isna(x) else float(x), VALUE_DECIMALS)


def nulage_display(nulage: pd.DataFrame, group_label: str, liknande_label: str | None,
                   unit_label: str) -> pd.DataFrame:
    """The nulägesanalys as shown: per goal ("Mål", the row groups), the KPI's title (the row
    header), id, year and values, one number of decimals per column, "saknas" where missing;
    "K − M" empty where the KPI is not divided by gender."""
    out = pd.DataFrame({
        "Mål": goal_labels(nulage),
        "Nyckeltal": nulage["titel"],
        "Id": nulage["kpi"],
        "År": [str(y) if pd.notna(y) else "saknas" for y in nulage["ar"]],
        unit_label: nulage["varde"].map(_value_text),
        "Riket": nulage["riket"].map(_value_text),
        group_label: nulage["grupp_medel"].map(_value_text),
    })
    if liknande_label:
        out[liknande_label] = nulage["liknande_medel"].map(_value_text)
    out["Rang"] = [f"{r} av {n}" if pd.notna(r) else "saknas" for r, n in
                   zip(nulage["rang"], nulage["antal"], strict=True)]
    out["Percentil"] = nulage["percentil"].map(lambda x: format_number(x, 0))
    out[f"Trend/år ({TREND_YEARS} år)"] = nulage["trend_per_ar"].map(_value_text)
    out["K − M"] = nulage["skillnad_k_m"].map(lambda x: "" if pd.isna(x) else _value_text(x))
    out["Avvikelse (SD)"] = nulage["avvikelse_sd"].map(lambda x: format_number(x, 1))
    out["Bedömning"] = nulage["bedomning"]
    return out
