"""The values table ``values/<KPI>.parquet`` and ``source.json``: fetching what a parameter set
needs from Kolada and loading it for the notebooks.

One parquet file per KPI with the columns of ``KoladaClient.values`` (``kpi, municipality,
period, gender, value, count, status``). A KPI that Kolada has no values for gets an empty file,
so "saknas i data" can be told apart from "not fetched". ``source.json`` says where the data came
from (base URL, snapshot or live API, fetch time). Every file is written to a temporary name in
its folder and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from helpers import paths
from helpers.datasets.catalogue import catalogue_for
from helpers.files import atomic_write_bytes, atomic_write_parquet
from helpers.params import FIRST_YEAR

log = logging.getLogger(__name__)

LIVE_API_HOST = "api.kolada.se"
DIGESTS_SUFFIX = ".digests.json"
_VALUE_DTYPES = {
    "kpi": "str",
    "municipality": "str",
    "period": "int64",
    "gender": "str",
    "value": "float64",
    "count": "int64",
    "status": "str",
}

# --- fetching ----------------------------------------------------------------------------------

def fetch_values(client: Any, kpis: list[str], years: Sequence[int] | None) -> pd.DataFrame:
    """The values of ``kpis`` for every unit in ``years`` (None: every year Kolada has)."""
    return client.values(kpis, years=list(years) if years is not None else every_year(client, kpis))


def every_year(client: Any, kpis: Iterable[str]) -> list[int]:
    """FIRST_YEAR up to the latest period Kolada has published for any of ``kpis``.

    Taken from the (cached) KPI catalogue rather than today's date, so the requests, and with
    them the raw cache, stay the same until Kolada publishes new data. Asking by year lets the
    API leave out the municipality part, which needs the fewest requests for all units.
    """
    latest = catalogue_for(client).latest_period
    last = max((latest[k] for k in kpis if k in latest), default=None)
    if last is None:
        last = max(latest.values(), default=FIRST_YEAR)
    return list(range(FIRST_YEAR, last + 1))


def years_by_kpi(values: pd.DataFrame) -> dict[str, list[int]]:
    """KPI → the years with at least one value."""
    present = values.dropna(subset=["value"])
    return {str(kpi): sorted(int(y) for y in years.unique())
            for kpi, years in present.groupby("kpi")["period"]}


def write_values(values: pd.DataFrame, kpis: Iterable[str], processed_dir: Path) -> None:
    """One parquet file per KPI (an empty one for a KPI without values) and its
    :func:`period_digests` beside it (``<KPI>.digests.json``); call under the fetch lock."""
    (processed_dir / "values").mkdir(parents=True, exist_ok=True)
    for kpi in kpis:
        rows = values[values["kpi"] == kpi].reset_index(drop=True)
        target = processed_dir / "values" / f"{kpi}.parquet"
        atomic_write_parquet(rows, target)
        digests = {"file_sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
                   "through": period_digests(rows)}
        atomic_write_bytes(target.with_suffix(DIGESTS_SUFFIX),
                           json.dumps(digests, sort_keys=True).encode("utf-8"))


def period_digests(rows: pd.DataFrame) -> dict[str, str]:
    """Year → sha256 of the KPI's rows with ``period`` up to that year (each year with rows).

    What a report of a year reads of a KPI is its rows up to that year, so a variant whose
    parameters fix 2022 keeps its digest when 2023 is added, and changes it when a value up to
    2022 is revised. Rows in a fixed order, hashed column-wise by pandas."""
    if rows.empty:
        return {}
    rows = (rows[list(_VALUE_DTYPES)].astype(_VALUE_DTYPES)
            .sort_values(["period", "municipality", "gender"], kind="stable")
            .reset_index(drop=True))
    hashes = pd.util.hash_pandas_object(rows, index=False).to_numpy()
    periods = rows["period"].to_numpy()
    digest, found = hashlib.sha256(), {}
    for year in sorted(set(periods.tolist())):
        start, end = periods.searchsorted(year, "left"), periods.searchsorted(year, "right")
        digest.update(hashes[start:end].tobytes())
        found[str(year)] = digest.copy().hexdigest()
    return found


def rows_digest(through: dict[str, str], year: int | None) -> str:
    """The digest of the rows up to ``year`` (None: all) from :func:`period_digests`."""
    years = sorted(int(y) for y in through if year is None or int(y) <= int(year))
    return through[str(years[-1])] if years else "no rows"


def read_period_digests(kpi: str, processed_dir: Path, file_sha256: str) -> dict[str, str]:
    """The KPI's :func:`period_digests`: from ``<KPI>.digests.json`` when it belongs to the
    parquet file as it is (``file_sha256``), else computed from the file."""
    folder = Path(processed_dir) / "values"
    try:
        stored = json.loads((folder / f"{kpi}{DIGESTS_SUFFIX}").read_text(encoding="utf-8"))
        if stored.get("file_sha256") == file_sha256:
            return dict(stored["through"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    return period_digests(pd.read_parquet(folder / f"{kpi}.parquet"))


def describe_source(client_source: dict, kpis: Iterable[str]) -> dict:
    """A report's Kolada source: what the client says of the responses it used (base URL,
    identity, newest fetch time, the recording's vintage), whether that is a recording or the
    live API, and the report's KPIs."""
    source = dict(client_source)
    # The replay server names its recorded snapshot in every answer; the live API does not.
    source["snapshot"] = bool(source.get("snapshot_vintage"))
    source["live_api"] = urlsplit(source.get("base_url") or "").hostname == LIVE_API_HOST
    source["kpis"] = sorted(set(kpis))
    return source


