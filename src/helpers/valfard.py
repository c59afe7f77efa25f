"""Välfärd i hela landet: group statistics, correlations and computed statements.

Figures 1–4 show RKA's kvalitetsindex and the nettokostnadsavvikelse per kommuntyp and per
befolkningsstorlek; tables 2–3 are Pearson correlations over kommuner. Every number shown in the
report, and every sentence about the numbers, is computed here from the values table (long:
``kpi, municipality, period, gender, value``) and the kommun table (``helpers.datasets``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from helpers.datasets import (
    DEFAULT_STORLEKSKLASSER,
    EurostatRequest,
    load_eurostat,
    load_kommuner,
    load_values,
    validate_storleksklasser,
)
from helpers.figures import (
    SpreadStyle,
    correlation_heatmap,
    frame_digest,
    line_figure,
    png_once,
    render_png,
    spread_figure,
)
from helpers.formatting import escape_markdown as md
from helpers.formatting import format_number, unescape_markdown
from helpers.notebook import Figure, Table
from helpers.params import ReportParams, format_years, normalize_kommun, register_report
from helpers.tables import correlation_display, n_range, notes

KVALITETSINDEX: dict[str, str] = {
    "U11404": "Förskola",
    "U15401": "Kommunal grundskola F-9",
    "U17401": "Kommunal gymnasieskola",
    "U20404": "Äldreomsorg",
    "U28408": "LSS boende och daglig verksamhet",
    "U31401": "Ekonomiskt bistånd",
}
NETTOKOSTNADSAVVIKELSE: dict[str, str] = {
    "N15001": "Grundskola F-9",
    "N30001": "Individ- och familjeomsorg",
    "N20900": "Äldreomsorg",
    "N00097": "Totalt exkl. LSS",
}
FIGURE_KPIS: tuple[str, ...] = (*KVALITETSINDEX, *NETTOKOSTNADSAVVIKELSE)
POPULATION_KPI = "N01951"
KOMMUNTYP_CODES: tuple[str, ...] = ("A1", "A2", "B3", "B4", "B5", "C6", "C7", "C8", "C9")

SOURCE_LINE = "Källa: Kolada (RKA), egna beräkningar."
DEBT_DATASET = "gov_10dd_edpt1"
DEBT_SOURCE_LINE = "Källa: Eurostat (gov_10dd_edpt1)."
SECTORS: dict[str, str] = {
    "S13": "Offentliga sektorn",
    "S1311": "Staten",
    "S1312": "Delstaterna",
    "S1313": "Kommunsektorn",
    "S1314": "Sociala trygghetsfonder",
}
"""Eurostat's sectors of gov_10dd_edpt1 (ESA 2010) with their Swedish names."""
DEFAULT_DEBT_SECTORS: tuple[str, ...] = ("S13", "S1311", "S1313")
DEBT_FILTERS: dict[str, tuple[str, ...]] = {"na_item": ("GD",), "unit": ("PC_GDP",),
                                              "sector": tuple(SECTORS)}
"""Gross debt in % of GDP for every sector and every geo: one request whatever the parameters,
so changing geo or sectors needs no new fetch."""
MISSING_TEXT = "saknas i data"
NO_VALUES_TEXT = "inga värden"
MIN_N_FOR_SPREAD = 5


@dataclass(frozen=True)
class Variable:
    """One row or column of a correlation table.

    ``kpi`` is the id the report names. When Kolada has no values for it in the year, the value
    is derived as ``derive[0] / derive[1]`` or taken from ``substitute``; failing both, the row
    stays in the table marked "saknas i data".
    """

    label: str
    kpi: str
    substitute: str | None = None
    substitute_text: str = ""
    derive: tuple[str, str] | None = None
    derive_text: str = ""


STRUCTURAL_VARIABLES: tuple[Variable, ...] = (
    Variable("Invånare", "N01951"),
    Variable(
        "Arbetslöshet 16-65 år",
        "N03932",
        substitute="N03920",
        substitute_text="N03920 Arbetslösa av befolkningen, 18-65 år, andel (%)",
    ),
    Variable("Demografisk försörjningskvot", "N00927"),
    Variable("Inpendling", "N02276"),
    Variable(
        "Invånare per kvadratkilometer",
        "N02937",
        derive=("N01951", "N02993"),
        derive_text="N01951 Invånare / N02993 Landareal (km²)",
    ),
    Variable("Invånare 25-64 år med låg utbildningsnivå, andel", "N01721"),
    Variable("Sammanräknad förvärvsinkomst 20-64 år, median", "N00906"),
    Variable("Tätortsgrad", "N00954"),
    Variable("Utpendling", "N02279"),
    Variable("Andel elever med föräldrar med eftergymnasial utb.", "N15820"),
    Variable("Befolkningsförändring senaste 5 åren", "N01958"),
)
NKA_VARIABLES: tuple[Variable, ...] = (
    Variable("NKA grundskola F-9", "N15001"),
    Variable("NKA individ- och familjeomsorg", "N30001"),
    Variable("NKA äldreomsorg", "N20900"),
)
TABLE2_COLUMNS: tuple[Variable, ...] = (
    Variable("Kvalitetsindex ekonomiskt bistånd", "U31401"),
    Variable("Kvalitetsindex kommunal grundskola F-9", "U15401"),
    Variable("Kvalitetsindex äldreomsorg", "U20404"),
)
TABLE2_ROWS: tuple[Variable, ...] = (*NKA_VARIABLES, *STRUCTURAL_VARIABLES)
TABLE3_COLUMNS: tuple[Variable, ...] = NKA_VARIABLES
TABLE3_ROWS: tuple[Variable, ...] = STRUCTURAL_VARIABLES


