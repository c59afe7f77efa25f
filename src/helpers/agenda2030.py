"""RKA's Agenda 2030 indicator selection and the nulägesanalys of one kommun or region.

Kolada serves the selection as flat KPI groups (``G2KPI130255`` kommun, ``G2KPI130290``
region); the goal of each indicator comes from the project's parameter files
``params/agenda2030_goal_map.csv`` and ``params/agenda2030_goal_map_region.csv`` (adopted from
``../shared/agenda2030``, keeping each row's source and confidence).

- :func:`build_urval`: the selection per goal (id, title, divided by gender, latest year with
  data, coverage); members Kolada no longer serves stay in the table, marked as such.
- :func:`build_nulage`: for one unit, per indicator: latest value, Riket, the kommungrupp mean (or
  the mean of all regions), the mean of a "Liknande kommuner/regioner" group, rank and percentile,
  5-year trend, the K/M gap, and the deviation from the comparison group in standard deviations
  across all kommuner (regions); "bättre"/"sämre" only where the parameters state the direction.

Kolada metadata the notebook needs (group members, KPI titles, units, Liknande groups) is
written beside the processed values by :func:`fetch_meta` (``data/processed/agenda2030/``),
which ``skr-report fetch``/``run`` call (``Agenda2030Params.prepare_data``): notebooks never fetch.
"""

from __future__ import annotations

import logging
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from helpers import datasets, paths
from helpers.files import atomic_write_parquet
from helpers.formatting import escape_markdown as md
from helpers.formatting import format_number
from helpers.notebook import Figure, Table
from helpers.params import (
    KOMMUN,
    REGION,
    KpiId,
    ParamsError,
    ReportParams,
    closest_matches,
    register_report,
)

log = logging.getLogger(__name__)

GROUPS = {"kommun": "G2KPI130255", "region": "G2KPI130290"}
"""Kolada KPI group of RKA's Agenda 2030 selection per level."""
GOAL_MAP_FILES = {
    "kommun": paths.PARAMS_DIR / "agenda2030_goal_map.csv",
    "region": paths.PARAMS_DIR / "agenda2030_goal_map_region.csv",
}
GOAL_NAMES = {
    1: "Ingen fattigdom",
    2: "Ingen hunger",
    3: "God hälsa och välbefinnande",
    4: "God utbildning för alla",
    5: "Jämställdhet",
    6: "Rent vatten och sanitet för alla",
    7: "Hållbar energi för alla",
    8: "Anständiga arbetsvillkor och ekonomisk tillväxt",
    9: "Hållbar industri, innovationer och infrastruktur",
    10: "Minskad ojämlikhet",
    11: "Hållbara städer och samhällen",
    12: "Hållbar konsumtion och produktion",
    13: "Bekämpa klimatförändringarna",
    14: "Hav och marina resurser",
    15: "Ekosystem och biologisk mångfald",
    16: "Fredliga och inkluderande samhällen",
    17: "Genomförande och globalt partnerskap",
}
"""The 17 global goals by their Swedish names (globalamalen.se)."""
RIKET = "0000"
TREND_YEARS = 5
LIKNANDE_PREFIX = {"kommun": "Liknande kommuner", "region": "Liknande regioner"}
SOURCE_LINE = "Källa: Kolada (RKA), egna beräkningar."
STATUS_SERVED = "i Kolada"
STATUS_NOT_IN_CATALOGUE = "finns inte längre i Kolada (saknas i katalogen)"
STATUS_NO_VALUES = "inga värden i Kolada"
STATUS_NOT_FETCHED = "inte hämtad"
BETTER, WORSE = "bättre", "sämre"
META_DIR = "agenda2030"

__all__ = [
    "GOAL_NAMES",
    "GROUPS",
    "Agenda2030Params",
    "AgendaMeta",
    "build_nulage",
    "build_report",
    "build_urval",
    "draw_nulage",
    "fetch_meta",
    "goal_count_table",
    "load_goal_map",
    "load_meta",
    "nulage_display",
    "nulage_figure",
    "nulage_table",
    "resolve_liknande",
    "selection_table",
    "standing_out",
    "standing_out_table",
    "urval_display",
]


# --- parameters --------------------------------------------------------------------------------

_GROUP_ID = re.compile(r"^G\d+$")


