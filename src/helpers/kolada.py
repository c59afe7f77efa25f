"""Client for the Kolada v3 API (https://api.kolada.se/v3), with a cache of raw responses.

Requests are split so that no path part lists more than 25 ids, pages are 5000 records and
``next_url`` is followed to the end. Transient failures (connection errors, timeouts, 429 with
``Retry-After``, 5xx) are retried with exponential backoff by urllib3's ``Retry``; a body that
arrives cut short is refetched by a bounded tenacity loop around it. Every response body is
stored as received under ``data/raw/kolada/<source>/`` (one file per request, written
atomically), so a repeated fetch makes no HTTP request and an interrupted run loses nothing
it already fetched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.util.retry import Retry

from helpers import __version__, paths
from helpers.files import atomic_write_bytes

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
MAX_IDS_PER_PART = 25
PER_PAGE = 5000
RETRY_STATUSES = (429, 500, 502, 503, 504)
SNAPSHOT_HEADER = "X-Kolada-Snapshot"  # sent by helpers.kolada_replay, never by the live API
VALUE_COLUMNS = ["kpi", "municipality", "period", "gender", "value", "count", "status"]
GROUP_COLUMNS = ["group_id", "group_title", "member_id", "member_title"]
# Units in Kolada: 290 kommuner, 21 regions and Riket. Used only to estimate response sizes.
UNITS_ESTIMATE = 312

SNAPSHOT_HINT = (
    "To work without the live API, serve the recorded snapshot with "
    "`skr-report serve-kolada` (it prints the address) and set "
    "KOLADA_BASE_URL=http://127.0.0.1:8765/v3, or add --offline to use only what is cached."
)


class KoladaError(Exception):
    """Base class: every message names the problem and what to do about it."""


class KoladaUnreachable(KoladaError):
    """The API could not be reached (connection refused, DNS, timeouts) after retries."""


class KoladaHTTPError(KoladaError):
    """The API answered with an error status (after retries for 429/5xx)."""

    def __init__(self, message: str, status: int, url: str):
        super().__init__(message)
        self.status = status
        self.url = url


class KoladaDeprecated(KoladaError):
    """The server answered with the v2 API's deprecation notice."""


class KoladaBadResponse(KoladaError):
    """The body was not the JSON envelope the API documents (cut short, HTML, ...)."""


class KoladaCacheMiss(KoladaError):
    """Offline mode and a request that is not in the cache."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


@dataclass
class RequestStats:
    """What a client did: HTTP requests sent, bytes received, requests served from the cache."""

    requests: int = 0
    bytes: int = 0
    cache_hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, requests: int = 0, nbytes: int = 0, cache_hits: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes += nbytes
            self.cache_hits += cache_hits


class _TruncatedBody(Exception):
    """A body that ended early or did not parse; retried a few times before giving up."""


def base_url_from_env() -> str:
    return os.environ.get("KOLADA_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


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


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", text).strip("_")


class RawCache:
    """Raw response bodies on disk, one file per request, keyed by the request's path and query.

    Next to each body ``<key>.json`` lies ``<key>.meta.json`` with the request and fetch time.
    Both are written to a temporary file in the same folder and renamed into place, so readers
    never see a partial file, whatever happens to the writer.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        entity = key.lstrip("/").split("/", 1)[0].split("?", 1)[0] or "root"
        folder = self.root / _slug(entity)
        return folder / f"{digest}.json", folder / f"{digest}.meta.json"

    def get(self, key: str) -> bytes | None:
        body, _ = self._paths(key)
        try:
            return body.read_bytes()
        except FileNotFoundError:
            return None

    def meta(self, key: str) -> dict | None:
        _, meta = self._paths(key)
        try:
            return json.loads(meta.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, key: str, body: bytes, meta: dict) -> None:
        body_path, meta_path = self._paths(key)
        body_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(meta_path, json.dumps(meta, ensure_ascii=False, indent=1).encode())
        atomic_write_bytes(body_path, body)