def variable_kpis(variables: Sequence[Variable]) -> list[str]:
    """Every KPI id a set of variables may read, including substitutes and derivation inputs."""
    ids: list[str] = []
    for var in variables:
        ids += [var.kpi, *([var.substitute] if var.substitute else []), *(var.derive or ())]
    return list(dict.fromkeys(ids))


def required_kpis() -> list[str]:
    """All KPIs the report reads (figures, tables, population), known-missing ones included."""
    table_vars = (*TABLE2_COLUMNS, *TABLE2_ROWS, *TABLE3_COLUMNS, *TABLE3_ROWS)
    return list(dict.fromkeys([*FIGURE_KPIS, POPULATION_KPI, *variable_kpis(table_vars)]))


# --- data shaping ---------------------------------------------------------------------------


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


# --- group spread (figures 1–4) -------------------------------------------------------------


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


# --- correlations (tables 2–3) --------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedVariable:
    variable: Variable
    values: pd.Series  # per kommun; all NaN when missing
    used: str | None  # what the values are: a KPI id, "N01951/N02993", or None when missing
    note: str


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
    return ResolvedVariable(var, empty, None, f"{var.kpi} {MISSING_TEXT}.")


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
            note = r.note or (MISSING_TEXT if r.used is None else "")
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
        "rad": row.variable.label if row else None,
        "rad_kpi": row.variable.kpi if row else None,
        "rad_data": row.used if row else None,
        "kolumn": col.variable.label if col else None,
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


# --- computed statements ----------------------------------------------------------------------


def fmt(value: float, decimals: int = 1) -> str:
    """A number in Swedish format, or "saknas" when missing."""
    return format_number(value, decimals)


def lower_first(name: str) -> str:
    """"Förskola" → "förskola" for use inside a sentence; "LSS …" stays as it is."""
    first = name.split(" ", 1)[0]
    return name if first.isupper() else name[:1].lower() + name[1:]


@dataclass(frozen=True)
class Units:
    """Units after values and after standard deviations in sentences (e.g. " %")."""

    value: str = ""
    spread: str = ""


def _present(spread: GroupSpread, kpi: str, min_n: int = 1) -> pd.DataFrame:
    rows = spread.summary[spread.summary["kpi"] == kpi]
    return rows[rows["n"] >= min_n]


def extremes_sentence(spread: GroupSpread, kpi: str, units: Units = Units()) -> str:
    """Which group has the lowest and the highest mean of ``kpi``, with values and n."""
    rows = _present(spread, kpi)
    name, u = md(spread.indicators[kpi]), units.value
    if rows.empty:
        return f"**{name}**: {NO_VALUES_TEXT} {spread.year}."
    low = rows.loc[rows["medelvarde"].idxmin()]
    high = rows.loc[rows["medelvarde"].idxmax()]
    overall = spread.overall.set_index("kpi").loc[kpi]
    text = (
        f"**{name}**: lägst medelvärde har {md(low['grupp'])} ({fmt(low['medelvarde'])}{u}; "
        f"n = {low['n']}), högst {md(high['grupp'])} ({fmt(high['medelvarde'])}{u}; "
        f"n = {high['n']}). Medelvärdet över alla kommuner är {fmt(overall['medelvarde'])}{u} "
        f"(n = {int(overall['n'])})."
    )
    candidates = _present(spread, kpi, MIN_N_FOR_SPREAD)
    if len(candidates) > 1:
        top = candidates.loc[candidates["std"].idxmax()]
        text += (
            f" Störst spridning bland grupper med minst {MIN_N_FOR_SPREAD} värden har "
            f"{md(top['grupp'])} (standardavvikelse {fmt(top['std'])}{units.spread})."
        )
    return text


def coverage_sentence(spread: GroupSpread) -> str | None:
    """Groups where fewer than half the kommuner have a value (empty groups named too)."""
    low = spread.summary[spread.summary["n"] < spread.summary["antal_kommuner"] / 2]
    if low.empty:
        return None
    parts = [
        f"{md(lower_first(spread.indicators[r.kpi]))} i {md(r.grupp)} ({r.n} av "
        f"{r.antal_kommuner}"
        + (f", {NO_VALUES_TEXT})" if r.n == 0 else ")")
        for r in low.itertuples()
    ]
    return "Värde finns för färre än hälften av kommunerna i gruppen: " + "; ".join(parts) + "."


def kommun_sentence(spread: GroupSpread, units: Units = Units()) -> str | None:
    """The marked kommun's values against the mean of its own group."""
    if spread.kommun is None:
        return None
    group, u = md(spread.kommun_group), units.value
    parts, missing = [], []
    for kpi, name in spread.indicators.items():
        value = spread.kommun_value(kpi)
        if pd.isna(value):
            missing.append(md(lower_first(name)))
            continue
        mean = spread.group_mean(kpi, spread.kommun_group)
        parts.append(f"{md(lower_first(name))} {fmt(value)}{u} (gruppens medelvärde "
                     f"{fmt(mean)}{u})")
    text = f"**{md(spread.kommun_label)}** ({group}): " + ("; ".join(parts) or NO_VALUES_TEXT) + "."
    if missing:
        text += f" Värde saknas {spread.year} för {', '.join(missing)}."
    return text