@register_report("agenda2030")
class Agenda2030Params(ReportParams):
    """Parameters of the Agenda 2030 report.

    ``kommun`` is the unit of the nulägesanalys: a kommun for ``level: kommun``, a region for
    ``level: region`` (Riket ``0000`` is the reference, not a choice). ``liknande`` names the
    "Liknande kommuner/regioner" group: a Kolada group id (``G37411``) or a theme resolved for the
    unit (``övergripande``, ``socioekonomi``, …: the newest group titled "Liknande kommuner
    <theme>, <unit>, <year>"). ``onskad_riktning`` states, per KPI, whether a higher or a lower
    value is desired; only those KPIs are called "bättre"/"sämre".
    """

    title: ClassVar[str] = "Agenda 2030: lokala nyckeltal"
    years_rule: ClassVar[str] = "any"
    """Each indicator has its own latest year: the report's data year is the latest year in which
    any of its KPIs has data (``FetchResult.years_with_data(how="any")``), not a common year."""

    level: Literal["kommun", "region"] = "kommun"
    liknande: str | None = None
    onskad_riktning: dict[KpiId, Literal["högre", "lägre"]] = Field(default_factory=dict)
    antal_utmarkande: int = Field(default=10, ge=1, le=100)

    @classmethod
    def unit_types(cls, data: Mapping[str, Any]) -> tuple[str, ...]:
        return (REGION,) if data.get("level") == "region" else (KOMMUN,)

    @model_validator(mode="after")
    def _check_unit_level(self) -> Agenda2030Params:
        code = self.kommun
        if code is None:
            return self
        is_region_code = code.startswith("00")
        if code == RIKET:
            raise _error("riket_not_allowed",
                         "0000 (Riket) is the reference in every table, not a unit to analyse. "
                         "Fix: give a region code, e.g. 0012 (Region Skåne).", "kommun")
        if self.level == "region" and not is_region_code:
            raise _error("kommun_for_region",
                         f"{code} is a kommun code, but level is 'region': the region report "
                         "analyses one of the 21 regions (codes 0001–0025). Fix: give a region "
                         "code, e.g. 0012 (Region Skåne), or set `level: kommun`.", "kommun")
        if self.level == "kommun" and is_region_code:
            raise _error("region_for_kommun",
                         f"{code} is a region code, but level is 'kommun'. Fix: give a kommun "
                         "code (e.g. 1267 Höör), or set `level: region`.", "kommun")
        return self

    @model_validator(mode="after")
    def _check_liknande_format(self) -> Agenda2030Params:
        if self.liknande is not None and not self.liknande.strip():
            raise _error("liknande_empty", "liknande is empty. Fix: give a Kolada group id "
                         "(e.g. G37411) or a theme (e.g. övergripande), or leave it out.",
                         "liknande")
        return self

    def title_block(self, place: str, year: int | None, kolada: str) -> tuple[str, str]:
        """Kolada's values and KPI groups; the goals from the project's goal map."""
        subtitle, _ = super().title_block(place, year, kolada)
        return subtitle, (f"Data: {kolada}; målen ur projektets målkarta "
                          f"({GOAL_MAP_FILES[self.level].name})")

    @property
    def group_id(self) -> str:
        return GROUPS[self.level]

    def required_kpis(self, client: Any = None) -> list[str]:
        """The members of the level's KPI group: from Kolada when a client is given, else from
        the goal-map parameter file (which lists every member of the group)."""
        if client is not None:
            members = client.kpi_groups(ids=[self.group_id])
            if len(members):
                return list(dict.fromkeys(members["member_id"].astype(str)))
        return list(load_goal_map(self.level)["kpi_id"])

    def prepare_data(self, client: Any, processed_dir: str | Path | None = None) -> Path:
        """Write the Kolada metadata the notebook needs (see :func:`fetch_meta`)."""
        return fetch_meta(self, client, processed_dir)

    def place_name(self, processed_dir: Path) -> str | None:
        """A region's name (``level: region``) from the units that :func:`fetch_meta` wrote."""
        units = _meta_dir(processed_dir) / f"{self.level}_units.parquet"
        if self.level != "region" or self.kommun is None or not units.exists():
            return None
        table = pd.read_parquet(units, columns=["id", "title"])
        names = table.loc[table["id"].astype(str) == self.kommun, "title"]
        return str(names.iloc[0]) if len(names) else None


