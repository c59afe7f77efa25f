"""The report's data in one object: values, kommun table and the validated parameters."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.datasets import kommun_name, load_eurostat, load_kommuner, load_values
from helpers.params import format_years
from helpers.rendering.figure_files import frame_digest
from helpers.reports.valfard.debt import debt_series
from helpers.reports.valfard.groups import (
    GroupSpread,
    group_spread,
    grouping_label,
    kommun_groups,
    latest_year,
    wide_values,
)
from helpers.reports.valfard.params import ValfardParams
from helpers.reports.valfard.spec import DEBT_DATASET, FIGURE_KPIS, required_kpis

_SHARED: OrderedDict[tuple, dict[Hashable, Any]] = OrderedDict()
_SHARED_KEPT = 4
"""Results shared by the kommun variants of one data set, per process (a batch worker's kernel
builds many kommuner in a row): the group spreads, their sentences, the checked statements."""


@dataclass
class ValfardData:
    """Everything the report's pieces need: values, kommun table, the data year and the
    validated parameters."""

    values: pd.DataFrame
    kommuner: pd.DataFrame
    wide: pd.DataFrame
    year: int
    params: ValfardParams
    processed_dir: Path | None = None
    _skuld: pd.DataFrame | None = field(default=None, repr=False)
    _key: tuple | None = field(default=None, repr=False)

    def shared(self, name: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per process for every variant with the same data and parameters
        but the kommun: keyed by the content of the values and the kommun table, the year and
        the other parameters (so a kommun variant reuses what the one before computed)."""
        if self._key is None:
            others = self.params.model_dump(mode="json", exclude={"kommun"})
            self._key = (*frame_digest(self.wide, self.kommuner), self.year,
                         json.dumps(others, sort_keys=True), str(self.processed_dir))
        memo = _SHARED.get(self._key)
        if memo is None:
            memo = _SHARED[self._key] = {}
            while len(_SHARED) > _SHARED_KEPT:
                _SHARED.popitem(last=False)
        _SHARED.move_to_end(self._key)
        if name not in memo:
            memo[name] = compute()
        return memo[name]

    @property
    def kommun(self) -> str | None:
        return self.params.kommun

    @property
    def kommungruppering(self) -> int:
        return self.params.kommungruppering

    @property
    def skuld_geo(self) -> str:
        return self.params.skuld_geo

    @property
    def skuld_sektorer(self) -> tuple[str, ...]:
        return tuple(self.params.skuld_sektorer)

    @property
    def skuld_ar(self) -> tuple[int, ...] | None:
        return tuple(self.params.skuld_ar) if self.params.skuld_ar else None

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
        """The marked kommun's name (``datasets.kommun_name``), None without one."""
        return None if self.kommun is None else kommun_name(self.kommuner, self.kommun)

    def groups(self, by: str) -> pd.Series:
        return kommun_groups(self.kommuner, by, self.kommungruppering)

    def all_kommuner_spread(self, by: str, indicators: dict[str, str]) -> GroupSpread:
        """The spread of ``indicators`` over the groups ``by``, no kommun marked (shared by
        every kommun variant: :meth:`shared`)."""
        return self.shared(("spread", by, tuple(indicators.items())), lambda: group_spread(
            self.wide, self.kommuner, self.groups(by), indicators, year=self.year,
            grouping=grouping_label(by, self.kommungruppering)))

    def spread(self, by: str, indicators: dict[str, str]) -> GroupSpread:
        """The spread with the variant's kommun marked (its name and group)."""
        spread = self.all_kommuner_spread(by, indicators)
        if self.kommun is None:
            return spread
        groups = self.shared(("groups", by), lambda: self.groups(by))
        names = self.kommuner.set_index("kommun")["kommunnamn"]
        return replace(spread, kommun=self.kommun, kommun_label=names.get(self.kommun),
                       kommun_group=str(groups.get(self.kommun)))


def load_data(params: ValfardParams, processed_dir: str | Path | None = None) -> ValfardData:
    """Load the report's values and kommun table from ``data/processed`` for validated
    parameters.

    ``params.year`` None means the latest year with data for the figures' KPIs. A year without
    data or a kommun missing from the kommun table raises ValueError naming what is available.
    The Eurostat table of Tabell 1 is read when first used.
    """
    folder = Path(processed_dir) if processed_dir is not None else None
    values = load_values(required_kpis(), processed_dir=folder)
    available = sorted(values.loc[values["kpi"].isin(FIGURE_KPIS), "period"].unique())
    year = params.year if params.year is not None else latest_year(values)
    if int(year) not in available:
        raise ValueError(f"year {year} has no data for the figures' KPIs; years with data: "
                         f"{format_years(available)}.")
    kommuner = load_kommuner(int(year), params.storleksklasser, processed_dir=folder)
    if params.kommun is not None and params.kommun not in set(kommuner["kommun"]):
        raise ValueError(f"kommun {params.kommun!r} is not in the kommun table for {year}.")
    wide = wide_values(values, int(year), list(kommuner["kommun"]))
    return ValfardData(values, kommuner, _with_derived(wide), int(year), params, folder)


def _with_derived(wide: pd.DataFrame) -> pd.DataFrame:
    """Add empty columns for required KPIs without values, so every lookup is defined."""
    missing = [k for k in required_kpis() if k not in wide.columns]
    return wide.assign(**{k: np.nan for k in missing})
