"""Client for the Kolada v3 API (https://api.kolada.se/v3), with a cache of raw responses.

Requests are split so that no path part lists more than 25 ids, pages are 5000 records and
``next_url`` is followed to the end. Retries, the bounded wait, the raw cache
(``data/raw/kolada/<source>/``), ``offline``/``refresh`` and the error base classes come from
:mod:`helpers.sources.http`, shared with the Eurostat client.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from helpers import paths
from helpers.domain import VALUE_COLUMNS
from helpers.sources.cache import RawCache, RequestStats
from helpers.sources.deadline import ATTEMPT_TIMEOUT
from helpers.sources.errors import (
    SourceBadResponse,
    SourceCacheMiss,
    SourceError,
    SourceHTTPError,
    SourceTimeout,
    SourceUnreachable,
    describe_connection_error,
    short,
)
from helpers.sources.http import CachedApiClient
from helpers.sources.identity import SourceIdentity

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
BASE_URL_ENV = "KOLADA_BASE_URL"
MAX_IDS_PER_PART = 25
PER_PAGE = 5000
SNAPSHOT_HEADER = "X-Kolada-Snapshot"  # sent by the replay server, never by the live API
GROUP_COLUMNS = ["group_id", "group_title", "member_id", "member_title"]
CATALOGUE_KEY = f"/kpi?per_page={PER_PAGE}"
"""The raw cache key of the KPI catalogue's first page."""
# Units in Kolada: 290 kommuner, 21 regions and Riket. Used only to estimate response sizes.
UNITS_ESTIMATE = 312

SNAPSHOT_HINT = (
    "To work on the recorded data instead, add --offline (fetch, run, batch, report-all), or "
    "serve it with `skr-report serve-replay` and set KOLADA_BASE_URL and EUROSTAT_BASE_URL to "
    "the addresses it prints. Without --live-only, a Kolada that cannot be reached at the "
    "start is replaced by its recording by itself."
)


class KoladaError(SourceError):
    """Base class of the Kolada client's errors: every message names the problem and the fix."""


class KoladaUnreachable(KoladaError, SourceUnreachable):
    """The API could not be reached (connection refused, DNS, connect time-outs) after retries."""


class KoladaTimeout(KoladaError, SourceTimeout):
    """The API accepted the connection but did not answer within the total time-out."""


class KoladaHTTPError(KoladaError, SourceHTTPError):
    """The API answered with an error status (after retries for 429/5xx)."""


class KoladaDeprecated(KoladaError):
    """The server answered with the v2 API's deprecation notice."""


class KoladaBadResponse(KoladaError, SourceBadResponse):
    """The body was not the JSON envelope the API documents (cut short, HTML, ...)."""


class KoladaCacheMiss(KoladaError, SourceCacheMiss):
    """Offline mode and a request that is not in the cache."""


def chunked(ids: Sequence[str], size: int = MAX_IDS_PER_PART) -> list[list[str]]:
    """Split ids into lists of at most ``size`` (the API's limit per path part)."""
    ids = list(ids)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def balanced_chunks(ids: Sequence[str], n_chunks: int) -> list[list[str]]:
    """Split ids into ``n_chunks`` near-equal lists, none longer than the API's limit."""
    ids = list(ids)
    n_chunks = max(n_chunks, math.ceil(len(ids) / MAX_IDS_PER_PART), 1)
    size = math.ceil(len(ids) / n_chunks)
    return chunked(ids, size) if ids else []


def _unique_str(ids: Iterable[object] | str | None) -> list[str] | None:
    if ids is None:
        return None
    if isinstance(ids, str | int):
        ids = [ids]
    return list(dict.fromkeys(str(i) for i in ids))


