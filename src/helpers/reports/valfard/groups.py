"""Kommuner in groups (kommuntyp, befolkningsstorlek) and the spread of a measure within each
group: the points, group means and n of figures 1–4."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from helpers.reports.valfard.spec import FIGURE_KPIS


def latest_year(values: pd.DataFrame, kpis: Sequence[str] = FIGURE_KPIS) -> int:
    """The latest year in which every one of ``kpis`` has at least one value."""
    have = values[values["kpi"].isin(kpis) & values["value"].notna()]
    years = have.groupby("period")["kpi"].nunique()
    complete = years[years == len(set(kpis))]
    if complete.empty:
        raise ValueError(f"Inget år har värden för alla dessa nyckeltal: {', '.join(kpis)}.")
    return int(complete.index.max())


def wide_values(values: pd.DataFrame, year: int, kommuner: Sequence[str]) -> pd.DataFrame:
    """Values for ``year`` (gender T) as one row per kommun and one column per KPI."""
    rows = values[(values["period"] == year) & (values["gender"] == "T")]
    rows = rows[rows["municipality"].isin(kommuner)]
    wide = rows.set_index(["municipality", "kpi"])["value"].unstack("kpi")
    return wide.reindex(pd.Index(list(kommuner), name="kommun"))


def kommuntyp_column(kommungruppering: int) -> tuple[str, str]:
    """The (code, name) columns of the kommun table for a kommungruppsindelning."""
    return f"kommungrupp_{kommungruppering}_kod", f"kommungrupp_{kommungruppering}"


def kommun_groups(kommuner: pd.DataFrame, by: str, kommungruppering: int = 2023) -> pd.Series:
    """Each kommun's group as an ordered categorical (every group kept, even an empty one).

    ``by`` is "kommuntyp" (labels "A1 Storstäder" … "C9 …" in code order) or "storleksklass".
    """
    index = pd.Index(kommuner["kommun"], name="kommun")
    if by == "storleksklass":
        return pd.Series(kommuner["storleksklass"].array, index=index, name="grupp")
    code_col, name_col = kommuntyp_column(kommungruppering)
    if code_col not in kommuner.columns:
        raise ValueError(
            f"Kommuntabellen saknar kommungruppsindelning {kommungruppering} "
            f"(kolumnen {code_col}); välj kommungruppering 2023."
        )
    labels = kommuner[code_col] + " " + kommuner[name_col]
    order = labels.groupby(kommuner[code_col].to_numpy()).first().sort_index()
    return pd.Series(
        pd.Categorical(labels, categories=list(order), ordered=True), index=index, name="grupp"
    )


def grouping_label(by: str, kommungruppering: int = 2023) -> str:
    if by == "storleksklass":
        return "Befolkningsstorlek (invånare)"
    return f"Kommuntyp (SKR:s kommungruppsindelning {kommungruppering})"


@dataclass(frozen=True)
class GroupSpread:
    """Per-kommun values of some KPIs by group, with group and all-kommun summaries."""

    points: pd.DataFrame  # kommun, kommunnamn, grupp, kpi, varde (kommuner with a value)
    summary: pd.DataFrame  # kpi, grupp, antal_kommuner, n, medelvarde, median, std, min, max
    overall: pd.DataFrame  # kpi, antal_kommuner, n, medelvarde, std
    indicators: dict[str, str]
    grouping: str
    year: int
    kommun: str | None = None
    kommun_label: str | None = None
    kommun_group: str | None = None
    groups: list[str] = field(default_factory=list)

    def kommun_value(self, kpi: str) -> float:
        """The marked kommun's value of ``kpi`` (NaN when missing or no kommun marked)."""
        hit = self.points[(self.points["kommun"] == self.kommun) & (self.points["kpi"] == kpi)]
        return float(hit["varde"].iloc[0]) if len(hit) else float("nan")

    def group_mean(self, kpi: str, group: str) -> float:
        row = self.summary[(self.summary["kpi"] == kpi) & (self.summary["grupp"] == group)]
        return float(row["medelvarde"].iloc[0])