class KoladaClient:
    """One small method per API verb; values come back as tidy DataFrames with string ids."""

    def __init__(
        self,
        base_url: str | None = None,
        cache_dir: Path | str | None = None,
        *,
        refresh: bool = False,
        offline: bool = False,
        max_workers: int = 4,
        timeout: float | tuple[float, float] = (5.0, 60.0),
        retries: int = 5,
        backoff_factor: float = 0.5,
        cache_namespace: str | None = None,
    ):
        self.base_url = (base_url or base_url_from_env()).rstrip("/")
        self.refresh = refresh
        self.offline = offline
        self.max_workers = max(1, max_workers)
        self.timeout = timeout
        self.retries = retries
        self.stats = RequestStats()
        base = urlsplit(self.base_url)
        self._base_path = base.path.rstrip("/")
        namespace = cache_namespace or _slug(f"{base.netloc}{base.path}")
        self.cache = RawCache(Path(cache_dir or paths.KOLADA_RAW_DIR) / namespace)
        self._fetched_at: set[str] = set()
        self._snapshots: set[str] = set()
        self._fetched_lock = threading.Lock()
        self._session = self._make_session(retries, backoff_factor)

    def _make_session(self, retries: int, backoff_factor: float) -> requests.Session:
        policy = Retry(
            total=retries,
            connect=min(retries, 3),  # a refused connection rarely heals: fail fast
            read=retries,
            status=retries,
            backoff_factor=backoff_factor,
            backoff_max=30,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=policy, pool_maxsize=self.max_workers)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = f"skr-report/{__version__} (+Kolada v3 client)"
        session.headers["Accept"] = "application/json"
        return session

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> KoladaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- metadata

    def kpis(
        self, ids: Iterable[str] | str | None = None, title: str | None = None
    ) -> pd.DataFrame:
        """The KPI catalogue, or the KPIs with the given ids, or whose title contains ``title``."""
        return pd.DataFrame(self._metadata("kpi", ids, title))

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

    @property
    def source(self) -> dict:
        """Where the data came from: base URL, the time of the newest response used and, when
        a replay server answered, the vintage of its recorded snapshot."""
        with self._fetched_lock:
            newest = max(self._fetched_at) if self._fetched_at else None
            snapshots = sorted(self._snapshots)
        source = {"base_url": self.base_url, "fetched_at": newest}
        if snapshots:
            source["snapshot_vintage"] = " | ".join(snapshots)
        return source

    def _fetch_chains(self, first_urls: list[str]) -> list:
        """Fetch every chain of pages (in parallel across chains) and concatenate the values."""
        missing: list[str] = []
        if len(first_urls) == 1 or self.max_workers == 1:
            results = [self._fetch_chain(url, missing) for url in first_urls]
        else:
            with ThreadPoolExecutor(self.max_workers, thread_name_prefix="kolada") as pool:
                results = list(pool.map(lambda url: self._fetch_chain(url, missing), first_urls))
        if missing:
            raise KoladaCacheMiss(
                f"Offline mode, and {len(missing)} request(s) to {self.base_url} are not in "
                f"the cache ({self.cache.root}), e.g. {missing[0]}. Run the same command "
                "once without --offline to fetch them.",
                missing,
            )
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
            key = self._cache_key(next_url)
            if key in seen:
                raise KoladaBadResponse(f"Kolada's next_url loops back to {key}; stopping.")
            seen.add(key)
            envelope = self._get_json(key, missing)
            if envelope is None:
                return
            yield envelope
            next_url = envelope.get("next_url")

    def _cache_key(self, url: str) -> str:
        """The request's path below the base URL plus its sorted query: host-independent."""
        parts = urlsplit(url)
        path = parts.path
        if parts.netloc and path.startswith(self._base_path):
            path = path[len(self._base_path) :]
        query = urlencode(sorted(parse_qsl(parts.query)))
        return f"{path}?{query}" if query else path

    def _get_json(self, key: str, missing: list[str]) -> dict | None:
        body = None if self.refresh else self.cache.get(key)
        if body is not None:
            self.stats.add(cache_hits=1)
            self._remember(self.cache.meta(key))
            return self._parse(body, key)
        if self.offline:
            missing.append(key)
            return None
        return self._download(key)

    def _download(self, key: str) -> dict:
        url = self.base_url + key

        @retry(
            retry=retry_if_exception_type(_TruncatedBody),
            stop=stop_after_attempt(self.retries),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )
        def attempt() -> tuple[bytes, dict, str | None]:
            response = self._request(url)
            body = response.content
            self.stats.add(requests=1, nbytes=len(body))
            try:
                envelope = json.loads(body)
            except ValueError as exc:
                raise _TruncatedBody(f"{url}: {exc}") from exc
            return body, envelope, response.headers.get(SNAPSHOT_HEADER)

        try:
            body, envelope, snapshot = attempt()
        except _TruncatedBody as exc:
            raise KoladaBadResponse(
                f"Kolada's answer to {url} was not complete JSON after {self.retries} "
                f"attempts ({exc}). The connection may be cutting responses short; try again, "
                f"or run on the recorded snapshot. {SNAPSHOT_HINT}"
            ) from None
        _check_envelope(envelope, url)
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        meta = {"url": url, "fetched_at": fetched_at, "bytes": len(body)}
        if snapshot:
            meta["snapshot"] = snapshot
        self.cache.put(key, body, meta)
        self._remember(meta)
        return envelope

    def _request(self, url: str) -> requests.Response:
        try:
            response = self._session.get(url, timeout=self.timeout)
        except requests.exceptions.RetryError as exc:
            raise KoladaHTTPError(
                f"Kolada kept failing for {url} after {self.retries} retries ({exc}). "
                f"Try again later. {SNAPSHOT_HINT}",
                status=0,
                url=url,
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise _TruncatedBody(f"{url}: {exc}") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise KoladaUnreachable(
                f"Kolada could not be reached at {self.base_url} "
                f"({describe_connection_error(exc)}). {SNAPSHOT_HINT}"
            ) from None
        if response.status_code >= 400:
            _raise_for_status(response, url, self.retries)
        return response

    def _remember(self, meta: dict | None) -> None:
        """Note when (and from which recorded snapshot, if any) a response used was fetched."""
        if not meta:
            return
        with self._fetched_lock:
            if meta.get("fetched_at"):
                self._fetched_at.add(meta["fetched_at"])
            if meta.get("snapshot"):
                self._snapshots.add(meta["snapshot"])

    def _parse(self, body: bytes, key: str) -> dict:
        try:
            envelope = json.loads(body)
        except ValueError:
            raise KoladaBadResponse(
                f"The cached response for {key} in {self.cache.root} is not valid JSON. "
                "Delete that file or rerun with --refresh."
            ) from None
        _check_envelope(envelope, key)
        return envelope


def describe_connection_error(exc: BaseException) -> str:
    """The operating system's words for a connection failure, without urllib3's wrapping."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if found:
        return found.group(0).strip()
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer before the time-out"
    return _short(text)


def _short(exc: BaseException, limit: int = 160) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"


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
            f"{_short(repr(envelope))}. Check that KOLADA_BASE_URL points at a Kolada v3 API."
        )


def _raise_for_status(response: requests.Response, url: str, retries: int) -> None:
    status = response.status_code
    try:
        detail = response.json()
    except ValueError:
        detail = response.text
    if isinstance(detail, dict) and "deprecated" in str(detail.get("error", "")).lower():
        _check_envelope(detail, url)
    detail_text = _short(
        json.dumps(detail, ensure_ascii=False) if isinstance(detail, dict) else str(detail)
    )
    if status == 422:
        cause = (
            "Kolada accepts at most 25 ids per path part and per_page up to 5000; "
            "this client keeps to both, so check that KOLADA_BASE_URL is a Kolada v3 API"
        )
    elif status == 404:
        cause = f"no such endpoint: check KOLADA_BASE_URL (now {url.split('/v3')[0]}/v3 expected)"
    elif status == 429:
        cause = f"Kolada still rate-limits after {retries} retries; wait a while and run again"
    elif status >= 500:
        cause = f"Kolada's server kept failing after {retries} retries; try again later. " + (
            SNAPSHOT_HINT
        )
    else:
        cause = "the request was refused"
    raise KoladaHTTPError(
        f"Kolada answered HTTP {status} for {url}: {detail_text}. {cause}.",
        status=status,
        url=url,
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
    frame = pd.DataFrame(rows, columns=VALUE_COLUMNS)
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
