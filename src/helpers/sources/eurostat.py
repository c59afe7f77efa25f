"""Client for Eurostat's statistics API (JSON-stat 2.0), on the shared transport
(:mod:`helpers.sources.http`).

``{EUROSTAT_BASE_URL}/statistics/1.0/data/{dataset}?{dimension}={code}&…&lang=en``, with
``EUROSTAT_BASE_URL`` defaulting to ``https://ec.europa.eu/eurostat/api/dissemination``. A
dimension with several codes repeats its parameter. Retries, the bounded wait, the raw cache
(``data/raw/eurostat/<source>/<dataset>/``), ``offline``/``refresh`` and the error base classes
are shared with the Kolada client.

The answer is parsed by :func:`jsonstat_frame` (a few lines pinned by ``tests/test_eurostat.py``
rather than pyjstat, which fills every absent cell and drops the ``status`` flags): ``value`` is
an object from the flat row-major position (the last dimension varies fastest) to the number,
or a list; positions without data are absent and stay absent; ``status`` holds the flags keyed
the same way. The tidy table has one row per cell with a value: ``dataset``, the dimensions
(``geo, sector, na_item, unit`` first; ``freq`` and ``time`` left out), ``year``, ``value``,
``flag``; ``frame.attrs["updated"]`` is the data's ``updated`` time, its vintage.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from helpers import paths
from helpers.sources.deadline import ATTEMPT_TIMEOUT
from helpers.sources.errors import (
    SourceBadResponse,
    SourceCacheMiss,
    SourceError,
    SourceHTTPError,
    SourceTimeout,
    SourceUnreachable,
    short,
)
from helpers.sources.http import CachedApiClient
from helpers.sources.identity import SourceIdentity

DEFAULT_BASE_URL = "https://ec.europa.eu/eurostat/api/dissemination"
BASE_URL_ENV = "EUROSTAT_BASE_URL"
API_PATH = "/statistics/1.0/data"
RECORDING_HEADER = "X-Eurostat-Recording"  # sent by the replay server, never by Eurostat
DIMENSION_ORDER = ("geo", "sector", "na_item", "unit")
LEFT_OUT = ("freq", "time")

RECORDING_HINT = (
    "To work on the recorded data instead, add --offline (fetch, run, batch, report-all), or "
    "serve it with `skr-report serve-replay` and set KOLADA_BASE_URL and EUROSTAT_BASE_URL to "
    "the addresses it prints. Without --live-only, a Eurostat that cannot be reached at the "
    "start is replaced by its recording by itself."
)


class EurostatError(SourceError):
    """Base class of the Eurostat client's errors: every message names the problem and the fix."""


class EurostatUnreachable(EurostatError, SourceUnreachable):
    """Eurostat could not be reached (connection refused, DNS, connect time-outs)."""


class EurostatTimeout(EurostatError, SourceTimeout):
    """Eurostat accepted the connection but did not answer within the total time-out."""


class EurostatHTTPError(EurostatError, SourceHTTPError):
    """Eurostat answered with an error status: unknown dataset (404), no data for the codes
    asked for or an unknown dimension (400), or a server failure after retries."""


class EurostatBadResponse(EurostatError, SourceBadResponse):
    """The body was not JSON-stat 2.0 (cut short, HTML, another API)."""


class EurostatCacheMiss(EurostatError, SourceCacheMiss):
    """Offline mode and a request that is not in the cache."""


