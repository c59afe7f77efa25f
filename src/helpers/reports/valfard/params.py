"""The parameters of "Välfärd i hela landet" (``params/valfard*.yaml``)."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from helpers.datasets import (
    DEFAULT_SIZE_LIMITS,
    EurostatRequest,
    validate_size_limits,
)
from helpers.formatting import format_number
from helpers.params import ParamsError, ReportParams, format_years, register_report
from helpers.reports.valfard.spec import (
    DEBT_DATASET,
    DEBT_FILTERS,
    DEFAULT_DEBT_SECTORS,
    SECTORS,
    required_kpis,
)


@register_report("valfard_i_hela_landet")
class ValfardParams(ReportParams):
    """Parameters of "Välfärd i hela landet" (``params/valfard*.yaml``)."""

    title: ClassVar[str] = "Välfärd i hela landet"
    parameter_labels: ClassVar[dict[str, str]] = {
        **ReportParams.parameter_labels,
        "kommungruppering": "Kommuntyp",
        "storleksklasser": "Storleksklasser, nedre gräns (invånare)",
        "skuld_geo": "Tabell 1: land",
        "skuld_sektorer": "Tabell 1: sektorer",
        "skuld_ar": "Tabell 1: år",
    }
    parameter_unset: ClassVar[dict[str, str]] = {**ReportParams.parameter_unset,
                                                 "skuld_ar": "alla år med data"}

    kommungruppering: Literal[2023, 2017] = 2023
    storleksklasser: list[int] = Field(default_factory=lambda: list(DEFAULT_SIZE_LIMITS))
    skuld_geo: str = "SE"
    """Tabell 1: the Eurostat geo code (SE Sverige)."""
    skuld_sektorer: list[str] = Field(default_factory=lambda: list(DEFAULT_DEBT_SECTORS))
    """Tabell 1: sectors shown (S13, S1311, S1312, S1313, S1314)."""
    skuld_ar: list[int] | None = None
    """Tabell 1: years shown; None means every year with data."""

    @field_validator("storleksklasser")
    @classmethod
    def _check_storleksklasser(cls, value: list[int]) -> list[int]:
        return validate_size_limits(value)

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

    @classmethod
    def parameter_text(cls, key: str, value: object) -> str | None:
        if key == "kommungruppering":
            return f"SKR:s kommungruppsindelning {value}"
        if key == "storleksklasser" and isinstance(value, list):
            return ", ".join(format_number(v) for v in value)
        if key == "skuld_geo":
            return {"SE": "Sverige (SE)"}.get(str(value), str(value))
        if key == "skuld_sektorer" and isinstance(value, list):
            return ", ".join(f"{SECTORS.get(code, code).lower()} ({code})" for code in value)
        return None

    def required_kpis(self) -> list[str]:
        return required_kpis()

    def eurostat_requests(self) -> list[EurostatRequest]:
        return [EurostatRequest(DEBT_DATASET, dict(DEBT_FILTERS))]

    def check_eurostat(self, tables) -> None:
        """The geo, sectors and years of Tabell 1 must have data in the table fetched."""
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
