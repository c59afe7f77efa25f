"""The selection per goal: id, title, divided by gender, latest year with data, coverage;
members Kolada no longer serves stay in the table, marked as such."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from helpers.reports.agenda2030.meta import AgendaMeta
from helpers.reports.agenda2030.spec import (
    GOAL_NAMES,
    STATUS_NO_VALUES,
    STATUS_NOT_FETCHED,
    STATUS_NOT_IN_CATALOGUE,
    STATUS_SERVED,
)


def build_selection(meta: AgendaMeta, goal_map: pd.DataFrame, values: pd.DataFrame,
                fetched: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per member of the group, in goal order: ``mal, malnamn, kpi, titel,
    konsuppdelad, senaste_ar, tackning, antal_enheter, konfidens, kalla_malkarta, status``.

    ``senaste_ar`` is the latest year in which any unit of the level has a value, ``tackning``
    how many units have a value that year. ``fetched`` lists the KPIs whose values were fetched
    (default: those present in ``values``).
    """
    units = meta.unit_codes()
    catalogue = meta.kpis.set_index("id")
    fetched = set(values["kpi"]) if fetched is None else set(fetched)
    level_values = values[(values["gender"] == "T") & values["value"].notna()
                          & values["municipality"].isin(units)]
    latest = level_values.groupby("kpi")["period"].max()
    coverage = (level_values[level_values["period"] == level_values["kpi"].map(latest)]
                .groupby("kpi")["municipality"].nunique())
    goals = goal_map.set_index("kpi_id")
    rows = []
    for kpi, member_title in meta.members[["member_id", "member_title"]].itertuples(index=False):
        in_catalogue = kpi in catalogue.index
        if not in_catalogue:
            status = STATUS_NOT_IN_CATALOGUE
        elif kpi not in fetched:
            status = STATUS_NOT_FETCHED
        elif kpi not in latest.index:
            status = STATUS_NO_VALUES
        else:
            status = STATUS_SERVED
        goal = int(goals.at[kpi, "goal"]) if kpi in goals.index else None
        rows.append({
            "mal": goal,
            "malnamn": GOAL_NAMES.get(goal, "mål saknas i målkartan"),
            "kpi": kpi,
            "titel": catalogue.at[kpi, "title"] if in_catalogue else member_title,
            "konsuppdelad": ("ja" if bool(catalogue.at[kpi, "is_divided_by_gender"]) else "nej")
            if in_catalogue else "",
            "senaste_ar": int(latest[kpi]) if kpi in latest.index else None,
            "tackning": int(coverage.get(kpi, 0)),
            "antal_enheter": len(units),
            "konfidens": CONFIDENCE_SV.get(goals.at[kpi, "confidence"], goals.at[kpi, "confidence"])
            if kpi in goals.index else "",
            "kalla_malkarta": goals.at[kpi, "source"] if kpi in goals.index else "",
            "status": status,
        })
    table = pd.DataFrame(rows)
    table["mal"] = table["mal"].astype("Int64")
    table["senaste_ar"] = table["senaste_ar"].astype("Int64")
    return table.sort_values(["mal", "kpi"], na_position="last", kind="stable").reset_index(
        drop=True)


def count_per_goal(selection: pd.DataFrame) -> pd.DataFrame:
    """Indicators per goal: ``mal, malnamn, antal, i_kolada`` (all 17 goals, 0 where none)."""
    served = selection["status"] == STATUS_SERVED
    counts = selection.groupby("mal")["kpi"].count()
    in_kolada = selection[served].groupby("mal")["kpi"].count()
    return pd.DataFrame({
        "mal": list(GOAL_NAMES),
        "malnamn": list(GOAL_NAMES.values()),
        "antal": [int(counts.get(g, 0)) for g in GOAL_NAMES],
        "i_kolada": [int(in_kolada.get(g, 0)) for g in GOAL_NAMES],
    })


def selection_display(selection: pd.DataFrame) -> pd.DataFrame:
    """The selection as shown: per goal (the column "Mål", shown as row groups), each KPI's
    title (the row header), id, gender split, latest year, coverage, and the goal-map
    confidence where it is not high; missing members say so."""
    confidence = selection["konfidens"].where(selection["konfidens"] != CONFIDENCE_SV["high"], "")
    return pd.DataFrame({
        "Mål": goal_labels(selection),
        "Nyckeltal": selection["titel"],
        "Id": selection["kpi"],
        "Könsuppdelat": selection["konsuppdelad"],
        "Senaste år": [str(y) if pd.notna(y) else "saknas" for y in selection["senaste_ar"]],
        "Täckning": [f"{t} av {n}" for t, n in zip(selection["tackning"],
                                                   selection["antal_enheter"], strict=True)],
        "Målkoppling (om ej säker)": confidence,
        "Status": selection["status"],
    })


CONFIDENCE_SV = {"high": "hög", "high (disputed)": "hög (omstridd)", "medium": "medel",
                 "low": "låg"}
"""The goal map's confidence codes in Swedish (the published CSV and the table)."""


def goal_labels(table: pd.DataFrame) -> list[str]:
    """"Mål 1: Ingen fattigdom" per row (the goal name alone where the goal map has none)."""
    return [f"Mål {g}: {n}" if pd.notna(g) else str(n)
            for g, n in zip(table["mal"], table["malnamn"], strict=True)]