class EurostatClient(CachedApiClient):
    """``client.data("gov_10dd_edpt1", {"geo": "SE", "sector": ["S13", "S1311"]})``."""

    name = "Eurostat"
    env_var = BASE_URL_ENV
    default_base_url = DEFAULT_BASE_URL
    api_path = API_PATH
    hint = RECORDING_HINT
    vintage_header = RECORDING_HEADER
    Error = EurostatError
    Unreachable = EurostatUnreachable
    TimedOut = EurostatTimeout
    HTTPError = EurostatHTTPError
    BadResponse = EurostatBadResponse
    CacheMiss = EurostatCacheMiss

    def __init__(self, base_url: str | None = None, cache_dir: Path | str | None = None, *,
                 refresh: bool = False, offline: bool = False,
                 timeout: float | tuple[float, float] = ATTEMPT_TIMEOUT,
                 total_timeout: float | None = None, retries: int = 5,
                 backoff_factor: float = 0.5, cache_namespace: str | None = None,
                 identity: SourceIdentity | None = None):
        super().__init__(base_url, cache_dir or paths.EUROSTAT_RAW_DIR, refresh=refresh,
                         offline=offline, max_workers=1, timeout=timeout,
                         total_timeout=total_timeout, retries=retries,
                         backoff_factor=backoff_factor, cache_namespace=cache_namespace,
                         identity=identity)
        self._updated: set[str] = set()

    def __enter__(self) -> EurostatClient:
        return self

    @property
    def source(self) -> dict:
        source = super().source
        source["updated"] = max(self._updated) if self._updated else None
        return source

    def request_key(self, dataset: str, filters: Mapping[str, Any] | None = None, *,
                    since: int | None = None, until: int | None = None) -> str:
        """The cache key (path below the API root and sorted query) of a data request."""
        if not dataset or "/" in dataset or "?" in dataset:
            raise ValueError(f"not a Eurostat dataset code: {dataset!r}")
        pairs = []
        for dimension, codes in (filters or {}).items():
            for code in [codes] if isinstance(codes, str) else list(codes):
                pairs.append((dimension, str(code)))
        if since is not None:
            pairs.append(("sinceTimePeriod", str(since)))
        if until is not None:
            pairs.append(("untilTimePeriod", str(until)))
        pairs.append(("lang", "en"))
        return f"/{dataset}?{urlencode(sorted(set(pairs)))}"

    def data(self, dataset: str, filters: Mapping[str, str | Iterable[str]] | None = None, *,
             since: int | None = None, until: int | None = None) -> pd.DataFrame:
        """The cells of ``dataset`` for ``filters`` (dimension → code or codes) as a tidy table.

        ``since``/``until`` narrow the years. Raises ``EurostatHTTPError`` for an unknown
        dataset or codes without data, ``EurostatCacheMiss`` offline when not cached.
        """
        key = self.request_key(dataset, filters, since=since, until=until)
        missing: list[str] = []
        payload = self.get_json(key, missing)
        if missing:
            raise self.cache_miss(missing)
        frame = jsonstat_frame(payload, dataset)
        if frame.attrs.get("updated"):
            with self._fetched_lock:
                self._updated.add(frame.attrs["updated"])
        return frame

    # ------------------------------------------------------------------ API hooks

    def _check(self, payload: Any, url: str) -> None:
        problem = jsonstat_problem(payload)
        if problem:
            raise self.BadResponse(
                f"{url} did not answer with a JSON-stat 2.0 dataset ({problem}): "
                f"{short(json.dumps(payload, ensure_ascii=False) if isinstance(payload, dict | list) else repr(payload))}. "  # noqa: E501
                "Check that EUROSTAT_BASE_URL points at Eurostat's dissemination API (e.g. "
                f"{DEFAULT_BASE_URL}) or at the replay server."
            )

    def _status_cause(self, status: int, detail: Any, url: str) -> str:
        label = _error_label(detail)
        dataset = url.split(API_PATH + "/", 1)[-1].split("?", 1)[0]
        if status == 404:
            return (f"Eurostat has no dataset {dataset!r}{f' ({label})' if label else ''}; "
                    "check the dataset code (e.g. gov_10dd_edpt1) and that EUROSTAT_BASE_URL "
                    f"ends in /eurostat/api/dissemination (default {DEFAULT_BASE_URL})")
        if status == 400:
            return (f"Eurostat found no data for this request{f' ({label})' if label else ''}; "
                    "check the codes asked for (geo, sector, na_item, unit) against the "
                    "dataset's codes")
        return super()._status_cause(status, detail, url)


def _error_label(detail: Any) -> str:
    """The ``label`` of Eurostat's error body ``{"error": [{"status", "id", "label"}]}``."""
    if isinstance(detail, dict):
        errors = detail.get("error")
        if isinstance(errors, dict):
            errors = [errors]
        if isinstance(errors, list):
            return "; ".join(str(e.get("label", "")) for e in errors if isinstance(e, dict))
    return ""


# --- JSON-stat 2.0 ----------------------------------------------------------------------------