def largest_spread_sentence(spread: GroupSpread, units: Units = Units()) -> str:
    """Which indicator varies most between kommuner (standard deviation over all kommuner)."""
    overall = spread.overall.dropna(subset=["std"]).sort_values("std", ascending=False)
    parts = [
        f"{md(lower_first(spread.indicators[r.kpi]))} {fmt(r.std)}{units.spread}"
        for r in overall.itertuples()
    ]
    top = spread.indicators[overall.iloc[0]["kpi"]]
    return (
        f"Störst spridning mellan kommunerna har **{md(lower_first(top))}**. Standardavvikelse "
        f"över "
        f"alla kommuner: {'; '.join(parts)}."
    )


def spread_sentences(spread: GroupSpread, units: Units = Units()) -> list[str]:
    """Everything the text under a spread figure says, computed from ``spread``."""
    lines = [extremes_sentence(spread, kpi, units) for kpi in spread.indicators]
    lines.append(coverage_sentence(spread))
    lines.append(kommun_sentence(spread, units))
    return [line for line in lines if line]


# --- the report's own statements, checked against the data --------------------------------------


def _mean_vs_all(spread: GroupSpread, kpi: str, code_or_group: str) -> tuple[str, bool]:
    """"A1 Storstäder 36,6 (n = 1) mot 53,9 för alla kommuner, lägst av 9", and below-mean."""
    rows = _present(spread, kpi)
    row = rows[rows["grupp"].astype(str).str.startswith(code_or_group)]
    overall = float(spread.overall.set_index("kpi").loc[kpi, "medelvarde"])
    if row.empty:
        return f"{code_or_group}: {NO_VALUES_TEXT}", False
    r = row.iloc[0]
    rank = int((rows["medelvarde"] < r["medelvarde"]).sum()) + 1
    text = (
        f"{lower_first(spread.indicators[kpi])} i {r['grupp']} {fmt(r['medelvarde'])} "
        f"(n = {r['n']}) mot {fmt(overall)} för alla kommuner; plats {rank} av {len(rows)} "
        "räknat från lägst"
    )
    return text, bool(r["medelvarde"] < overall)


def _verdict(checks: Sequence[bool]) -> str:
    return "ja" if all(checks) else ("delvis" if any(checks) else "nej")


def spec_statements(
    by_type: GroupSpread, by_size: GroupSpread, costs_by_type: GroupSpread
) -> pd.DataFrame:
    """The report's statements about figures 1–4, each with a verdict and the numbers behind it.

    Kvalitetsindex statements compare group means with the mean over all kommuner; "large
    variation" is the largest standard deviation among the size classes; "stands out" is the
    largest standard deviation over all kommuner among the four cost deviations.
    """
    rows = [_storstader(by_type), _mindre_stader(by_type), _sma_kommuner(by_size)]
    rows += [_landsbygd_costs(costs_by_type), _ifo_stands_out(costs_by_type)]
    return pd.DataFrame(rows, columns=["Påstående i rapporten", "Stöds av data", "Underlag"])


def _storstader(spread: GroupSpread) -> list[str]:
    (t1, ok1), (t2, ok2) = (_mean_vs_all(spread, k, "A1") for k in ("U20404", "U31401"))
    claim = "Storstäder har lägre resultat inom äldreomsorg och ekonomiskt bistånd."
    return [claim, _verdict([ok1, ok2]), f"{t1}. {t2}."]


def _mindre_stader(spread: GroupSpread) -> list[str]:
    text, ok = _mean_vs_all(spread, "U15401", "C6")
    return ["Mindre städer/tätorter har lägre resultat inom grundskolan.", _verdict([ok]),
            text + "."]


def _sma_kommuner(spread: GroupSpread) -> list[str]:
    smallest = spread.groups[0]
    rows = _present(spread, "U31401")
    overall = spread.overall.set_index("kpi").loc["U31401"]
    own = rows[rows["grupp"].astype(str) == smallest]
    claim = (f"Små kommuner ({smallest} invånare) har ofta högre kvalitetsindex för ekonomiskt "
             "bistånd, men variationen är stor.")
    if own.empty:
        return [claim, "nej", f"{smallest}: {NO_VALUES_TEXT}."]
    r = own.iloc[0]
    candidates = _present(spread, "U31401", MIN_N_FOR_SPREAD)
    top = candidates.loc[candidates["std"].idxmax()] if len(candidates) else r
    higher = bool(r["medelvarde"] > overall["medelvarde"])
    widest = str(top["grupp"]) == smallest
    text = (
        f"Medelvärde i {smallest} {fmt(r['medelvarde'])} (n = {r['n']} av {r['antal_kommuner']}) "
        f"mot {fmt(overall['medelvarde'])} för alla kommuner; andel av gruppens kommuner med "
        f"värde över medelvärdet för alla kommuner: {_share_above(spread, smallest)}. "
        f"Standardavvikelse i {smallest} {fmt(r['std'])} mot {fmt(overall['std'])} för alla "
        f"kommuner; störst bland storleksklasserna: {top['grupp']} ({fmt(top['std'])})."
    )
    return [claim, _verdict([higher, widest]), text]


def _share_above(spread: GroupSpread, group: str) -> str:
    data = spread.points[(spread.points["kpi"] == "U31401")]
    mean = data["varde"].mean()
    own = data[data["grupp"].astype(str) == group]["varde"]
    return f"{int((own > mean).sum())} av {len(own)}"