def group_spread(
    wide: pd.DataFrame,
    kommuner: pd.DataFrame,
    groups: pd.Series,
    indicators: dict[str, str],
    *,
    year: int,
    grouping: str,
    kommun: str | None = None,
) -> GroupSpread:
    """Spread of ``indicators`` over kommuner within each group of ``groups``.

    Means are unweighted means over the kommuner with a value; nothing is imputed. ``n`` counts
    the kommuner with a value, ``antal_kommuner`` the kommuner in the group.
    """
    kpis = list(indicators)
    data = wide.reindex(columns=kpis).rename_axis(columns="kpi")
    points = data.rename_axis("kommun").reset_index().melt(
        id_vars="kommun", var_name="kpi", value_name="varde"
    )
    points = points.dropna(subset=["varde"])
    names = kommuner.set_index("kommun")["kommunnamn"]
    points.insert(1, "kommunnamn", points["kommun"].map(names))
    points.insert(2, "grupp", points["kommun"].map(groups).astype(groups.dtype))
    points["kpi"] = pd.Categorical(points["kpi"], categories=kpis, ordered=True)
    points = points.sort_values(["kpi", "grupp", "kommun"], kind="stable").reset_index(drop=True)
    label = names.get(kommun) if kommun else None
    return GroupSpread(
        points=points,
        summary=_group_summary(points, groups, kpis),
        overall=_overall_summary(points, len(groups), kpis),
        indicators=dict(indicators),
        grouping=grouping,
        year=year,
        kommun=kommun,
        kommun_label=label,
        kommun_group=str(groups.get(kommun)) if kommun else None,
        groups=[str(g) for g in groups.cat.categories],
    )


def _group_summary(points: pd.DataFrame, groups: pd.Series, kpis: list[str]) -> pd.DataFrame:
    stats = (
        points.groupby(["kpi", "grupp"], observed=False)["varde"]
        .agg(n="count", medelvarde="mean", median="median", std="std", min="min", max="max")
        .reset_index()
    )
    sizes = groups.value_counts(sort=False)
    stats.insert(2, "antal_kommuner", stats["grupp"].map(sizes).astype(int))
    stats["n"] = stats["n"].astype(int)
    return stats


def _overall_summary(points: pd.DataFrame, n_kommuner: int, kpis: list[str]) -> pd.DataFrame:
    stats = points.groupby("kpi", observed=False)["varde"].agg(
        n="count", medelvarde="mean", std="std"
    )
    stats.insert(0, "antal_kommuner", n_kommuner)
    stats = stats.reindex(kpis).rename_axis("kpi").reset_index()
    stats["n"] = stats["n"].fillna(0).astype(int)
    return stats


def spread_csv(spread: GroupSpread) -> pd.DataFrame:
    """The data behind a spread figure, long: kommun rows, group means and all-kommun means."""
    ind = spread.indicators
    kommun_rows = spread.points.assign(typ="kommun")
    kommun_rows["vald_kommun"] = kommun_rows["kommun"] == spread.kommun
    group_rows = spread.summary.assign(typ="gruppmedelvarde")
    overall = spread.overall.assign(typ="medelvarde_alla_kommuner", grupp="Alla kommuner")
    out = pd.concat([kommun_rows, group_rows, overall], ignore_index=True)
    out["kpi"] = out["kpi"].astype(str)
    out["grupp"] = out["grupp"].astype(str)
    out.insert(0, "ar", spread.year)
    out.insert(1, "gruppering", spread.grouping)
    out.insert(3, "indikator", out["kpi"].map(ind))
    out["vald_kommun"] = out["vald_kommun"].astype("boolean").fillna(False)
    columns = [
        "ar", "gruppering", "typ", "kpi", "indikator", "grupp", "kommun", "kommunnamn",
        "varde", "antal_kommuner", "n", "medelvarde", "median", "std", "min", "max",
        "vald_kommun",
    ]  # fmt: skip
    return out.reindex(columns=columns)
