"""The Kolada catalogue the parameters are checked against: kommuner, regions, KPIs."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Catalogue:
    """What the parameters are checked against: kommuner, regions (and Riket), KPIs."""

    kommuner: dict[str, str]
    """kommun code → name (290)."""
    regions: dict[str, str]
    """region code → name, including ``0000`` Riket."""
    kpis: dict[str, str]
    """KPI id → title."""
    divided_by_gender: frozenset[str] = field(default_factory=frozenset)
    """KPI ids Kolada divides by gender (K/M besides T)."""
    latest_period: dict[str, int] = field(default_factory=dict)
    """KPI id → the latest period Kolada has published (``publ_period``), where given."""

    @classmethod
    def from_client(cls, client: Any) -> Catalogue:
        units = client.municipalities()
        kpis = client.kpis()
        gender = kpis["is_divided_by_gender"].fillna(False).astype(bool)
        return cls(
            kommuner=_units_of_type(units, "K"),
            regions=_units_of_type(units, "L"),
            kpis=dict(zip(kpis["id"].astype(str), kpis["title"].astype(str), strict=True)),
            divided_by_gender=frozenset(kpis.loc[gender, "id"].astype(str)),
            latest_period=_latest_periods(kpis),
        )

    def is_divided_by_gender(self, kpi: str) -> bool:
        return kpi in self.divided_by_gender

    def unit_name(self, code: str) -> str | None:
        """The name of a kommun or region code, None when unknown."""
        return self.kommuner.get(code) or self.regions.get(code)

    @property
    def units(self) -> list[str]:
        """Every unit code: kommuner, regions and Riket."""
        return [*self.kommuner, *self.regions]


def _latest_periods(kpis: pd.DataFrame) -> dict[str, int]:
    if "publ_period" not in kpis:
        return {}
    periods = pd.to_numeric(kpis["publ_period"], errors="coerce")
    known = periods.notna()
    return dict(zip(kpis.loc[known, "id"].astype(str), periods[known].astype(int), strict=True))


def _units_of_type(units: pd.DataFrame, unit_type: str) -> dict[str, str]:
    chosen = units[units["type"] == unit_type].sort_values("id")
    return dict(zip(chosen["id"].astype(str), chosen["title"].astype(str), strict=True))


_CATALOGUES: weakref.WeakKeyDictionary[Any, Catalogue] = weakref.WeakKeyDictionary()


def catalogue_for(client: Any) -> Catalogue:
    """The catalogue of a client, built once per client object and kept in memory."""
    catalogue = _CATALOGUES.get(client)
    if catalogue is None:
        catalogue = Catalogue.from_client(client)
        _CATALOGUES[client] = catalogue
    return catalogue