def _landsbygd_costs(spread: GroupSpread) -> list[str]:
    overall = float(spread.overall.set_index("kpi").loc["N00097", "medelvarde"])
    rows = _present(spread, "N00097").sort_values("medelvarde", ascending=False)
    rows = rows.assign(plats=range(1, len(rows) + 1))
    chosen = rows[rows["grupp"].astype(str).str[:2].isin(["C7", "C8", "C9"])]
    checks = list(chosen["medelvarde"] > overall)
    parts = [
        f"{r.grupp} {fmt(r.medelvarde)} % (plats {r.plats} av {len(rows)} räknat från högst)"
        for r in chosen.itertuples()
    ]
    text = (
        f"Nettokostnadsavvikelse totalt exkl. LSS: {'; '.join(parts)}; medelvärde för alla "
        f"kommuner {fmt(overall)} %."
    )
    claim = ("Landsbygdskommuner och pendlingskommuner nära mindre tätorter uppvisar betydande "
             "avvikelser.")
    return [claim, _verdict(checks) if checks else "nej", text]


def _ifo_stands_out(spread: GroupSpread) -> list[str]:
    overall = spread.overall.set_index("kpi")
    top = overall["std"].idxmax()
    ranges = spread.summary.groupby("kpi", observed=True)["medelvarde"].agg(
        lambda m: m.max() - m.min()
    )
    parts = [
        f"{lower_first(spread.indicators[k])} {fmt(overall.loc[k, 'std'])} "
        f"(gruppmedelvärdena spänner {fmt(ranges.get(k, np.nan))} procentenheter)"
        for k in spread.indicators
    ]
    ok = top == "N30001" and ranges.idxmax() == "N30001"
    return ["Ett område som särskilt sticker ut är individ- och familjeomsorgen.",
            _verdict([ok]), "Standardavvikelse över alla kommuner (procentenheter): "
            + "; ".join(parts) + "."]


# --- the report's pieces (shown by helpers.notebook) -------------------------------------------


@dataclass
class ValfardData:
    """Everything the report's pieces need: values, kommun table and the chosen parameters."""

    values: pd.DataFrame
    kommuner: pd.DataFrame
    wide: pd.DataFrame
    year: int
    kommungruppering: int
    kommun: str | None
    skuld_geo: str = "SE"
    skuld_sektorer: tuple[str, ...] = DEFAULT_DEBT_SECTORS
    skuld_ar: tuple[int, ...] | None = None
    processed_dir: Path | None = None
    _skuld: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def skuld(self) -> pd.DataFrame:
        """Gross debt (GD, % of GDP) of ``skuld_geo`` for the chosen sectors and years (long:
        geo, sector, year, value, flag); only cells Eurostat has, nothing filled in."""
        if self._skuld is None:
            self._skuld = debt_series(load_eurostat(DEBT_DATASET, self.processed_dir),
                                      self.skuld_geo, self.skuld_sektorer, self.skuld_ar)
        return self._skuld

    @property
    def kommun_label(self) -> str | None:
        if self.kommun is None:
            return None
        return str(self.kommuner.set_index("kommun").loc[self.kommun, "kommunnamn"])

    def groups(self, by: str) -> pd.Series:
        return kommun_groups(self.kommuner, by, self.kommungruppering)

    def spread(self, by: str, indicators: dict[str, str]) -> GroupSpread:
        return group_spread(
            self.wide, self.kommuner, self.groups(by), indicators, year=self.year,
            grouping=grouping_label(by, self.kommungruppering), kommun=self.kommun,
        )  # fmt: skip


def load_data(
    params: ValfardParams | None = None,
    *,
    year: int | None = None,
    kommun: str | int | None = None,
    kommungruppering: int = 2023,
    storleksklasser: Sequence[int] = DEFAULT_STORLEKSKLASSER,
    processed_dir: str | Path | None = None,
    skuld_geo: str = "SE",
    skuld_sektorer: Sequence[str] | None = None,
    skuld_ar: Sequence[int] | None = None,
) -> ValfardData:
    """Load the report's values and kommun table from ``data/processed``, for a parameter set
    (``params``) or the keyword arguments.

    ``year`` None means the latest year with data for the figures' KPIs. A year without data or
    an unknown kommun raises ValueError naming what is available. The Eurostat table of
    Tabell 1 (``skuld_*``) is read when first used.
    """
    if params is not None:
        year, kommun = params.year, params.kommun
        kommungruppering, storleksklasser = params.kommungruppering, params.storleksklasser
        skuld_geo, skuld_sektorer, skuld_ar = (params.skuld_geo, params.skuld_sektorer,
                                               params.skuld_ar)
    values = load_values(required_kpis(), processed_dir=processed_dir)
    available = sorted(values.loc[values["kpi"].isin(FIGURE_KPIS), "period"].unique())
    if year is None:
        year = latest_year(values)
    elif int(year) not in available:
        raise ValueError(f"year {year} has no data for the figures' KPIs; years with data: "
                         f"{format_years(available)}.")
    kommuner = load_kommuner(int(year), storleksklasser, processed_dir=processed_dir)
    if kommun is not None:
        kommun = normalize_kommun(kommun, None)
        if kommun not in set(kommuner["kommun"]):
            raise ValueError(f"kommun {kommun!r} is not in the kommun table for {year}.")
    wide = wide_values(values, int(year), list(kommuner["kommun"]))
    return ValfardData(values, kommuner, _with_derived(wide), int(year), int(kommungruppering),
                       kommun, skuld_geo=str(skuld_geo).upper(),
                       skuld_sektorer=tuple(skuld_sektorer or DEFAULT_DEBT_SECTORS),
                       skuld_ar=tuple(int(y) for y in skuld_ar) if skuld_ar else None,
                       processed_dir=Path(processed_dir) if processed_dir else None)


