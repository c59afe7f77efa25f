"""Preparing a variant's data: fetch what the validated parameters need, write ``data/processed``
and settle the data year, before any notebook starts.

:func:`prepare` is what ``skr-report fetch``, ``run`` and ``batch`` call: values of the report's
KPIs and N01951 (:mod:`.values`), the kommun table (:mod:`.kommuner`), the report's own extra
data (its model's ``prepare_data`` hook), the Eurostat tables it names (:mod:`.eurostat`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from helpers import paths
from helpers.datasets.eurostat import fetch_eurostat
from helpers.datasets.kommuner import DEFAULT_SIZE_LIMITS, build_kommuner
from helpers.datasets.values import (
    describe_source,
    fetch_values,
    write_source,
    write_values,
    years_by_kpi,
)
from helpers.domain import POPULATION_KPI
from helpers.files import atomic_write_bytes, atomic_write_parquet
from helpers.params import ReportParams, check_year

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class FetchResult:
    """What ``fetch_for`` wrote and what it found."""

    processed_dir: Path
    kpis: list[str]
    """The KPIs fetched (the parameter set's plus N01951)."""
    required_kpis: list[str]
    """The KPIs the parameter set asked for."""
    missing_kpis: list[str]
    """KPIs with no value at all: reports show them as "saknas i data"."""
    years_by_kpi: dict[str, list[int]]
    """For each KPI with data, the years with at least one value."""
    year: int | None
    """The population year of the kommun table written (None when no year has data)."""
    rows: int
    deleted_dropped: int
    requests: int
    source: dict

    def years_with_data(self, kpis: Iterable[str] | None = None, how: str = "all") -> list[int]:
        """Years with data for ``kpis`` (default: the required KPIs that have data, else N01951):
        ``how="all"`` years in which every one has a value, ``"any"`` in which at least one does."""
        chosen = [k for k in (kpis or self.required_kpis) if k in self.years_by_kpi]
        if not chosen and kpis is None:
            chosen = [k for k in self.kpis if k in self.years_by_kpi]
        sets = [set(self.years_by_kpi[k]) for k in chosen]
        if not sets:
            return []
        years = set.intersection(*sets) if how == "all" else set.union(*sets)
        return sorted(years)


def fetch_for(params: Any, client: Any, processed_dir: Path | None = None,
              size_limits: Iterable[int] = DEFAULT_SIZE_LIMITS) -> FetchResult:
    """Fetch what a parameter set needs and write it to ``processed_dir``.

    Values of ``params.required_kpis()`` and N01951 for every kommun, region and Riket, for
    ``params.required_years()`` (None: every year), one parquet file per KPI; the kommun table for
    ``params.year`` (or the latest year with data); ``source.json``.
    """
    processed_dir = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    required = list(dict.fromkeys(str(k) for k in params.required_kpis()))
    kpis = list(dict.fromkeys([*required, POPULATION_KPI]))
    requests_before = client.stats.requests
    with client.collect() as used:
        values = fetch_values(client, kpis, params.required_years())
        years = years_by_kpi(values)
        missing = [k for k in kpis if k not in years]
        result_year = _kommun_table_year(params, required, years)
        _check_year_before_writing(params, kpis, required, years)
        processed_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(processed_dir / ".fetch.lock"):
            write_values(values, kpis, processed_dir)
            if result_year is not None:
                table = build_kommuner(client, values, result_year, size_limits)
                atomic_write_parquet(table, processed_dir / f"kommuner_{result_year}.parquet")
            source = describe_source(used(), kpis)
            write_source(source, processed_dir)
    return FetchResult(
        processed_dir=processed_dir, kpis=kpis, required_kpis=required, missing_kpis=missing,
        years_by_kpi=years, year=result_year, rows=len(values),
        deleted_dropped=int(values.attrs.get("deleted_dropped", 0)),
        requests=client.stats.requests - requests_before, source=source,
    )


def _check_year_before_writing(params: Any, kpis: list[str], required: list[str],
                               years_by_kpi: dict[str, list[int]]) -> None:
    """A year given in the parameters that has no data raises ``ParamsError`` (naming the years
    that have data) before anything is written: no ``kommuner_<year>.parquet`` for a year that
    is then rejected (it would make every variant look out of date)."""
    if getattr(params, "year", None) is None or not hasattr(params, "years_rule"):
        return
    probe = FetchResult(processed_dir=Path(), kpis=kpis, required_kpis=required,
                        missing_kpis=[], years_by_kpi=years_by_kpi, year=None, rows=0,
                        deleted_dropped=0, requests=0, source={})
    check_year(params, probe.years_with_data(how=params.years_rule))


def _kommun_table_year(params: Any, required: list[str],
                       years_by_kpi: dict[str, list[int]]) -> int | None:
    if getattr(params, "year", None) is not None:
        return int(params.year)
    chosen = [set(years_by_kpi[k]) for k in required if k in years_by_kpi]
    common = set.intersection(*chosen) if chosen else set(years_by_kpi.get(POPULATION_KPI, []))
    return max(common) if common else None


@dataclass(frozen=True)
class Prepared:
    """A validated parameter set with its data fetched and its data year settled."""

    params: Any
    fetch: FetchResult
    year: int
    eurostat: dict | None = None
    """Where the Eurostat tables came from (``eurostat/source.json``), None when none needed."""
    latest_year: int | None = None
    """The latest year with data by the report's rule: the year a report without a ``year``
    settles on."""

    @property
    def source(self) -> dict:
        """The Kolada source, with the Eurostat one under ``"eurostat"`` when there is one."""
        source = dict(self.fetch.source)
        if self.eurostat is not None:
            source["eurostat"] = self.eurostat
        return source

    def summary(self) -> str:
        """What was fetched, for the user: KPIs, values, data year, what Kolada lacks, the
        Eurostat tables."""
        result = self.fetch
        missing = (f"; no data in Kolada for {', '.join(result.missing_kpis)} "
                   "(shown as 'saknas i data')" if result.missing_kpis else "")
        tables = (f"; Eurostat {', '.join(self.eurostat['datasets'])}"
                  if self.eurostat else "")
        return (f"{len(result.kpis)} KPIs, {result.rows} values, data year "
                f"{self.year}{missing}{tables}")


def prepare(params: ReportParams, client: Any, processed_dir: Path | None = None,
            *, eurostat_client: Any = None) -> Prepared:
    """Fetch what validated parameters need, write ``data/processed`` and settle the data year.

    Raises ``ParamsError`` (a year without data, naming the years that have data; an unknown
    Eurostat code) or a ``SourceError`` (Kolada or Eurostat) before any notebook starts.
    ``eurostat_client`` is needed when the report reads Eurostat tables.
    """
    result = fetch_for(params, client, processed_dir)
    params.prepare_data(client, result.processed_dir)
    years = result.years_with_data(how=params.years_rule)
    year = check_year(params, years)
    eurostat = None
    if params.eurostat_requests():
        if eurostat_client is None:
            raise ValueError("this report reads Eurostat tables: pass an eurostat_client")
        eurostat = fetch_eurostat(params, eurostat_client, result.processed_dir)
    prepared = Prepared(params=params, fetch=result, year=year, eurostat=eurostat,
                        latest_year=max(years) if years else None)
    _write_stamp(prepared, result.processed_dir)
    return prepared


PREPARED_DIR_NAME = "prepared"
"""``data/processed/prepared/<digest>.json``: a parameter set whose data are in place."""


def _stamp_path(params: ReportParams, processed_dir: Path) -> Path:
    text = json.dumps(params.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Path(processed_dir) / PREPARED_DIR_NAME / f"{params.report}-{digest}.json"


def _write_stamp(prepared: Prepared, processed_dir: Path) -> None:
    files = [f"values/{kpi}.parquet" for kpi in prepared.fetch.kpis]
    if prepared.fetch.year is not None:
        files.append(f"kommuner_{prepared.fetch.year}.parquet")
    files += [f"eurostat/{name}.parquet" for name in (prepared.eurostat or {}).get("datasets", [])]
    stamp = {"report": prepared.params.report, "year": prepared.year, "files": files,
             "source": prepared.source.get("identity")}
    atomic_write_bytes(_stamp_path(prepared.params, processed_dir),
                       (json.dumps(stamp, ensure_ascii=False, indent=1) + "\n").encode())


def is_prepared(params: ReportParams, processed_dir: Path | None = None) -> bool:
    """Whether the data of these parameters are in place, so that a notebook run by hand
    fetches nothing: :func:`prepare` has written them for exactly these parameters (and they
    are still there), or every file the report reads exists (its KPIs' values, a kommun table,
    its Eurostat tables, what its ``prepare_data`` writes: ``params.data_files()``)."""
    processed_dir = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    try:
        stamp = json.loads(_stamp_path(params, processed_dir).read_text(encoding="utf-8"))
        if all((processed_dir / name).is_file() for name in stamp.get("files") or []):
            return True
    except (OSError, ValueError):
        pass
    kpis = dict.fromkeys([*params.required_kpis(), POPULATION_KPI])
    files = [f"values/{kpi}.parquet" for kpi in kpis]
    files += [f"eurostat/{req.dataset}.parquet" for req in params.eurostat_requests()]
    files += list(params.data_files())
    tables = [f"kommuner_{params.year}.parquet"] if getattr(params, "year", None) else \
        [p.name for p in processed_dir.glob("kommuner_*.parquet")]
    return bool(tables) and all((processed_dir / name).is_file() for name in [*files, tables[0]])
