"""The Kolada metadata the notebook needs, written beside the processed values
(``data/processed/agenda2030/``) by :func:`fetch_meta` during ``skr-report fetch``/``run``
(the model's ``prepare_data``): group members, KPI titles, units, Liknande groups. Notebooks
never fetch."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import datasets, paths
from helpers.domain import POPULATION_KPI
from helpers.files import atomic_write_parquet
from helpers.params import (
    ParamsError,
    closest_matches,
)
from helpers.reports.agenda2030.spec import GROUP_ID, GROUPS, LIKNANDE_PREFIX, META_DIR, RIKET

log = logging.getLogger(__name__)


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


def meta_dir(processed_dir: str | Path | None) -> Path:
    return (paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)) / META_DIR


META_FILES = ("members", "kpis", "units", "liknande")


def fetch_meta(params: Any, client: Any,
               processed_dir: str | Path | None = None) -> Path:
    """Fetch the level's metadata (``params``: the validated ``Agenda2030Params``) through
    ``client`` and write it to
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
    folder = meta_dir(processed_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name in META_FILES:
        atomic_write_parquet(getattr(meta, name), folder / f"{level}_{name}.parquet")
    _ensure_kommun_table(client, folder.parent)
    return folder


def _ensure_kommun_table(client: Any, processed_dir: Path) -> None:
    """The kommungrupp of each kommun comes from the kommun table; ``fetch_for`` writes none when
    the report's many KPIs share no year, so write the one of the latest population year."""
    if any(processed_dir.glob("kommuner_*.parquet")):
        return
    population = datasets.load_values([POPULATION_KPI], processed_dir=processed_dir)
    years = population.dropna(subset=["value"])["period"]
    if years.empty:
        log.warning("no population (N01951) values: no kommun table, no kommungrupp means")
        return
    year = int(years.max())
    table = datasets.build_kommuner(client, population, year)
    atomic_write_parquet(table, processed_dir / f"kommuner_{year}.parquet")


def load_meta(params: Any,
              processed_dir: str | Path | None = None) -> AgendaMeta:
    """The metadata written by :func:`fetch_meta`; FileNotFoundError naming the fix when it was
    not fetched (notebooks never fetch)."""
    folder = meta_dir(processed_dir)
    files = {name: folder / f"{params.level}_{name}.parquet" for name in META_FILES}
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
    if GROUP_ID.match(spec):
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