def _with_derived(wide: pd.DataFrame) -> pd.DataFrame:
    """Add empty columns for required KPIs without values, so every lookup is defined."""
    missing = [k for k in required_kpis() if k not in wide.columns]
    return wide.assign(**{k: np.nan for k in missing})


# --- Tabell 1: public debt by sub-sector (Eurostat) ---------------------------------------------


def debt_series(table: pd.DataFrame, geo: str, sectors: Sequence[str],
                years: Sequence[int] | None = None) -> pd.DataFrame:
    """The cells of ``table`` (tidy gov_10dd_edpt1) for GD in % of GDP, ``geo`` and ``sectors``
    in ``years`` (None: every year with data for any of them). Nothing is filled in."""
    rows = table[(table["geo"] == geo) & table["sector"].isin(sectors)
                 & (table["na_item"] == "GD") & (table["unit"] == "PC_GDP")]
    rows = rows.dropna(subset=["value"])
    if years is not None:
        rows = rows[rows["year"].isin([int(y) for y in years])]
    rows = rows.assign(sector=pd.Categorical(rows["sector"], categories=list(sectors)))
    out = rows.sort_values(["sector", "year"])[["geo", "sector", "year", "value", "flag"]]
    out["sector"] = out["sector"].astype(str)
    return out.reset_index(drop=True)


def sector_label(code: str) -> str:
    return f"{SECTORS.get(code, code)} ({code})"


def _years_of(skuld: pd.DataFrame, sector: str) -> list[int]:
    return sorted(int(y) for y in skuld.loc[skuld["sector"] == sector, "year"])


def debt_frame(skuld: pd.DataFrame, sectors: Sequence[str],
                  years: Sequence[int] | None = None) -> pd.DataFrame:
    """Tabell 1 as shown: one row per year (``years``, default every year with data), one column
    per sector, values with a decimal comma, "–" where Eurostat has no value."""
    shown_years = sorted({int(y) for y in (years if years is not None else skuld["year"])})
    wide = skuld.pivot(index="year", columns="sector", values="value")
    wide = wide.reindex(index=shown_years, columns=list(sectors))
    table = wide.apply(lambda column: column.map(lambda v: format_number(v, 1, missing="–")))
    table.columns = [sector_label(code) for code in sectors]
    table.index = pd.Index([str(y) for y in shown_years], name="År")
    return table.reset_index()


def debt_csv(skuld: pd.DataFrame, sectors: Sequence[str],
                years: Sequence[int] | None = None) -> pd.DataFrame:
    """``tables/tabell1.csv``: geo, year and one column per sector code; empty where absent."""
    shown_years = sorted({int(y) for y in (years if years is not None else skuld["year"])})
    wide = skuld.pivot(index="year", columns="sector", values="value")
    wide = wide.reindex(index=shown_years, columns=list(sectors))
    wide.columns.name = None
    wide.index.name = "ar"
    out = wide.reset_index()
    out.insert(0, "geo", skuld["geo"].iloc[0] if len(skuld) else "")
    return out


def _span_text(skuld: pd.DataFrame, sectors: Sequence[str]) -> str:
    """"Offentliga sektorn (S13) 1995–2024; staten (S1311) och kommunsektorn (S1313) 2021–2024"."""
    by_span: dict[str, list[str]] = {}
    for code in sectors:
        years = _years_of(skuld, code)
        span = format_years(years) if years else "inga år"
        by_span.setdefault(span, []).append(lower_first(sector_label(code)))
    return "; ".join(f"{' och '.join(names)} {span}" for span, names in by_span.items())


def debt_table(data: ValfardData) -> Table:
    """Tabell 1: gross debt in % of GDP by sector and year; the CSV holds the numbers (empty
    where Eurostat has none), the caption says which years each sector has."""
    skuld = data.skuld
    sectors = list(data.skuld_sektorer)
    shown = debt_frame(skuld, sectors, data.skuld_ar).set_index("År")
    shown.index.name, shown.columns.name = None, "År"  # one header row, "År" in its corner
    sub = [code for code in sectors if code != "S13"]
    note = [
        f"Offentlig bruttoskuld (konsoliderad, Maastrichtdefinitionen; Eurostats na_item GD) i "
        f"procent av BNP, {md(data.skuld_geo)}. År med värde: {_span_text(skuld, sectors)}. "
        "– = värde saknas i Eurostats data; inget år är skattat eller ifyllt.",
    ]
    if "S13" in sectors and sub:
        note.append(
            f"Offentliga sektorn (S13) visas för hela perioden och uppdelningen på "
            f"{' och '.join(lower_first(sector_label(c)) for c in sub)} där den finns. "
            "Varje delsektors skuld är konsoliderad för sig (skulder mellan sektorerna räknas "
            "bort i S13 men inte mellan delsektorerna), så delsektorerna är inte delar av S13 "
            "och summerar inte till S13.")
    return Table(shown, 1, "Den offentliga skulden som andel av BNP uppdelad på kommunsektorn "
                 "och stat", data=debt_csv(skuld, sectors, data.skuld_ar),
                 source=DEBT_SOURCE_LINE, note=" ".join(note), index=True)


DEBT_FIGURE = 5
"""Figur 5, after the report's Figur 1–4: Tabell 1 as a line figure."""
HEATMAP_FIGURES = {2: 6, 3: 7}
"""Figur 6 and 7: Tabell 2 and 3 as heatmaps."""


