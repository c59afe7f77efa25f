"""The HTTP machinery the data-source clients share (Kolada, Eurostat).

:class:`CachedApiClient`: one ``requests`` session whose urllib3 ``Retry`` retries dropped
connections, timeouts, 429 (honouring ``Retry-After``) and 5xx with exponential backoff, and a
bounded tenacity loop that refetches a body which arrived cut short or is not JSON. Every body is
kept as received in the raw cache (:mod:`.cache`), so a warm run sends no request; ``refresh``
refetches, ``offline`` uses only the cache and names what is missing. Each request, all its
retries included, is bounded by a deadline (:mod:`.deadline`); errors are :mod:`.errors`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from helpers import __version__
from helpers.sources.cache import RawCache, RequestStats
from helpers.sources.deadline import (
    ATTEMPT_TIMEOUT,
    MIN_ATTEMPT,
    TIMEOUT_ENV,
    DeadlineRetry,
    DeadlineTimeout,
    is_read_timeout,
    remaining,
    request_deadline,
    total_timeout_from_env,
)
from helpers.sources.errors import (
    SourceBadResponse,
    SourceCacheMiss,
    SourceError,
    SourceHTTPError,
    SourceTimeout,
    SourceUnreachable,
    check_base_url,
    configured_base_url,
    describe_connection_error,
    short,
)
from helpers.sources.identity import (
    RECORDING_ID_HEADER,
    SourceIdentity,
    live_identity,
    parse_recording_id,
)

RETRY_STATUSES = (429, 500, 502, 503, 504)


class _TruncatedBody(Exception):
    """A body that ended early or did not parse; retried a few times before giving up."""


class CachedApiClient:
    """Shared transport of the data-source clients; subclasses set the class attributes below
    and may override :meth:`_check` (is this body the API's format?) and :meth:`_status_cause`.
    """

    name: ClassVar[str] = "the API"
    env_var: ClassVar[str] = "BASE_URL"
    default_base_url: ClassVar[str] = ""
    api_path: ClassVar[str] = ""
    """Path below the base URL that request keys are relative to."""
    hint: ClassVar[str] = ""
    """Appended to unreachable/failing messages: how to work without the live API."""
    vintage_header: ClassVar[str | None] = None
    """Response header a replay server sends with its recording's vintage."""
    Error: ClassVar[type[SourceError]] = SourceError
    Unreachable: ClassVar[type[SourceError]] = SourceUnreachable
    TimedOut: ClassVar[type[SourceTimeout]] = SourceTimeout
    HTTPError: ClassVar[type[SourceHTTPError]] = SourceHTTPError
    BadResponse: ClassVar[type[SourceError]] = SourceBadResponse
    CacheMiss: ClassVar[type[SourceCacheMiss]] = SourceCacheMiss

    def __init__(self, base_url: str | None, cache_dir: Path | str, *, refresh: bool = False,
                 offline: bool = False, max_workers: int = 4,
                 timeout: float | tuple[float, float] = ATTEMPT_TIMEOUT,
                 total_timeout: float | None = None, retries: int = 5,
                 backoff_factor: float = 0.5, cache_namespace: str | None = None,
                 identity: SourceIdentity | None = None):
        self.base_url = (configured_base_url(self.env_var, self.default_base_url)
                         if base_url is None else
                         check_base_url(base_url, f"the {self.name} base URL",
                                        self.default_base_url))
        self.refresh = refresh
        self.offline = offline
        self.max_workers = max(1, max_workers)
        self.timeout = timeout
        self.total_timeout = total_timeout if total_timeout is not None \
            else total_timeout_from_env()
        self.retries = retries
        self.stats = RequestStats()
        base = urlsplit(self.base_url)
        self._base_path = base.path.rstrip("/") + self.api_path
        self.identity = identity
        """What the data source is (:mod:`.identity`): the cache folder is keyed by it, so one
        recording is cached once whichever port serves it. None (a client made without asking
        the server, e.g. by hand): the folder of the API at that address (``live/<host>``)."""
        namespace = cache_namespace or (identity or live_identity(self.name.lower(),
                                                                  self.base_url)).folder
        self.cache = RawCache(Path(cache_dir) / namespace)
        self._fetched_at: set[str] = set()
        self._vintages: set[str] = set()
        self.used: set[Path] = set()
        """The raw cache files of every response this client used (read or written): what
        ``make report`` checks to know that nothing changed without asking any server."""
        self._recordings: set[str] = set()
        self._collectors: list[list[dict]] = []
        self._fetched_lock = threading.Lock()
        self._session = self._make_session(retries, backoff_factor)

    @property
    def api_root(self) -> str:
        return self.base_url + self.api_path

    def _make_session(self, retries: int, backoff_factor: float) -> requests.Session:
        policy = DeadlineRetry(
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
        session.headers["User-Agent"] = f"skr-report/{__version__} (+{self.name} client)"
        session.headers["Accept"] = "application/json"
        return session

    def close(self) -> None:
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ provenance

    @property
    def source(self) -> dict:
        """Where the data came from: base URL, the time of the newest response used and, when
        a replay server answered, the vintage of its recording."""
        with self._fetched_lock:
            newest = max(self._fetched_at) if self._fetched_at else None
            vintages = sorted(self._vintages)
            recordings = sorted(self._recordings)
        return self._source_of(newest, vintages, recordings)

    def _source_of(self, fetched_at: str | None, vintages: list[str],
                   recordings: list[str] = ()) -> dict:
        source = {"base_url": self.base_url, "fetched_at": fetched_at}
        if vintages:
            source["snapshot_vintage"] = " | ".join(vintages)
        identity = self.identity or self._answered_identity(recordings, bool(vintages))
        if identity is not None:
            source["identity"] = identity.folder
        return source

    def _answered_identity(self, recordings: list[str],
                           replayed: bool) -> SourceIdentity | None:
        """A client not told its identity: the recording its answers named (one only), or the
        live API at its address when no answer came from a replay."""
        if len(recordings) == 1:
            return parse_recording_id(self.name.lower(), recordings[0])
        if not recordings and not replayed:
            return live_identity(self.name.lower(), self.base_url)
        return None

    @contextmanager
    def collect(self) -> Iterator[Callable[[], dict]]:
        """Note the responses used inside the block; yields a function giving their source
        (as :attr:`source`, ``fetched_at`` the newest of these responses only). A report's
        source is then the same whichever other reports the process fetched before it."""
        used: list[dict] = []
        with self._fetched_lock:
            self._collectors.append(used)

        def source() -> dict:
            with self._fetched_lock:
                times = [m["fetched_at"] for m in used if m.get("fetched_at")]
                vintages = sorted({m["snapshot"] for m in used if m.get("snapshot")})
                recordings = sorted({m["recording"] for m in used if m.get("recording")})
            return self._source_of(max(times) if times else None, vintages, recordings)

        try:
            yield source
        finally:
            with self._fetched_lock:
                self._collectors.remove(used)

    def _remember(self, meta: dict | None) -> None:
        """Note when (and from which recording, if any) a response used was fetched."""
        if not meta:
            return
        with self._fetched_lock:
            if meta.get("fetched_at"):
                self._fetched_at.add(meta["fetched_at"])
            if meta.get("snapshot"):
                self._vintages.add(meta["snapshot"])
            if meta.get("recording"):
                self._recordings.add(meta["recording"])
            for used in self._collectors:
                used.append(meta)

    # ------------------------------------------------------------------- transport

    def cache_key(self, url: str) -> str:
        """The request's path below the API root plus its sorted query: host-independent."""
        parts = urlsplit(url)
        path = parts.path
        if parts.netloc and path.startswith(self._base_path):
            path = path[len(self._base_path):]
        query = urlencode(sorted(parse_qsl(parts.query)))
        return f"{path}?{query}" if query else path

    def get_json(self, key: str, missing: list[str]) -> Any:
        """The parsed body for ``key`` from the cache or the API; None (and ``key`` appended to
        ``missing``) when offline and not cached."""
        body = None if self.refresh else self.cache.get(key)
        if body is not None:
            self.stats.add(cache_hits=1)
            self._remember(self.cache.meta(key))
            with self._fetched_lock:
                self.used.add(self.cache.path_of(key))
            return self._parse_cached(body, key)
        if self.offline:
            missing.append(key)
            return None
        return self._download(key)

    def cache_miss(self, missing: list[str]) -> SourceCacheMiss:
        return self.CacheMiss(
            f"Offline mode, and {len(missing)} request(s) to {self.name} are not in the cache "
            f"({self.cache.root}), e.g. {missing[0]}. Fix: run the same command without "
            f"--offline (with the API unreachable it uses the recordings by itself). "
            f"{self.hint}",
            missing,
        )

    def _download(self, key: str) -> Any:
        url = self.api_root + key

        @retry(
            retry=retry_if_exception_type(_TruncatedBody),
            stop=stop_after_attempt(self.retries),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )
        def attempt() -> tuple[bytes, Any, str | None, str | None]:
            response = self._request(url, started)
            body = response.content
            self.stats.add(requests=1, nbytes=len(body))
            try:
                payload = json.loads(body)
            except ValueError as exc:
                raise _TruncatedBody(f"{url}: {exc}") from exc
            header = response.headers.get(self.vintage_header) if self.vintage_header else None
            self._check_identity(response, url)
            return body, payload, header, response.headers.get(RECORDING_ID_HEADER)

        started = time.monotonic()
        with request_deadline(self.total_timeout):
            try:
                body, payload, vintage, recording = attempt()
            except _TruncatedBody as exc:
                raise self.BadResponse(
                    f"{self.name}'s answer to {url} was not complete JSON after {self.retries} "
                    f"attempts ({exc}). The connection may be cutting responses short; try "
                    f"again, or run on the recorded data. {self.hint}"
                ) from None
        self._check(payload, url)
        fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        meta = {"url": url, "fetched_at": fetched_at, "bytes": len(body)}
        if vintage:
            meta["snapshot"] = vintage
        if recording:
            meta["recording"] = recording
        self.cache.put(key, body, meta)
        self._remember(meta)
        with self._fetched_lock:
            self.used.add(self.cache.path_of(key))
        return payload

    def _request(self, url: str, started: float) -> requests.Response:
        if remaining() <= MIN_ATTEMPT:
            raise self._timed_out(url, started)
        try:
            response = self._session.get(url, timeout=DeadlineTimeout(*self._attempt_timeout()))
        except requests.exceptions.RetryError as exc:
            raise self.HTTPError(
                f"{self.name} kept failing for {url} after {self.retries} retries ({exc}). "
                f"Try again later. {self.hint}",
                status=0,
                url=url,
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise _TruncatedBody(f"{url}: {exc}") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if is_read_timeout(exc) or remaining() <= MIN_ATTEMPT:
                raise self._timed_out(url, started) from None
            raise self.Unreachable(
                f"{self.name} could not be reached at {self.base_url} "
                f"({describe_connection_error(exc)}). {self.hint}"
            ) from None
        if response.status_code >= 400:
            self._raise_for_status(response, url)
        return response

    def _check_identity(self, response: requests.Response, url: str) -> None:
        """A recording's cache takes only that recording's answers: a server that now
        replays another one (restarted on the same port) is refused, not cached."""
        if self.identity is None or not self.identity.is_recording:
            return
        answered = parse_recording_id(self.identity.name,
                                      response.headers.get(RECORDING_ID_HEADER))
        if answered != self.identity:
            raise self.BadResponse(
                f"{url} answered from {answered or 'a source that names no recording'}, not "
                f"from {self.identity} that this run started on; nothing was cached. The "
                f"server at {self.base_url} changed during the run: run the command again.")

    def _attempt_timeout(self) -> tuple[float, float]:
        if isinstance(self.timeout, tuple):
            return self.timeout
        return (self.timeout, self.timeout)

    def _timed_out(self, url: str, started: float) -> SourceTimeout:
        waited = time.monotonic() - started
        return self.TimedOut(
            f"{self.name} at {self.base_url} accepted the connection but the server did not "
            f"answer in {waited:.0f} s ({url}). The limit is {self.total_timeout:g} s per "
            f"request, retries included; raise it with {TIMEOUT_ENV}=<seconds> if the server is "
            f"just slow, or try again later. {self.hint}",
            seconds=waited,
        )

    def _parse_cached(self, body: bytes, key: str) -> Any:
        try:
            payload = json.loads(body)
        except ValueError:
            raise self.BadResponse(
                f"The cached response for {key} in {self.cache.root} is not valid JSON. "
                "Delete that file or rerun with --refresh."
            ) from None
        self._check(payload, key)
        return payload

    # ------------------------------------------------------------ API-specific hooks

    def _check(self, payload: Any, url: str) -> None:
        """Raise ``BadResponse`` when ``payload`` is not in the API's format."""

    def _status_cause(self, status: int, detail: Any, url: str) -> str:
        """What an error status means for this API and what to do (a sentence)."""
        if status == 429:
            return (f"{self.name} still rate-limits after {self.retries} retries; wait a "
                    "while and run again")
        if status >= 500:
            return (f"{self.name}'s server kept failing after {self.retries} retries; try "
                    f"again later. {self.hint}")
        return "the request was refused"

    def _raise_for_status(self, response: requests.Response, url: str) -> None:
        status = response.status_code
        try:
            detail: Any = response.json()
        except ValueError:
            detail = response.text
        detail_text = short(json.dumps(detail, ensure_ascii=False)
                            if isinstance(detail, dict | list) else str(detail))
        cause = self._status_cause(status, detail, url)
        raise self.HTTPError(
            f"{self.name} answered HTTP {status} for {url}: {detail_text}. {cause}.",
            status=status,
            url=url,
        )