def _error(kind: str, message: str, key: str) -> PydanticCustomError:
    return PydanticCustomError(kind, "{message}", {"message": message, "key": key})


# --- the goal map ------------------------------------------------------------------------------


def load_goal_map(level: str = "kommun", path: str | Path | None = None) -> pd.DataFrame:
    """The adopted goal map: ``kpi_id, title, goal, malnamn, confidence, source``."""
    path = Path(path) if path is not None else GOAL_MAP_FILES[level]
    table = pd.read_csv(path, dtype={"kpi_id": str, "title": str, "confidence": str,
                                     "source": str, "malnamn": str})
    table["goal"] = table["goal"].astype(int)
    return table


# --- Kolada metadata ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaMeta:
    """Kolada metadata of one level: the group's members, their catalogue entries, the units and
    the Liknande groups (long: ``group_id, group_title, member_id, member_title``)."""

    level: str
    members: pd.DataFrame
    kpis: pd.DataFrame
    units: pd.DataFrame
    liknande: pd.DataFrame

    def unit_codes(self) -> list[str]:
        """The units compared: the 290 kommuner, or the 21 regions (without Riket)."""
        kind = "K" if self.level == "kommun" else "L"
        chosen = self.units[(self.units["type"] == kind) & (self.units["id"] != RIKET)]
        return sorted(chosen["id"].astype(str))

    def unit_name(self, code: str) -> str:
        names = dict(zip(self.units["id"], self.units["title"], strict=True))
        return names.get(code, code)


def _meta_dir(processed_dir: str | Path | None) -> Path:
    return (paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)) / META_DIR


_META_FILES = ("members", "kpis", "units", "liknande")