def debt_figure(data: ValfardData) -> Figure:
    """Figur 5, the small line figure beside Tabell 1 (the same values)."""
    skuld = data.skuld
    sectors = list(data.skuld_sektorer)
    series = {sector_label(code): skuld[skuld["sector"] == code].set_index("year")["value"]
              for code in sectors}
    title = "Offentlig bruttoskuld i procent av BNP (tabell 1 som diagram)"
    alt = f"Figur {DEBT_FIGURE}: {title}. {debt_alt_text(skuld, sectors, data.skuld_geo)}"
    subtitle = (f"{data.skuld_geo}. Delsektorerna är konsoliderade var för sig och summerar "
                "inte till offentliga sektorn.")
    png = png_once(("debt", *frame_digest(skuld), tuple(sectors), title, subtitle),
                   lambda: line_figure(series, title=f"Figur {DEBT_FIGURE}: {title}",
                                       subtitle=subtitle, value_label="Procent av BNP",
                                       source=DEBT_SOURCE_LINE, alt=alt))
    return Figure(png, DEBT_FIGURE, title, alt, source=DEBT_SOURCE_LINE,
                  note="Samma värden som tabell 1 (`tables/tabell1.csv`); linjerna ritas bara "
                       "för år med värde.")


def debt_alt_text(skuld: pd.DataFrame, sectors: Sequence[str], geo: str) -> str:
    """What the line figure shows, in words: first and last value of each line."""
    parts = []
    for code in sectors:
        rows = skuld[skuld["sector"] == code].sort_values("year")
        if rows.empty:
            parts.append(f"{lower_first(sector_label(code))}: inga värden")
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        parts.append(f"{lower_first(sector_label(code))} från {fmt(first['value'])} procent "
                     f"{int(first['year'])} till {fmt(last['value'])} procent {int(last['year'])}")
    return (f"Linjediagram över offentlig bruttoskuld i procent av BNP, {geo}: "
            + "; ".join(parts) + ".")


DEBT_CLAIM = ("Kommunernas låneskuld har ökat samtidigt som statens skuld som andel av BNP har "
               "minskat över tid.")


def debt_statement(skuld: pd.DataFrame, geo: str) -> list[str]:
    """The report's claim about Tabell 1 checked against it: kommunsektorn (S1313) up and staten
    (S1311) down between the first and last year both have values."""
    state, local = (set(_years_of(skuld, code)) for code in ("S1311", "S1313"))
    common = sorted(state & local)
    if len(common) < 2:
        return [DEBT_CLAIM, "kan inte prövas",
                "Tabell 1 har inte två år med värden för både staten (S1311) och "
                f"kommunsektorn (S1313) för {geo}."]
    first, last = common[0], common[-1]
    value = skuld.set_index(["sector", "year"])["value"]

    def change(code: str) -> tuple[str, float]:
        a, b = float(value[(code, first)]), float(value[(code, last)])
        return (f"{lower_first(sector_label(code))} {fmt(a)} procent av BNP {first} → {fmt(b)} "
                f"procent {last} ({'+' if b >= a else ''}{fmt(b - a)} procentenheter)"), b - a

    local_text, local_diff = change("S1313")
    state_text, state_diff = change("S1311")
    text = (f"{local_text[0].upper()}{local_text[1:]}; {state_text}. Jämförelsen gäller "
            f"{first}–{last}, de år Eurostat redovisar båda delsektorerna för {geo}. "
            "Kommunsektorn omfattar kommuner och regioner, och måttet är bruttoskuld, inte "
            "enbart låneskuld.")
    return [DEBT_CLAIM, _verdict([local_diff > 0, state_diff < 0]), text]


# --- Bilaga 1 as pictures: correlation heatmaps ---------------------------------------------------


def heatmap(data: ValfardData, number: int) -> Figure:
    """Tabell ``number`` (2–3) as a seaborn heatmap beside the table (Figur 6 and 7)."""
    _heading, rows, columns = TABLES[number]
    long = correlation_table(data.wide, rows, columns, year=data.year)
    corr = long[long["typ"] == "korrelation"]
    row_labels = list(dict.fromkeys(corr["rad"]))
    column_labels = list(dict.fromkeys(corr["kolumn"]))
    values = corr.pivot(index="rad", columns="kolumn", values="varde")
    values = values.reindex(index=row_labels, columns=column_labels)
    counts = corr.pivot(index="rad", columns="kolumn", values="n")
    counts = counts.reindex(index=row_labels, columns=column_labels)
    values = values.where(counts >= 3)
    figure_number = HEATMAP_FIGURES[number]
    title = f"Korrelationerna i tabell {number} som värmekarta ({data.year})"
    alt = f"Figur {figure_number}: {title}. {heatmap_alt_text(values, counts, number)}"
    png = png_once(("heatmap", *frame_digest(values, counts), figure_number, title,
                    source_line(data.year)),
                   lambda: correlation_heatmap(values, counts,
                                               title=f"Figur {figure_number}: {title}",
                                               source=source_line(data.year), alt=alt))
    note = (f"Samma korrelationer som tabell {number}: blått negativt, rött positivt samband, "
            "vitt nära 0; n = antal kommuner med värde på båda variablerna. Data: "
            f"`tables/tabell{number}.csv`.")
    return Figure(png, figure_number, title, alt, source=source_line(data.year),
                  note=note)


