"""Whether a variant is up to date: content hashes of what it is built from (notebook,
parameters, the processed data it reads, the package's code and version, the notice).

The data digest covers what the variant reads, not whole files: a KPI's rows up to the
variant's year, the kommun table of its year, its Eurostat tables, the kind of source. A
fixed-year variant is therefore not rebuilt when a later year arrives, and is when its own
rows change. The light part (file and code digests, the inputs hash, the up-to-date check)
is :mod:`.inputs`, which ``make report``'s check imports without pandas or nbformat."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from helpers import __version__
from helpers.build.inputs import (
    _sha256_bytes,
    code_digest,
    combined,
    file_digest,
    inputs_of,
    is_up_to_date,
)
from helpers.build.variant import RunSettings, Variant
from helpers.datasets.values import read_period_digests, rows_digest
from helpers.sources.identity import source_id_of


def data_digests(kpis: Iterable[str], processed_dir: Path, eurostat: Iterable[str] = (),
                 year: int | None = None,
                 source: Mapping[str, Any] | None = None) -> dict[str, str]:
    """What a variant of ``year`` reads of ``data/processed``, digest by digest: each KPI's rows
    up to ``year`` (``datasets.values.period_digests``: a later year added leaves a fixed-year
    variant's digest as it was), the kommun table it reads, its Eurostat tables, and the kind
    of source (live API or which recording; not the fetch time, nor the replay's port).

    ``source`` is the variant's own (``Variant.source``, from ``datasets.prepare``); without it
    the latest fetch's in ``source.json`` is read (what another report fetched last may differ:
    give the variant's)."""
    processed_dir = Path(processed_dir)
    found = {}
    for kpi in sorted(set(kpis)):
        path = processed_dir / "values" / f"{kpi}.parquet"
        found[f"values/{kpi}"] = (rows_digest(read_period_digests(kpi, processed_dir,
                                                                  file_digest(path)), year)
                                  if path.is_file() else "absent")
    table = _kommun_table(processed_dir, year)
    if table is not None:
        found[table.name] = file_digest(table)
    for name in sorted(set(eurostat)):
        path = processed_dir / "eurostat" / f"{name}.parquet"
        found[f"eurostat/{name}"] = file_digest(path) if path.is_file() else "absent"
    kolada = source if source is not None else _read_source(processed_dir)
    found["source"] = _sha256_bytes(json.dumps(stable_source(kolada), sort_keys=True).encode())
    if eurostat:
        other = (source or {}).get("eurostat") if source is not None else \
            _read_source(processed_dir / "eurostat")
        found["eurostat/source"] = _sha256_bytes(json.dumps(stable_source(other or {}),
                                                            sort_keys=True).encode())
    return found


def _kommun_table(processed_dir: Path, year: int | None) -> Path | None:
    """The kommun table a report of ``year`` reads: that year's, else the latest written."""
    if year is not None and (processed_dir / f"kommuner_{year}.parquet").is_file():
        return processed_dir / f"kommuner_{year}.parquet"
    tables = sorted(processed_dir.glob("kommuner_*.parquet"))
    return tables[-1] if tables else None


def data_digest(kpis: Iterable[str], processed_dir: Path, eurostat: Iterable[str] = (),
                year: int | None = None, source: Mapping[str, Any] | None = None) -> str:
    """One sha256 over :func:`data_digests`."""
    return combined(data_digests(kpis, processed_dir, eurostat, year, source))


def variant_data_digests(variant: Variant, processed_dir: Path) -> dict[str, str]:
    """:func:`data_digests` of a variant (kept on it once computed: a batch computes them once
    per kind of variant, before the variants go to the workers)."""
    if not variant.data_digests:
        variant.data_digests = data_digests(variant.kpis, processed_dir, variant.eurostat,
                                            variant.year, variant.source)
    return variant.data_digests


def _read_source(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((Path(folder) / "source.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def stable_source(source: Mapping[str, Any]) -> dict[str, Any]:
    """A source without what changes between fetches of the same data: the fetch time, the
    replay's port, the KPIs fetched (also for other reports), Eurostat's own part (digested
    on its own); the source is named by its identity (``sources.identity.source_id_of``)."""
    if not source:
        return {}
    stable = {key: value for key, value in source.items()
              if key not in ("base_url", "fetched_at", "kpis", "snapshot_vintage", "updated",
                             "by_kpi", "eurostat")}
    stable["source_id"] = source_id_of(source)
    return stable


def inputs_digest(variant: Variant, *, data: str | None = None, code: str | None = None,
                  settings: RunSettings | None = None, notice: str | None = None) -> str:
    """The content hash deciding whether a variant is up to date (:func:`.inputs.inputs_of`)."""
    settings = settings or RunSettings()
    return inputs_of(file_digest(variant.notebook), variant.parameters,
                     data or combined(variant_data_digests(variant, settings.processed_dir)),
                     code or code_digest(), notice)


@cache
def versions() -> dict[str, str]:

    found = {"skr-report": __version__}
    for name in ("papermill", "nbconvert", "nbclient", "matplotlib", "pandas", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


__all__ = ["code_digest", "combined", "data_digest", "data_digests", "file_digest",
           "inputs_digest", "is_up_to_date", "variant_data_digests", "versions"]