def fetch_meta(params: Agenda2030Params, client: Any,
               processed_dir: str | Path | None = None) -> Path:
    """Fetch the level's metadata through ``client`` and write it to
    ``<processed_dir>/agenda2030/<level>_*.parquet``; check the Liknande parameter against it."""
    level = params.level
    members = client.kpi_groups(ids=[GROUPS[level]])
    member_ids = list(dict.fromkeys(members["member_id"].astype(str)))
    kpis = client.kpis(ids=member_ids)
    if len(kpis):
        kpis = kpis[["id", "title", "is_divided_by_gender"]].copy()
    else:
        kpis = pd.DataFrame(columns=["id", "title", "is_divided_by_gender"])
    units = client.municipalities()
    liknande = client.municipality_groups(title=LIKNANDE_PREFIX[level])
    liknande = liknande[liknande["group_title"].str.startswith(LIKNANDE_PREFIX[level])]
    meta = AgendaMeta(level, members.reset_index(drop=True), kpis.reset_index(drop=True),
                      units.reset_index(drop=True), liknande.reset_index(drop=True))
    if params.kommun is not None and params.liknande is not None:
        resolve_liknande(params.liknande, params.kommun, meta)
    folder = _meta_dir(processed_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name in _META_FILES:
        atomic_write_parquet(getattr(meta, name), folder / f"{level}_{name}.parquet")
    _ensure_kommun_table(client, folder.parent)
    return folder


def _ensure_kommun_table(client: Any, processed_dir: Path) -> None:
    """The kommungrupp of each kommun comes from the kommun table; ``fetch_for`` writes none when
    the report's many KPIs share no year, so write the one of the latest population year."""
    if any(processed_dir.glob("kommuner_*.parquet")):
        return
    population = datasets.load_values([datasets.POPULATION_KPI], processed_dir=processed_dir)
    years = population.dropna(subset=["value"])["period"]
    if years.empty:
        log.warning("no population (N01951) values: no kommun table, no kommungrupp means")
        return
    year = int(years.max())
    table = datasets.build_kommuner(client, population, year)
    atomic_write_parquet(table, processed_dir / f"kommuner_{year}.parquet")


def load_meta(params: Agenda2030Params,
              processed_dir: str | Path | None = None) -> AgendaMeta:
    """The metadata written by :func:`fetch_meta`; FileNotFoundError naming the fix when it was
    not fetched (notebooks never fetch)."""
    folder = _meta_dir(processed_dir)
    files = {name: folder / f"{params.level}_{name}.parquet" for name in _META_FILES}
    absent = [path.name for path in files.values() if not path.exists()]
    if absent:
        raise FileNotFoundError(
            f"no Agenda 2030 metadata ({', '.join(absent)}) in {folder}. Fix: run "
            "`skr-report fetch params/agenda2030.yaml` (or params/agenda2030_region.yaml) first.")
    frames = {name: pd.read_parquet(path) for name, path in files.items()}
    return AgendaMeta(params.level, **frames)


def _liknande_parts(title: str) -> tuple[str, str, str] | None:
    parts = title.rsplit(", ", 2)
    if len(parts) != 3:
        return None
    theme, unit, year = parts
    theme = re.sub(r"^Liknande (kommuner|regioner),? ?", "", theme).strip(" ,")
    return theme, unit, year


def resolve_liknande(spec: str, unit: str, meta: AgendaMeta) -> pd.DataFrame:
    """The Liknande group meant by ``spec`` for ``unit``: rows ``group_id, group_title,
    member_id, member_title`` (the unit itself left out). ``spec`` is a group id or a theme;
    unknown ones raise ParamsError naming the groups available for the unit."""
    groups = meta.liknande
    spec = spec.strip()
    name = meta.unit_name(unit)
    titles = groups.drop_duplicates("group_id").set_index("group_id")["group_title"]
    own = {gid: title for gid, title in titles.items()
           if (parts := _liknande_parts(title)) is not None and parts[1] == name}
    if _GROUP_ID.match(spec):
        if spec not in titles.index:
            choices = own or titles.to_dict()
            raise ParamsError(
                f"key 'liknande': {spec} is not a {LIKNANDE_PREFIX[meta.level]} group in Kolada. "
                f"Closest: {'; '.join(closest_matches(spec, choices))}. Fix: give one of the "
                f"groups for {name}: {'; '.join(f'{g} {t}' for g, t in own.items())}.")
        chosen = spec
    else:
        wanted = spec.casefold()
        found = [(parts[2], gid) for gid, title in own.items()
                 if (parts := _liknande_parts(title)) and parts[0].casefold().startswith(wanted)]
        if not found:
            themes = sorted({p[0] for t in own.values() if (p := _liknande_parts(t))})
            raise ParamsError(
                f"key 'liknande': no {LIKNANDE_PREFIX[meta.level]} group with theme {spec!r} "
                f"for {name}. Themes available: {', '.join(themes) or '(none)'}. Fix: give one "
                "of these or a group id.")
        chosen = max(found)[1]
    rows = groups[(groups["group_id"] == chosen) & (groups["member_id"] != unit)]
    return rows.reset_index(drop=True)


# --- the selection -----------------------------------------------------------------------------


def build_urval(meta: AgendaMeta, goal_map: pd.DataFrame, values: pd.DataFrame,
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
            "konfidens": goals.at[kpi, "confidence"] if kpi in goals.index else "",
            "kalla_malkarta": goals.at[kpi, "source"] if kpi in goals.index else "",
            "status": status,
        })
    table = pd.DataFrame(rows)
    table["mal"] = table["mal"].astype("Int64")
    table["senaste_ar"] = table["senaste_ar"].astype("Int64")
    return table.sort_values(["mal", "kpi"], na_position="last", kind="stable").reset_index(
        drop=True)


def count_per_goal(urval: pd.DataFrame) -> pd.DataFrame:
    """Indicators per goal: ``mal, malnamn, antal, i_kolada`` (all 17 goals, 0 where none)."""
    served = urval["status"] == STATUS_SERVED
    counts = urval.groupby("mal")["kpi"].count()
    in_kolada = urval[served].groupby("mal")["kpi"].count()
    return pd.DataFrame({
        "mal": list(GOAL_NAMES),
        "malnamn": list(GOAL_NAMES.values()),
        "antal": [int(counts.get(g, 0)) for g in GOAL_NAMES],
        "i_kolada": [int(in_kolada.get(g, 0)) for g in GOAL_NAMES],
    })