def heatmap_alt_text(values: pd.DataFrame, counts: pd.DataFrame, number: int) -> str:
    stacked = values.stack().dropna()
    n = counts.where(values.notna()).stack().dropna()
    parts = [f"Värmekarta över korrelationerna i tabell {number}, {len(values.index)} rader "
             f"och {len(values.columns)} kolumner"]
    if len(stacked):
        top, low = stacked.idxmax(), stacked.idxmin()
        parts.append(f"starkast positiva: {top[0]} och {lower_first(top[1])} "
                     f"({fmt(stacked[top], 2)})")
        parts.append(f"starkast negativa: {low[0]} och {lower_first(low[1])} "
                     f"({fmt(stacked[low], 2)})")
        parts.append(f"n = {format_number(n.min())}–{format_number(n.max())} kommuner per cell")
    missing = values.index[values.isna().all(axis=1)]
    if len(missing):
        parts.append(f"saknas i data: {', '.join(missing)}")
    return "; ".join(parts) + "."


def source_line(year: int) -> str:
    return f"{SOURCE_LINE} Data avser {year}."


def title(data: ValfardData) -> str:
    """The report's title (naming the kommun in a kommun variant) and what the data are."""
    heading = "Välfärd i hela landet"
    if data.kommun is not None:
        heading += f": {md(data.kommun_label)} ({data.kommun})"
    classes = ", ".join(md(c) for c in data.kommuner["storleksklass"].cat.categories)
    text = (
        f"# {heading}\n\nData avser {data.year}. Kommuntyp enligt SKR:s kommungruppsindelning "
        f"{data.kommungruppering}. Befolkningsstorlek (invånare, N01951, {data.year}) i "
        f"storleksklasserna {classes}."
    )
    if data.kommun is not None:
        text += (f" {md(data.kommun_label)} är markerad i figurerna och har en egen rad i "
                 "tabellerna.")
    return text


@dataclass(frozen=True)
class FigureSpec:
    title: str
    by: str
    indicators: dict[str, str]
    style: SpreadStyle
    units: Units


QUALITY_STYLE = SpreadStyle("Kvalitetsindex (0–100)", limits=(0, 100))
COST_STYLE = SpreadStyle("Nettokostnadsavvikelse (%)", bars=True, zero_line=True)
COST_UNITS = Units(" %", " procentenheter")
FIGURES: dict[int, FigureSpec] = {
    1: FigureSpec("Spridningen av kvalitetsindexen med avseende på kommuntyp",
                  "kommuntyp", KVALITETSINDEX, QUALITY_STYLE, Units()),
    2: FigureSpec("Spridningen av kvalitetsindex över befolkningsstorlek",
                  "storleksklass", KVALITETSINDEX, QUALITY_STYLE, Units()),
    3: FigureSpec("Avvikelsen från standardkostnad fördelat över kommuntyp",
                  "kommuntyp", NETTOKOSTNADSAVVIKELSE, COST_STYLE, COST_UNITS),
    4: FigureSpec("Avvikelsen från standardkostnad fördelat över befolkningsstorlek",
                  "storleksklass", NETTOKOSTNADSAVVIKELSE, COST_STYLE, COST_UNITS),
}


def figure(data: ValfardData, number: int) -> Figure:
    """Figure ``number`` (1–4): the drawing, its alt text, the data behind it (long: kommun
    values, group means, all-kommun means) and the computed sentences under it."""
    spec = FIGURES[number]
    spread = data.spread(spec.by, spec.indicators)
    sentences = spread_sentences(spread, spec.units)
    if spec.style.bars:
        sentences.insert(len(spec.indicators), largest_spread_sentence(spread, spec.units))
    drawn = spread_figure(
        spread.points, spread.summary, spread.overall, indicators=spec.indicators,
        groups=spread.groups, style=spec.style, title=f"Figur {number}: {spec.title}",
        subtitle=_subtitle(data, spread), source=source_line(data.year),
        group_label=spread.grouping, marked=_marked(spread),
        description=_plain(" ".join(sentences)),
    )  # fmt: skip
    note = "\n".join([
        "Streckad linje: medelvärdet över alla kommuner med värde (ovägt). n = antal kommuner "
        "med värde i gruppen.", "", *[f"- {s}" for s in sentences]])
    return Figure(render_png(drawn), number, spec.title, drawn.alt_text, data=spread_csv(spread),
                  source=source_line(data.year), note=note)


def _marked(spread: GroupSpread) -> tuple[str, str, str] | None:
    if spread.kommun is None:
        return None
    label = f"{spread.kommun_label} ({spread.kommun_group})"
    return spread.kommun, label, spread.kommun_group


def _subtitle(data: ValfardData, spread: GroupSpread) -> str:
    return f"År {data.year}. Grupper: {lower_first(spread.grouping)}"


def _plain(text: str) -> str:
    """Markdown sentences as plain text (the figure's description)."""
    return unescape_markdown(text.replace("**", ""))


TABLES: dict[int, tuple[str, tuple[Variable, ...], tuple[Variable, ...]]] = {
    2: ("Korrelationskoefficienten mellan kvalitetsmåtten och olika strukturella och icke "
        "strukturella variabler", TABLE2_ROWS, TABLE2_COLUMNS),
    3: ("Korrelationen mellan nettokostnadsavvikelsen och olika strukturella variabler",
        TABLE3_ROWS, TABLE3_COLUMNS),
}


def table(data: ValfardData, number: int) -> Table:
    """Table ``number`` (2–3): the correlations as shown, the long table behind them (r and n
    per pair, the kommun's own values) and the notes on substituted or missing variables."""
    heading, rows, columns = TABLES[number]
    long = correlation_table(data.wide, rows, columns, year=data.year, kommun=data.kommun)
    low, high = n_range(long)
    counts = f"{low}–{high}" if low != high else f"{low}"
    note = "\n".join([
        f"Pearsons korrelationskoefficient över kommuner med värde på båda variablerna; "
        f"{counts} kommuner per korrelation (kolumnen n i `tables/tabell{number}.csv`).",
        "",
        *[f"- {md(n)}" for n in notes(long)],
    ])  # fmt: skip
    return Table(correlation_display(long, data.kommun_label), number, heading, data=long,
                 source=source_line(data.year), note=note, index=True)


