"""The HTTP machinery the data-source clients share (Kolada, Eurostat).

- :class:`CachedApiClient`: one ``requests`` session whose urllib3 ``Retry`` retries dropped
  connections, timeouts, 429 (honouring ``Retry-After``) and 5xx with exponential backoff, and a
  bounded tenacity loop that refetches a body which arrived cut short or is not JSON. Every body
  is kept as received in a :class:`RawCache` (one file per request plus ``.meta.json``, written
  atomically), so a warm run sends no request; ``refresh`` refetches, ``offline`` uses only the
  cache and names what is missing.
- **A bound on the whole wait.** Each request (all its retries and refetches included) gets a
  deadline, ``total_timeout`` seconds (default 60, or ``$SKR_HTTP_TIMEOUT``). Every attempt's
  connect and read time-outs and every backoff are cut to what is left, and no retry starts
  after the deadline, so a server that accepts connections and never answers costs about
  ``total_timeout`` seconds and is reported as such (:class:`SourceTimeout`), not as unreachable.
- **Errors** all derive from :class:`SourceError`; each client derives its own classes from these
  (``KoladaUnreachable(KoladaError, SourceUnreachable)``), and every message names the problem and
  the fix. A base URL that is not an ``http(s)://host/...`` address is refused up front
  (:class:`SourceConfigError`, naming the environment variable).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.exceptions import MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from helpers import __version__
from helpers.files import atomic_write_bytes

RETRY_STATUSES = (429, 500, 502, 503, 504)
TIMEOUT_ENV = "SKR_HTTP_TIMEOUT"
DEFAULT_TOTAL_TIMEOUT = 60.0
"""Seconds one request may take, retries included (``$SKR_HTTP_TIMEOUT`` overrides)."""
ATTEMPT_TIMEOUT = (5.0, 30.0)
"""(connect, read) seconds of one attempt, cut to what is left of the total."""
_MIN_ATTEMPT = 0.05
_RETRY_WINDOW = 0.5
"""No retry starts with less than this many seconds left: it could not get an answer."""


# --- errors ------------------------------------------------------------------------------------


class SourceError(Exception):
    """Base class: every message names the problem and what to do about it."""


class SourceConfigError(SourceError):
    """A setting (base URL, time-out) is not usable; the message names the variable."""


class SourceUnreachable(SourceError):
    """No connection could be made (refused, DNS, connect time-out) after retries."""


class SourceTimeout(SourceError):
    """The server accepted the connection but did not answer within the total time-out."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds


class SourceHTTPError(SourceError):
    """The server answered with an error status (after retries for 429/5xx)."""

    def __init__(self, message: str, status: int, url: str):
        super().__init__(message)
        self.status = status
        self.url = url


class SourceBadResponse(SourceError):
    """The body was not what the API documents (cut short, HTML, another API's format)."""


class SourceCacheMiss(SourceError):
    """Offline mode and a request that is not in the cache."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


# --- settings ----------------------------------------------------------------------------------


def check_base_url(url: str, variable: str, example: str) -> str:
    """``url`` without a trailing slash, or SourceConfigError naming ``variable`` and the form."""
    text = str(url).strip()
    parts = urlsplit(text)
    form = (f"Expected an http:// or https:// address with a host, e.g. {example}. "
            f"Fix: correct or unset {variable}.")
    if parts.scheme.lower() not in ("http", "https"):
        got = f"uses the scheme {parts.scheme!r}" if parts.scheme else "has no http(s):// scheme"
        raise SourceConfigError(f"{variable}={text!r} {got}; the client speaks only HTTP(S). "
                                + form)
    if not parts.hostname:
        raise SourceConfigError(f"{variable}={text!r} names no host. " + form)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise SourceConfigError(f"{variable}={text!r} has an invalid port. " + form) from None
    return text.rstrip("/")


def total_timeout_from_env(default: float = DEFAULT_TOTAL_TIMEOUT) -> float:
    """``$SKR_HTTP_TIMEOUT`` seconds (a positive number), else ``default``."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SourceConfigError(f"{TIMEOUT_ENV}={raw!r} is not a positive number of seconds. "
                                f"Fix: e.g. {TIMEOUT_ENV}=60, or unset it for the default "
                                f"({DEFAULT_TOTAL_TIMEOUT:.0f} s).")
    return value


# --- the deadline of one request ---------------------------------------------------------------

_deadline = threading.local()


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[float]:
    """Within this block (in this thread) HTTP attempts and backoffs end by ``now + seconds``."""
    previous = getattr(_deadline, "at", None)
    _deadline.at = time.monotonic() + seconds
    try:
        yield _deadline.at
    finally:
        _deadline.at = previous


def remaining() -> float:
    """Seconds left before the current deadline (``inf`` outside :func:`request_deadline`)."""
    at = getattr(_deadline, "at", None)
    return math.inf if at is None else at - time.monotonic()


class DeadlineTimeout(Timeout):
    """urllib3 time-outs cut to what is left of the request's deadline at each attempt."""

    @property
    def connect_timeout(self) -> float | None:  # type: ignore[override]
        return _cut(super().connect_timeout)

    @property
    def read_timeout(self) -> float | None:  # type: ignore[override]
        return _cut(super().read_timeout)

    def clone(self) -> DeadlineTimeout:
        return DeadlineTimeout(connect=self._connect, read=self._read, total=self.total)