def urval_display(urval: pd.DataFrame) -> pd.DataFrame:
    """The selection as shown: goal, id, title, gender split, latest year, coverage, and the
    goal-map confidence where it is not high; missing members say so."""
    confidence = urval["konfidens"].where(urval["konfidens"] != "high", "")
    return pd.DataFrame({
        "Mål": [f"{g} {n}" if pd.notna(g) else n for g, n in zip(urval["mal"], urval["malnamn"],
                                                                   strict=True)],
        "Id": urval["kpi"],
        "Nyckeltal": urval["titel"],
        "Köns­uppdelat": urval["konsuppdelad"],
        "Senaste år": [str(y) if pd.notna(y) else "saknas" for y in urval["senaste_ar"]],
        "Täckning": [f"{t} av {n}" for t, n in zip(urval["tackning"], urval["antal_enheter"],
                                                   strict=True)],
        "Målkoppling (om ej säker)": confidence.map(_confidence_sv),
        "Status": urval["status"],
    })


def _confidence_sv(value: str) -> str:
    return {"": "", "high (disputed)": "hög (omstridd)", "medium": "medel", "low": "låg"}.get(
        value, value)


# --- nulägesanalys -----------------------------------------------------------------------------


def _t_values(values: pd.DataFrame) -> pd.DataFrame:
    return values[(values["gender"] == "T") & values["value"].notna()]


def _trend(series: pd.Series, year: int) -> float:
    """Least-squares slope per year over ``year - 4 … year`` (at least 3 values), else NaN."""
    window = series[(series.index > year - TREND_YEARS) & (series.index <= year)]
    if len(window) < 3:
        return np.nan
    return float(np.polyfit(window.index.astype(float), window.to_numpy(float), 1)[0])


