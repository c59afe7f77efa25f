"""The parameters of the Agenda 2030 report (``params/agenda2030*.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import Field, model_validator

from helpers.params import (
    KOMMUN,
    REGION,
    KpiId,
    ReportParams,
    register_report,
)
from helpers.params.errors import field_error as _error
from helpers.reports.agenda2030.meta import META_FILES, fetch_meta, meta_dir
from helpers.reports.agenda2030.spec import GOAL_MAP_FILES, GROUPS, META_DIR, RIKET, load_goal_map


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
    parameter_labels: ClassVar[dict[str, str]] = {
        **ReportParams.parameter_labels,
        "kommun": "Kommun eller region",
        "level": "Nivå",
        "liknande": "Jämförelsegrupp (Liknande kommuner eller regioner)",
        "onskad_riktning": "Önskad riktning",
        "antal_utmarkande": "Antal nyckeltal i ”Det som sticker ut”",
    }
    parameter_unset: ClassVar[dict[str, str]] = {
        **ReportParams.parameter_unset, "kommun": "ingen",
        "liknande": "ingen", "year": "senaste år med data per nyckeltal"}
    years_rule: ClassVar[str] = "any"
    """Each indicator has its own latest year: the report's data year is the latest year in which
    any of its KPIs has data (``FetchResult.years_with_data(how="any")``), not a common year."""

    level: Literal["kommun", "region"] = "kommun"
    liknande: str | None = None
    onskad_riktning: dict[KpiId, Literal["högre", "lägre"]] = Field(default_factory=dict)
    antal_utmarkande: int = Field(default=10, ge=1, le=100)

    @classmethod
    def parameter_text(cls, key: str, value: Any) -> str | None:
        if key == "onskad_riktning" and isinstance(value, Mapping):
            if not value:
                return "inte angiven för något nyckeltal"
            by_direction = {d: [k for k, v in value.items() if v == d] for d in ("högre", "lägre")}
            return "; ".join(f"{d} är önskvärt: {', '.join(kpis)}"
                             for d, kpis in by_direction.items() if kpis)
        return None

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

    def data_files(self) -> list[str]:
        """The level's metadata that :meth:`prepare_data` writes (``agenda2030/<level>_*``)."""
        return [f"{META_DIR}/{self.level}_{name}.parquet" for name in META_FILES]

    def place_name(self, processed_dir: Path) -> str | None:
        """A region's name (``level: region``) from the units that :func:`fetch_meta` wrote."""
        units = meta_dir(processed_dir) / f"{self.level}_units.parquet"
        if self.level != "region" or self.kommun is None or not units.exists():
            return None
        table = pd.read_parquet(units, columns=["id", "title"])
        names = table.loc[table["id"].astype(str) == self.kommun, "title"]
        return str(names.iloc[0]) if len(names) else None