def _cut(value: Any) -> Any:
    left = remaining()
    if left == math.inf or not isinstance(value, int | float):
        return value
    return max(_MIN_ATTEMPT, min(value, left))


class DeadlineRetry(Retry):
    """urllib3 ``Retry`` that starts no retry after the deadline and sleeps no longer than it."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None):
        if remaining() <= _RETRY_WINDOW:
            reason = error or ResponseError(
                ResponseError.SPECIFIC_ERROR.format(status_code=getattr(response, "status", 0)))
            raise MaxRetryError(_pool, url, reason) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep_for_retry(self, response) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            time.sleep(max(0.0, min(retry_after, remaining() - _RETRY_WINDOW)))
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = min(self.get_backoff_time(), remaining() - _RETRY_WINDOW)
        if backoff > 0:
            time.sleep(backoff)


# --- statistics and the raw cache --------------------------------------------------------------


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


def slug(text: str) -> str:
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
        folder = self.root / slug(entity)
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


# --- words for failures ------------------------------------------------------------------------


def describe_connection_error(exc: BaseException) -> str:
    """The operating system's words for a connection failure, without urllib3's wrapping."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if found:
        return found.group(0).strip()
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer before the time-out"
    return short(text)


def short(exc: BaseException | str, limit: int = 160) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"


def _is_read_timeout(exc: BaseException) -> bool:
    """True when the connection was made and the answer did not come in time."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, ReadTimeoutError):
            return True
        if isinstance(item, MaxRetryError):
            stack.append(item.reason)
        if isinstance(item, BaseException):
            stack.extend(item.args)
            stack.append(item.__cause__)
            stack.append(item.__context__)
    return False


class _TruncatedBody(Exception):
    """A body that ended early or did not parse; retried a few times before giving up."""


# --- the client base ---------------------------------------------------------------------------


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
                 backoff_factor: float = 0.5, cache_namespace: str | None = None):
        if base_url is None:
            raw = os.environ.get(self.env_var, self.default_base_url)
            variable = self.env_var
        else:
            raw, variable = base_url, f"the {self.name} base URL"
        self.base_url = check_base_url(raw, variable, self.default_base_url)
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
        namespace = cache_namespace or slug(f"{base.netloc}{base.path}")
        self.cache = RawCache(Path(cache_dir) / namespace)
        self._fetched_at: set[str] = set()
        self._vintages: set[str] = set()
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
        source = {"base_url": self.base_url, "fetched_at": newest}
        if vintages:
            source["snapshot_vintage"] = " | ".join(vintages)
        return source

    def _remember(self, meta: dict | None) -> None:
        """Note when (and from which recording, if any) a response used was fetched."""
        if not meta:
            return
        with self._fetched_lock:
            if meta.get("fetched_at"):
                self._fetched_at.add(meta["fetched_at"])
            if meta.get("snapshot"):
                self._vintages.add(meta["snapshot"])

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
            return self._parse_cached(body, key)
        if self.offline:
            missing.append(key)
            return None
        return self._download(key)

    def cache_miss(self, missing: list[str]) -> SourceCacheMiss:
        return self.CacheMiss(
            f"Offline mode, and {len(missing)} request(s) to {self.base_url} are not in "
            f"the cache ({self.cache.root}), e.g. {missing[0]}. Run the same command "
            "once without --offline to fetch them.",
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
        def attempt() -> tuple[bytes, Any, str | None]:
            response = self._request(url, started)
            body = response.content
            self.stats.add(requests=1, nbytes=len(body))
            try:
                payload = json.loads(body)
            except ValueError as exc:
                raise _TruncatedBody(f"{url}: {exc}") from exc
            header = response.headers.get(self.vintage_header) if self.vintage_header else None
            return body, payload, header

        started = time.monotonic()
        with request_deadline(self.total_timeout):
            try:
                body, payload, vintage = attempt()
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
        self.cache.put(key, body, meta)
        self._remember(meta)
        return payload

    def _request(self, url: str, started: float) -> requests.Response:
        if remaining() <= _MIN_ATTEMPT:
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
            if _is_read_timeout(exc) or remaining() <= _MIN_ATTEMPT:
                raise self._timed_out(url, started) from None
            raise self.Unreachable(
                f"{self.name} could not be reached at {self.base_url} "
                f"({describe_connection_error(exc)}). {self.hint}"
            ) from None
        if response.status_code >= 400:
            self._raise_for_status(response, url)
        return response

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


__all__ = [
    "ATTEMPT_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "RETRY_STATUSES",
    "TIMEOUT_ENV",
    "CachedApiClient",
    "RawCache",
    "RequestStats",
    "SourceBadResponse",
    "SourceCacheMiss",
    "SourceConfigError",
    "SourceError",
    "SourceHTTPError",
    "SourceTimeout",
    "SourceUnreachable",
    "check_base_url",
    "describe_connection_error",
    "request_deadline",
    "short",
    "slug",
    "total_timeout_from_env",
]