def statements(data: ValfardData) -> Table:
    """The report's statements about figures 1–4 and Tabell 1 checked against the data."""
    checked = spec_statements(
        data.spread("kommuntyp", KVALITETSINDEX),
        data.spread("storleksklass", KVALITETSINDEX),
        data.spread("kommuntyp", NETTOKOSTNADSAVVIKELSE),
    )
    checked.loc[len(checked)] = debt_statement(data.skuld, data.skuld_geo)
    return Table(checked.set_index("Påstående i rapporten"), 4,
                 "Rapportens påståenden om figur 1–4 och tabell 1 prövade mot data",
                 data=checked, name="pastaenden", index=True, source=source_line(data.year),
                 note="Gruppernas medelvärden jämförs med medelvärdet över alla kommuner "
                      f"(ovägt). Påståendet om tabell 1: {DEBT_SOURCE_LINE}")


# --- parameters ---------------------------------------------------------------------------------


@register_report("valfard_i_hela_landet")
class ValfardParams(ReportParams):
    """Parameters of "Välfärd i hela landet" (``params/valfard*.yaml``)."""

    title: ClassVar[str] = "Välfärd i hela landet"

    kommungruppering: Literal[2023, 2017] = 2023
    storleksklasser: list[int] = Field(default_factory=lambda: list(DEFAULT_STORLEKSKLASSER))
    skuld_geo: str = "SE"
    """Tabell 1: the Eurostat geo code (SE Sverige)."""
    skuld_sektorer: list[str] = Field(default_factory=lambda: list(DEFAULT_DEBT_SECTORS))
    """Tabell 1: sectors shown (S13, S1311, S1312, S1313, S1314)."""
    skuld_ar: list[int] | None = None
    """Tabell 1: years shown; None means every year with data."""

    @field_validator("storleksklasser")
    @classmethod
    def _check_storleksklasser(cls, value: list[int]) -> list[int]:
        return validate_storleksklasser(value)

    @field_validator("skuld_geo", mode="before")
    @classmethod
    def _check_geo(cls, value: object) -> str:
        text = str(value).strip().upper()
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,15}", text):
            raise ValueError(f"{value!r} is not a Eurostat geo code. Fix: a code such as SE "
                             "(Sverige), DK, FI, NO or EU27_2020.")
        return text

    @field_validator("skuld_sektorer", mode="before")
    @classmethod
    def _check_sektorer(cls, value: object) -> list[str]:
        items = [value] if isinstance(value, str) else list(value or [])
        codes = [str(item).strip().upper() for item in items]
        allowed = "; ".join(f"{code} {name.lower()}" for code, name in SECTORS.items())
        unknown = [c for c in codes if c not in SECTORS]
        if unknown or not codes:
            what = f"unknown sector(s) {', '.join(unknown)}" if unknown else "no sector given"
            raise ValueError(f"{what}. Allowed: {allowed}. Fix: e.g. [S13, S1311, S1313].")
        return list(dict.fromkeys(codes))

    @field_validator("skuld_ar")
    @classmethod
    def _check_skuld_ar(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("an empty list of years. Fix: leave skuld_ar out for every year "
                             "with data, or list years such as [2021, 2022, 2023, 2024].")
        return sorted(set(value))

    def required_kpis(self) -> list[str]:
        return required_kpis()

    def eurostat_requests(self) -> list[EurostatRequest]:
        return [EurostatRequest(DEBT_DATASET, dict(DEBT_FILTERS))]

    def check_eurostat(self, tables) -> None:
        """The geo, sectors and years of Tabell 1 must have data in the table fetched."""
        from helpers.params import ParamsError

        table = tables[DEBT_DATASET]
        where = self.source or "<parameters>"
        debt = table[(table["na_item"] == "GD") & (table["unit"] == "PC_GDP")]
        geos = sorted(set(debt["geo"]))
        if self.skuld_geo not in geos:
            raise ParamsError(f"{where}: key 'skuld_geo': Eurostat's {DEBT_DATASET} has no "
                              f"gross debt for {self.skuld_geo!r}. Allowed: {', '.join(geos)}. "
                              "Fix: choose one of these (SE = Sverige).")
        own = debt[debt["geo"] == self.skuld_geo]
        have = sorted(set(own["sector"]))
        empty = [code for code in self.skuld_sektorer if code not in have]
        if empty:
            raise ParamsError(f"{where}: key 'skuld_sektorer': {DEBT_DATASET} has no values "
                              f"for {', '.join(empty)} in {self.skuld_geo}. Sectors with data: "
                              f"{', '.join(have)}. Fix: leave those out.")
        years = sorted(set(own.loc[own["sector"].isin(self.skuld_sektorer), "year"].astype(int)))
        wanted = self.skuld_ar or []
        without = [y for y in wanted if y not in years]
        if without:
            raise ParamsError(f"{where}: key 'skuld_ar': no value for {format_years(without)} in "
                              f"{DEBT_DATASET} ({self.skuld_geo}, "
                              f"{', '.join(self.skuld_sektorer)}). Years with data: "
                              f"{format_years(years)}. Fix: choose among these, or leave "
                              "skuld_ar out for all of them.")