class KoladaClient(CachedApiClient):
    """One small method per API verb; values come back as tidy DataFrames with string ids."""

    name = "Kolada"
    env_var = BASE_URL_ENV
    default_base_url = DEFAULT_BASE_URL
    hint = SNAPSHOT_HINT
    vintage_header = SNAPSHOT_HEADER
    Error = KoladaError
    Unreachable = KoladaUnreachable
    TimedOut = KoladaTimeout
    HTTPError = KoladaHTTPError
    BadResponse = KoladaBadResponse
    CacheMiss = KoladaCacheMiss

    def __init__(
        self,
        base_url: str | None = None,
        cache_dir: Path | str | None = None,
        *,
        refresh: bool = False,
        offline: bool = False,
        max_workers: int = 4,
        timeout: float | tuple[float, float] = ATTEMPT_TIMEOUT,
        total_timeout: float | None = None,
        retries: int = 5,
        backoff_factor: float = 0.5,
        cache_namespace: str | None = None,
        identity: SourceIdentity | None = None,
    ):
        super().__init__(base_url, cache_dir or paths.KOLADA_RAW_DIR, refresh=refresh,
                         offline=offline, max_workers=max_workers, timeout=timeout,
                         total_timeout=total_timeout, retries=retries,
                         backoff_factor=backoff_factor, cache_namespace=cache_namespace,
                         identity=identity)

    def __enter__(self) -> KoladaClient:
        return self

    # ----------------------------------------------------------------- metadata

    def kpis(
        self, ids: Iterable[str] | str | None = None, title: str | None = None
    ) -> pd.DataFrame:
        """The KPI catalogue, or the KPIs with the given ids, or whose title contains ``title``."""
        return pd.DataFrame(self._metadata("kpi", ids, title))

    def kpi_entries(self) -> list[dict]:
        """The whole KPI catalogue as the API gives it, one dict per KPI (no DataFrame): its
        publication fields (``publ_period``, ``publication_date``, ``prel_publication_date``)
        are what ``skr-report status`` compares the reports with. First request key:
        :data:`CATALOGUE_KEY`."""
        return self._metadata("kpi", None, None)

    def municipalities(
        self, ids: Iterable[str] | str | None = None, title: str | None = None
    ) -> pd.DataFrame:
        """Kommuner (type K), regions and Riket (type L)."""
        rows = self._metadata("municipality", ids, title)
        return pd.DataFrame(rows, columns=["id", "title", "type"]).astype(str)

    def kpi_groups(
        self, ids: Iterable[str] | str | None = None, title: str | None = None
    ) -> pd.DataFrame:
        """KPI groups, one row per member."""
        return _groups_long(self._metadata("kpi_groups", ids, title))

    def municipality_groups(
        self, ids: Iterable[str] | str | None = None, title: str | None = None
    ) -> pd.DataFrame:
        """Municipality groups (e.g. kommungrupper, "Liknande kommuner"), one row per member."""
        return _groups_long(self._metadata("municipality_groups", ids, title))

    def _metadata(self, entity: str, ids: Iterable[str] | str | None, title: str | None) -> list:
        ids = _unique_str(ids)
        query = {"per_page": PER_PAGE}
        if title:
            query["title"] = title
        if ids is None:
            return self._fetch_chains([f"/{entity}?{urlencode(query)}"])
        if not ids:
            return []
        urls = [f"/{entity}/{','.join(chunk)}?{urlencode(query)}" for chunk in chunked(ids)]
        return self._fetch_chains(urls)

    # ------------------------------------------------------------------- values

    def values(
        self,
        kpis: Iterable[str] | str,
        municipalities: Iterable[str] | str | None = None,
        years: Iterable[int] | int | None = None,
    ) -> pd.DataFrame:
        """Values for KPIs × units × years as a tidy table.

        Leave out ``municipalities`` for every unit that has data, or ``years`` for every year;
        one of the two is needed (the API takes two or three path parts). Municipality group
        ids give the group's unweighted mean with ``count`` = members that contributed.
        """
        kpis = _unique_str(kpis) or []
        municipalities = _unique_str(municipalities)
        years = _unique_str(years)
        if not kpis:
            raise ValueError("values() needs at least one KPI id")
        if municipalities is None and years is None:
            raise ValueError(
                "values() needs years or municipalities as well as KPIs: the Kolada API "
                "takes at least two of kpi, municipality and year"
            )
        records = self._fetch_chains(self._value_urls(kpis, municipalities, years))
        return _values_frame(records)

    def _value_urls(
        self, kpis: list[str], municipalities: list[str] | None, years: list[str] | None
    ) -> list[str]:
        n_units = len(municipalities) if municipalities is not None else UNITS_ESTIMATE
        n_years = len(years) if years is not None else 30
        pages_per_kpi = n_units * n_years / PER_PAGE
        # Split the KPIs over the workers only where each chunk still fills about two pages,
        # so that parallel requests never cost more than one partly filled page per chunk.
        n_chunks = min(self.max_workers, int(len(kpis) * pages_per_kpi / 2))
        kpi_parts = balanced_chunks(kpis, n_chunks)
        unit_parts = chunked(municipalities) if municipalities is not None else [None]
        year_parts = chunked(years) if years is not None else [None]
        urls = []
        for kpi_part in kpi_parts:
            for unit_part in unit_parts:
                for year_part in year_parts:
                    path = "/data/kpi/" + ",".join(kpi_part)
                    if unit_part is not None:
                        path += "/municipality/" + ",".join(unit_part)
                    if year_part is not None:
                        path += "/year/" + ",".join(year_part)
                    urls.append(f"{path}?per_page={PER_PAGE}")
        return urls

    # ---------------------------------------------------------------- transport

    def _fetch_chains(self, first_urls: list[str]) -> list:
        """Fetch every chain of pages (in parallel across chains) and concatenate the values."""
        missing: list[str] = []
        if len(first_urls) == 1 or self.max_workers == 1:
            results = [self._fetch_chain(url, missing) for url in first_urls]
        else:
            with ThreadPoolExecutor(self.max_workers, thread_name_prefix="kolada") as pool:
                results = list(pool.map(lambda url: self._fetch_chain(url, missing), first_urls))
        if missing:
            raise self.cache_miss(missing)
        return [value for chain in results for value in chain]

    def _fetch_chain(self, url: str, missing: list[str]) -> list:
        values: list = []
        for envelope in self._pages(url, missing):
            values.extend(envelope.get("values") or [])
        return values

    def _pages(self, url: str, missing: list[str]) -> Iterator[dict]:
        seen = set()
        next_url: str | None = url
        while next_url:
            key = self.cache_key(next_url)
            if key in seen:
                raise KoladaBadResponse(f"Kolada's next_url loops back to {key}; stopping.")
            seen.add(key)
            envelope = self.get_json(key, missing)
            if envelope is None:
                return
            yield envelope
            next_url = envelope.get("next_url")

    def _check(self, payload: Any, url: str) -> None:
        _check_envelope(payload, url)

    def _status_cause(self, status: int, detail: Any, url: str) -> str:
        if isinstance(detail, dict) and "deprecated" in str(detail.get("error", "")).lower():
            _check_envelope(detail, url)
        if status == 422:
            return ("Kolada accepts at most 25 ids per path part and per_page up to 5000; "
                    "this client keeps to both, so check that KOLADA_BASE_URL is a Kolada v3 API")
        if status == 404:
            return (f"no such endpoint: check KOLADA_BASE_URL (now {url.split('/v3')[0]}/v3 "
                    "expected)")
        return super()._status_cause(status, detail, url)