def jsonstat_problem(payload: Any) -> str | None:
    """What makes ``payload`` not a JSON-stat 2.0 dataset, or None when it is one."""
    if not isinstance(payload, dict):
        return "not a JSON object"
    if payload.get("class") != "dataset":
        return f"class is {payload.get('class')!r}, not 'dataset'"
    ids, sizes, dims = payload.get("id"), payload.get("size"), payload.get("dimension")
    if not isinstance(ids, list) or not isinstance(sizes, list) or len(ids) != len(sizes):
        return "id and size must be lists of the same length"
    if not isinstance(dims, dict) or any(i not in dims for i in ids):
        return "a dimension listed in id is not described under dimension"
    if not isinstance(payload.get("value"), dict | list):
        return "value is missing"
    return None


def _categories(dimension: dict, size: int) -> list[str]:
    """The codes of a dimension in position order (``index`` as object or list)."""
    index = dimension.get("category", {}).get("index")
    if isinstance(index, list):
        codes = [str(c) for c in index]
    elif isinstance(index, dict):
        codes = [str(c) for c, _ in sorted(index.items(), key=lambda item: item[1])]
    else:  # a single category may leave out its index
        codes = list(dimension.get("category", {}).get("label", {}))
    if len(codes) != size:
        raise ValueError(f"{len(codes)} categories for size {size}")
    return codes


def _cells(container: Any) -> dict[int, Any]:
    """``value``/``status`` as position → entry, whether sparse object, list or one string."""
    if isinstance(container, dict):
        return {int(pos): v for pos, v in container.items()}
    if isinstance(container, list):
        return dict(enumerate(container))
    return {}


def jsonstat_frame(payload: dict, dataset: str) -> pd.DataFrame:
    """The cells of a JSON-stat 2.0 dataset that have a value, one row each (see the module)."""
    problem = jsonstat_problem(payload)
    if problem:
        raise EurostatBadResponse(f"{dataset}: not a JSON-stat 2.0 dataset ({problem}).")
    ids = [str(i) for i in payload["id"]]
    sizes = [int(s) for s in payload["size"]]
    try:
        codes = {i: _categories(payload["dimension"][i], n) for i, n in zip(ids, sizes,
                                                                            strict=True)}
    except ValueError as exc:
        raise EurostatBadResponse(f"{dataset}: dimension and size disagree ({exc}).") from None
    values = {pos: v for pos, v in _cells(payload["value"]).items()
              if v is not None and not (isinstance(v, float) and math.isnan(v))}
    status = payload.get("status")
    flags = ({pos: status for pos in values} if isinstance(status, str)
             else _cells(status))
    total = math.prod(sizes)
    positions = np.array(sorted(values), dtype=np.int64)
    if len(positions) and (positions.min() < 0 or positions.max() >= total):
        raise EurostatBadResponse(f"{dataset}: a value position lies outside the {total} cells "
                                  f"that size {sizes} describes.")
    coords = np.unravel_index(positions, sizes) if total else [np.array([], int)] * len(ids)
    frame = pd.DataFrame({"dataset": dataset}, index=range(len(positions)))
    for dim, coord in zip(ids, coords, strict=True):
        if dim in LEFT_OUT:
            continue
        frame[dim] = np.asarray(codes[dim], dtype=object)[coord] if len(positions) else []
    time_dim = "time" if "time" in ids else ids[-1]
    time_codes = np.asarray(codes[time_dim], dtype=object)[coords[ids.index(time_dim)]] \
        if len(positions) else []
    frame["year"] = pd.to_numeric(pd.Series(time_codes, dtype=object).str[:4],
                                  errors="coerce").astype("Int64").to_numpy()
    frame["value"] = np.array([float(values[p]) for p in positions], dtype="float64")
    frame["flag"] = [str(flags.get(int(p)) or "") for p in positions]
    first = ["dataset", *[d for d in DIMENSION_ORDER if d in frame.columns]]
    others = [c for c in frame.columns if c not in first and c not in ("year", "value", "flag")]
    frame = frame[[*first, *others, "year", "value", "flag"]]
    frame.attrs["updated"] = payload.get("updated")
    frame.attrs["label"] = payload.get("label")
    return frame.reset_index(drop=True)


__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "RECORDING_HEADER",
    "EurostatBadResponse",
    "EurostatCacheMiss",
    "EurostatClient",
    "EurostatError",
    "EurostatHTTPError",
    "EurostatTimeout",
    "EurostatUnreachable",
    "jsonstat_frame",
    "jsonstat_problem",
]