def build_nulage(unit: str, urval: pd.DataFrame, values: pd.DataFrame, units: Sequence[str],
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
    directions = dict(directions or {})
    units = list(units)
    group = list(kommungrupp) if kommungrupp is not None else units
    liknande = list(liknande) if liknande else []
    served = urval[urval["status"] == STATUS_SERVED]
    t = _t_values(values)
    t = t[t["kpi"].isin(served["kpi"])]
    by_kpi = dict(tuple(t.groupby("kpi")))
    gendered = values[values["gender"].isin(["K", "M"]) & values["value"].notna()
                      & (values["municipality"] == unit)]
    rows = []
    for row in served.itertuples(index=False):
        kpi_values = by_kpi.get(row.kpi)
        if kpi_values is None:
            continue
        own = kpi_values[kpi_values["municipality"] == unit].set_index("period")["value"]
        if own.empty:
            rows.append(_empty_row(row))
            continue
        year = int(own.index.max())
        same_year = kpi_values[kpi_values["period"] == year].set_index("municipality")["value"]
        peers = same_year.reindex(units).dropna()
        group_values = same_year.reindex(group).dropna()
        liknande_values = same_year.reindex(liknande).dropna()
        value = float(own[year])
        sd = float(peers.std(ddof=1)) if len(peers) > 1 else np.nan
        group_mean = float(group_values.mean()) if len(group_values) else np.nan
        liknande_mean = float(liknande_values.mean()) if len(liknande_values) else np.nan
        comparison = liknande_mean if liknande else group_mean
        kvinnor = _gender_value(gendered, row.kpi, year, "K")
        man = _gender_value(gendered, row.kpi, year, "M")
        deviation = (value - comparison) / sd if sd and not np.isnan(sd) else np.nan
        direction = directions.get(row.kpi)
        rows.append({
            "mal": row.mal, "malnamn": row.malnamn, "kpi": row.kpi, "titel": row.titel,
            "ar": year, "varde": value,
            "riket": float(same_year[RIKET]) if RIKET in same_year.index else np.nan,
            "grupp_medel": group_mean, "grupp_n": len(group_values),
            "liknande_medel": liknande_mean, "liknande_n": len(liknande_values),
            "rang": int((peers > value).sum() + 1) if unit in peers.index else pd.NA,
            "antal": len(peers),
            "percentil": 100 * ((peers < value).sum() + 0.5 * ((peers == value).sum() - 1))
            / (len(peers) - 1) if len(peers) > 1 and unit in peers.index else np.nan,
            "trend_per_ar": _trend(own.sort_index(), year),
            "kvinnor": kvinnor, "man": man, "skillnad_k_m": kvinnor - man,
            "sd": sd, "jamforelse": comparison, "avvikelse_sd": deviation,
            "riktning": direction or "",
            "bedomning": _judgement(deviation, direction),
        })
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


def _value_text(x: Any) -> str:
    if x is None or pd.isna(x):
        return "saknas"
    magnitude = abs(float(x))
    return format_number(x, 0 if magnitude >= 1000 else 1 if magnitude >= 10 else 2)


def nulage_display(nulage: pd.DataFrame, group_label: str, liknande_label: str | None,
                   unit_label: str) -> pd.DataFrame:
    """The nulägesanalys as shown (numbers the Swedish way, "saknas" where missing)."""
    out = pd.DataFrame({
        "Mål": nulage["mal"].astype(str),
        "Id": nulage["kpi"],
        "Nyckeltal": nulage["titel"],
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
    out["Trend/år (5 år)"] = nulage["trend_per_ar"].map(_value_text)
    out["K − M"] = nulage["skillnad_k_m"].map(lambda x: "" if pd.isna(x) else _value_text(x))
    out["Avvikelse (SD)"] = nulage["avvikelse_sd"].map(lambda x: format_number(x, 1))
    out["Bedömning"] = nulage["bedomning"]
    return out


# --- the figure --------------------------------------------------------------------------------


def draw_nulage(nulage: pd.DataFrame, unit_label: str, comparison_label: str) -> Any:
    """One compact panel per goal: each indicator's deviation from the comparison group in
    standard deviations (the unit as a dot, Riket as a ring); the data is ``nulage``."""
    import matplotlib.pyplot as plt

    from helpers.figures import literal_text

    unit_label, comparison_label = literal_text(unit_label), literal_text(comparison_label)
    data = nulage.dropna(subset=["avvikelse_sd"])
    goals = [g for g in GOAL_NAMES if (data["mal"] == g).any()]
    ncols = 4
    nrows = max(1, -(-len(goals) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 2.2 * nrows), sharex=True,
                             squeeze=False)
    limit = max(3.0, float(np.nanmax(np.abs(data["avvikelse_sd"]))) if len(data) else 3.0)
    for ax, goal in zip(axes.flat, goals, strict=False):
        rows = data[data["mal"] == goal].reset_index(drop=True)
        y = np.arange(len(rows))
        riket = (rows["riket"] - rows["jamforelse"]) / rows["sd"]
        ax.axvline(0, color="0.6", lw=0.8)
        ax.scatter(riket, y, facecolors="none", edgecolors="0.4", s=22, label="Riket")
        ax.scatter(rows["avvikelse_sd"], y, color="#1b6ca8", s=26, zorder=3, label=unit_label)
        ax.set_yticks(y, rows["kpi"], fontsize=7)
        ax.set_ylim(-0.7, max(len(rows) - 0.3, 0.7))
        ax.set_xlim(-limit * 1.05, limit * 1.05)
        ax.set_title(textwrap.shorten(f"Mål {goal}: {GOAL_NAMES[goal]}", 42, placeholder="…"),
                     fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(goals):]:
        ax.set_visible(False)
    fig.supxlabel(f"Avvikelse från {comparison_label}, standardavvikelser mellan enheterna",
                  fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


# --- the report: loading once, one call per table or figure ------------------------------------


@dataclass
class AgendaReport:
    """Everything the notebook shows, computed once from the processed data."""

    params: Agenda2030Params
    meta: AgendaMeta
    urval: pd.DataFrame
    nulage: pd.DataFrame | None
    unit_label: str | None
    group_label: str
    liknande_label: str | None
    comparison_label: str
    data_years: str


def build_report(params: Agenda2030Params,
                 processed_dir: str | Path | None = None) -> AgendaReport:
    """Load the processed values and metadata and build the selection and the nulägesanalys."""
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    meta = load_meta(params, folder)
    members = list(dict.fromkeys(meta.members["member_id"].astype(str)))
    fetched = [k for k in members if (folder / "values" / f"{k}.parquet").exists()]
    values = datasets.load_values(fetched, processed_dir=folder)
    if params.year is not None:
        values = values[values["period"] <= params.year]
    urval = build_urval(meta, load_goal_map(params.level), values, fetched)
    years = urval["senaste_ar"].dropna()
    data_years = (f"{int(years.min())}–{int(years.max())}" if years.min() != years.max()
                  else str(int(years.max()))) if len(years) else "saknas"
    if params.level == "kommun":
        group_label, comparison = "Kommungruppen (medel)", "kommungruppens medelvärde"
    else:
        group_label, comparison = "Alla regioner (medel)", "regionernas medelvärde"
    report = AgendaReport(params, meta, urval, None, None, group_label, None, comparison,
                          data_years)
    if params.kommun is None:
        return report
    group = _kommungrupp_of(params.kommun, folder) if params.level == "kommun" else None
    liknande_members: list[str] = []
    if params.liknande is not None:
        liknande_rows = resolve_liknande(params.liknande, params.kommun, meta)
        liknande_members = list(liknande_rows["member_id"])
        title = liknande_rows["group_title"].iloc[0] if len(liknande_rows) else params.liknande
        report.liknande_label = f"{title} (medel)"
        report.comparison_label = f"medelvärdet för {title}"
    if group is not None:
        report.group_label = f"Kommungrupp {group[0]} {group[1]} (medel)"
    report.unit_label = meta.unit_name(params.kommun)
    report.nulage = build_nulage(params.kommun, urval, values, meta.unit_codes(),
                                 group[2] if group else None, liknande_members,
                                 params.onskad_riktning)
    return report


def _kommungrupp_of(kommun: str, processed_dir: Path) -> tuple[str, str, list[str]] | None:
    files = sorted(processed_dir.glob("kommuner_*.parquet"))
    if not files:
        log.warning("no kommun table in %s: no kommungrupp means", processed_dir)
        return None
    table = pd.read_parquet(files[-1])
    row = table[table["kommun"] == kommun]
    if row.empty or pd.isna(row["kommungrupp_2023_kod"].iloc[0]):
        return None
    code, name = row["kommungrupp_2023_kod"].iloc[0], row["kommungrupp_2023"].iloc[0]
    return code, name, sorted(table.loc[table["kommungrupp_2023_kod"] == code, "kommun"])


def goal_count_table(report: AgendaReport) -> Table:
    """Tabell 1: indicators per goal (all 17 goals)."""
    counts = count_per_goal(report.urval)
    shown = pd.DataFrame({"Mål": [f"{g} {n}" for g, n in zip(counts["mal"], counts["malnamn"],
                                                              strict=True)],
                          "Nyckeltal i urvalet": counts["antal"].astype(str),
                          "med värden i Kolada": counts["i_kolada"].astype(str)})
    return Table(shown, 1, "Antal nyckeltal i urvalet per mål", data=counts,
                 name="agenda2030_antal_per_mal", source=source_text(report))


def selection_table(report: AgendaReport) -> Table:
    """Tabell 2: the selection, every member of the Kolada group, with the members Kolada no
    longer serves named under it."""
    return Table(urval_display(report.urval), 2, "RKA:s urval av nyckeltal, per mål",
                 data=report.urval, name="agenda2030_urval", source=source_text(report),
                 note=missing_text(report))


def nulage_table(report: AgendaReport) -> Table | str:
    """Tabell 3: the nulägesanalys (a sentence saying why not, when no unit is given)."""
    if report.nulage is None:
        return NO_NULAGE_TEXT
    shown = nulage_display(report.nulage, report.group_label, report.liknande_label,
                           report.unit_label or "")
    return Table(shown, 3, f"Nulägesanalys för {report.unit_label}",
                 data=report.nulage.assign(enhet=report.params.kommun), name="agenda2030_nulage",
                 source=source_text(report))


def nulage_figure(report: AgendaReport) -> Figure | None:
    """Figur 1: per goal, each indicator's deviation from the comparison group (None when no
    unit is given)."""
    if report.nulage is None or report.nulage.empty:
        return None
    unit = report.unit_label or ""
    fig = draw_nulage(report.nulage, unit, report.comparison_label)
    shown = report.nulage.dropna(subset=["avvikelse_sd"])
    data = shown[["mal", "malnamn", "kpi", "titel", "avvikelse_sd"]].assign(
        riket_avvikelse_sd=(shown["riket"] - shown["jamforelse"]) / shown["sd"],
        enhet=report.params.kommun)
    alt = (f"Punktdiagram, en ruta per Agenda 2030-mål. Varje nyckeltal är en punkt som visar hur "
           f"många standardavvikelser (mellan alla enheter) {unit} ligger från "
           f"{report.comparison_label}; ringar visar Riket.")
    note = ("Figuren visar per mål hur långt från jämförelsegruppens medelvärde värdet ligger, i "
            "standardavvikelser mellan alla enheter (prick), och var Riket ligger (ring).")
    return Figure(fig, 1, f"Nuläge per mål för {unit}: avvikelse från {report.comparison_label}",
                  alt, data=data, name="agenda2030_nulage_figur", source=source_text(report),
                  note=note)


def standing_out_table(report: AgendaReport) -> Table | str:
    """Tabell 4: the indicators that stand out most."""
    if report.nulage is None:
        return NO_NULAGE_TEXT
    chosen = standing_out(report.nulage, report.params.antal_utmarkande)
    shown = nulage_display(chosen, report.group_label, report.liknande_label,
                           report.unit_label or "")
    shown = shown[["Mål", "Id", "Nyckeltal", "År", report.unit_label or "",
                   *([report.liknande_label] if report.liknande_label else
                     [report.group_label]), "Avvikelse (SD)", "Bedömning"]]
    return Table(shown, 4, "Nyckeltalen som avviker mest från jämförelsegruppen",
                 data=chosen.assign(enhet=report.params.kommun), name="agenda2030_utmarkande",
                 source=source_text(report))


NO_NULAGE_TEXT = "*Ingen nulägesanalys: ingen kommun eller region angiven.*"


def direction_text(report: AgendaReport) -> str:
    """Which KPIs are judged "bättre"/"sämre", in Swedish."""
    given = report.params.onskad_riktning
    if not given:
        return ("Ingen önskad riktning är angiven i parametrarna: avvikelserna visas utan "
                "bedömning som bättre eller sämre.")
    listed = ", ".join(f"{md(k)} ({md(v)} är önskvärt)" for k, v in sorted(given.items()))
    return (f"Bedömningen bättre/sämre görs bara för nyckeltal vars önskade riktning anges i "
            f"parametrarna: {listed}. Övriga avvikelser visas utan bedömning.")


def title_text(report: AgendaReport) -> str:
    level = "kommuner" if report.params.level == "kommun" else "regioner"
    title = f"# Agenda 2030 – nyckeltal för {level}"
    if report.unit_label:
        title += f": nulägesanalys för {md(report.unit_label)}"
    return title


def missing_text(report: AgendaReport) -> str:
    """The members Kolada no longer serves, named (they stay in the table)."""
    missing = report.urval[report.urval["status"] != STATUS_SERVED]
    group = report.meta.members["group_id"].iloc[0] if len(report.meta.members) else ""
    served = len(report.urval) - len(missing)
    text = (f"Kolada-gruppen {md(group)} har {len(report.urval)} nyckeltal; {served} har värden "
            f"i data.")
    if len(missing):
        listed = "; ".join(f"{md(k)} ({md(s)})" for k, s in zip(missing["kpi"], missing["status"],
                                                                strict=True))
        text += (f" {len(missing)} serveras inte längre av Kolada och står kvar i tabellen: "
                 f"{listed}.")
    unmapped = report.urval["mal"].isna().sum()
    if unmapped:
        text += f" {unmapped} nyckeltal saknar mål i målkartan."
    return text


def source_text(report: AgendaReport) -> str:
    return f"{SOURCE_LINE} Data avser {report.data_years} (senaste år med data per nyckeltal)."


def nulage_text(report: AgendaReport) -> str:
    """What the nulägesanalys compares with, in Swedish."""
    if report.nulage is None:
        return ("Ingen kommun eller region är angiven i parametrarna (`kommun`): "
                "nulägesanalysen tas inte fram.")
    level = "kommuner" if report.params.level == "kommun" else "regioner"
    text = (f"För varje nyckeltal: senaste värde för {md(report.unit_label)}, Riket (0000), "
            f"{md(report.group_label.removesuffix(' (medel)'))} (ovägt medelvärde)")
    if report.liknande_label:
        text += f", {md(report.liknande_label.removesuffix(' (medel)'))} (ovägt medelvärde)"
    text += (f"; rang bland alla {level} med värde (1 = högst värde) och percentil; trend per "
             f"år över de fem senaste åren (minst tre värden); skillnaden kvinnor − män där "
             f"nyckeltalet är könsuppdelat. Avvikelsen anges i standardavvikelser mellan alla "
             f"{level} från {md(report.comparison_label)}. Högt värde är inte alltid bra: se "
             f"avsnittet om vad som sticker ut.")
    return text