def _check_envelope(envelope: object, url: str) -> None:
    if isinstance(envelope, dict) and "deprecated" in str(envelope.get("error", "")).lower():
        raise KoladaDeprecated(
            f"{url} answered with the deprecation notice of the old v2 API "
            f"({envelope['error']!r}). Point KOLADA_BASE_URL at the v3 API, "
            f"e.g. {DEFAULT_BASE_URL}."
        )
    if not isinstance(envelope, dict) or not isinstance(envelope.get("values"), list):
        raise KoladaBadResponse(
            f"{url} did not answer with Kolada's envelope {{values, count, next_url}}: "
            f"{short(repr(envelope))}. Check that KOLADA_BASE_URL points at a Kolada v3 API."
        )


def _groups_long(groups: list) -> pd.DataFrame:
    rows = [
        (group["id"], group.get("title", ""), member["member_id"], member.get("member_title", ""))
        for group in groups
        for member in group.get("members") or []
    ]
    return pd.DataFrame(rows, columns=GROUP_COLUMNS).astype(str)


def _values_frame(records: list) -> pd.DataFrame:
    rows = []
    deleted = 0
    for record in records:
        kpi, unit, period = record["kpi"], str(record["municipality"]), record["period"]
        for value in record.get("values") or []:
            if value.get("isdeleted"):
                deleted += 1
                continue
            rows.append(
                (
                    kpi,
                    unit,
                    period,
                    value.get("gender") or "T",
                    value.get("value"),
                    value.get("count"),
                    value.get("status") or "",
                )
            )
    frame = pd.DataFrame(rows, columns=list(VALUE_COLUMNS))
    frame = frame.astype(
        {
            "kpi": str,
            "municipality": str,
            "period": "int64",
            "gender": str,
            "value": "float64",
            "status": str,
        }
    )
    frame["count"] = pd.to_numeric(frame["count"], errors="coerce").fillna(0).astype("int64")
    frame = frame.sort_values(["kpi", "municipality", "period", "gender"], ignore_index=True)
    frame.attrs["deleted_dropped"] = deleted
    if deleted:
        log.info("dropped %d values marked isdeleted", deleted)
    return frame


__all__ = [
    "DEFAULT_BASE_URL",
    "SNAPSHOT_HEADER",
    "KoladaBadResponse",
    "KoladaCacheMiss",
    "KoladaClient",
    "KoladaDeprecated",
    "KoladaError",
    "KoladaHTTPError",
    "KoladaTimeout",
    "KoladaUnreachable",
    "RawCache",
    "RequestStats",
    "balanced_chunks",
    "chunked",
    "describe_connection_error",
]