def write_source(source: dict, processed_dir: Path) -> None:
    """``source.json``: the source of every KPI file in ``values/`` (``by_kpi``: identity and
    fetch time of the fetch that last wrote it) and, at the top, the latest fetch's source.
    Call under the fetch lock. Which reports were fetched before changes nothing a report is
    built from: each report carries its own source (``Prepared.source``)."""
    path = processed_dir / "source.json"
    try:
        by_kpi = json.loads(path.read_text(encoding="utf-8")).get("by_kpi") or {}
    except (OSError, ValueError, AttributeError):
        by_kpi = {}
    for kpi in source.get("kpis") or []:
        by_kpi[kpi] = {"identity": source.get("identity"), "base_url": source.get("base_url"),
                       "fetched_at": source.get("fetched_at")}
    present = {p.stem for p in (processed_dir / "values").glob("*.parquet")}
    by_kpi = {kpi: entry for kpi, entry in sorted(by_kpi.items()) if kpi in present}
    document = {**source, "kpis": sorted(by_kpi), "by_kpi": by_kpi}
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


# --- loading -----------------------------------------------------------------------------------


def load_values(kpis: Iterable[str] | None = None,
                processed_dir: Path | None = None) -> pd.DataFrame:
    """The values table for ``kpis`` (default: every KPI fetched). A KPI never fetched raises
    FileNotFoundError naming the fix; one fetched without values gives no rows."""
    folder = (paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)) / "values"
    if kpis is None:
        files = sorted(folder.glob("*.parquet"))
    else:
        files = [folder / f"{kpi}.parquet" for kpi in dict.fromkeys(kpis)]
    absent = [f.stem for f in files if not f.exists()]
    if absent:
        raise FileNotFoundError(f"no values fetched for {', '.join(absent)} in {folder}. "
                                "Fix: run `skr-report fetch <params.yaml>` for this report.")
    frames = [pd.read_parquet(f) for f in files]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _VALUE_DTYPES.items()})
    return pd.concat(frames, ignore_index=True).astype(_VALUE_DTYPES)


def load_source(processed_dir: Path | None = None) -> dict:
    """``source.json``: the latest fetch's source (base URL, identity, whether it is the
    recorded snapshot, fetch time) and ``by_kpi``, the source of each KPI's file."""
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    return json.loads((folder / "source.json").read_text(encoding="utf-8"))
