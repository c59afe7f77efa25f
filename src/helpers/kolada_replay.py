"""A local Kolada v3 replay server over a recorded snapshot folder, with fault injection.

The snapshot folder holds ``kpi.json``, ``kpi_groups.json``, ``municipality.json``,
``municipality_groups.json`` (each one v3 response envelope) and ``values.csv.gz`` (columns
``kpi, municipality, period, gender, value``); ``ou.json`` is optional. The server answers the
v3 paths with the live API's behaviour (see ``../shared/kolada/README.md``): metadata by id list
or ``?title=``, data paths with two or three parts of at most 25 ids, paging with absolute
``next_url``/``previous_url``, municipality groups as the unweighted mean of their members, and
the deprecation body on ``/v2``. ``Faults`` adds latency, 500s, 429s, dropped connections and
truncated bodies, deterministically for a seed.

The same server answers Eurostat's statistics API from the recording in ``../shared/eurostat``
(:mod:`helpers.eurostat_replay`) below ``/eurostat/api/dissemination`` (``eurostat_base_url``),
with the same faults: one server, one port, everything a fully offline run needs.

Usage::

    with ReplayServer() as server:
        requests.get(f"{server.base_url}/kpi/N01951").json()
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import logging
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pandas as pd

from helpers import paths
from helpers.eurostat_replay import API_PREFIX as EUROSTAT_PREFIX
from helpers.eurostat_replay import EurostatApi
from helpers.kolada import SNAPSHOT_HEADER

log = logging.getLogger(__name__)

ENTITIES = ("kpi", "kpi_groups", "municipality", "municipality_groups", "ou")
GENDERS = ("T", "K", "M")
MAX_IDS = 25
MAX_PER_PAGE = 5000
DEFAULT_PER_PAGE = 5000
DATA_FORMS = (("kpi", "municipality", "year"), ("kpi", "year"), ("kpi", "municipality"),
              ("municipality", "year"))
DEPRECATION_BODY = {"error": "This endpoint is deprecated. Please use /v3 instead."}
# The shut-down v2 API answers with a JSON body; clients must detect it from the body alone.
DEPRECATION_STATUS = 200
SNAPSHOT_FILES = ("kpi.json", "kpi_groups.json", "municipality.json", "municipality_groups.json",
                  "values.csv.gz")
QUERY_CACHE_SIZE = 16
GZIP_MIN_BYTES = 1400


@dataclass(frozen=True)
class Faults:
    """Faults injected per request: ``latency`` seconds, and shares (0–1) of requests that get a
    500 (or ``error_status``), a 429 with ``Retry-After: retry_after``, a dropped connection or
    a truncated body; ``fail_first`` answers the first n requests with ``error_status``."""

    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    fail_first: int = 0
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0, got {self.latency}")
        rates = {f.name: getattr(self, f.name) for f in fields(self) if f.name.endswith("_rate")}
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        if sum(rates.values()) > 1.0:
            raise ValueError(f"the fault rates add up to more than 1: {rates}")

    def thresholds(self) -> list[tuple[float, str]]:
        """Cumulative (upper bound, fault) pairs for one uniform draw in [0, 1)."""
        out, total = [], 0.0
        for rate, name in ((self.drop_rate, "drop"), (self.error_rate, "error"),
                           (self.rate_limit_rate, "rate_limit"),
                           (self.truncate_rate, "truncate")):
            total += rate
            out.append((total, name))
        return out


class ApiError(Exception):
    """An error answered as ``status`` with the JSON body ``{"error": ..., "detail": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- snapshot


class Records:
    """The sorted data records of one query as plain Python columns, cheap to page through."""

    def __init__(self, frame: pd.DataFrame, kpi_genders: dict[str, tuple[str, ...]]) -> None:
        self.kpi = frame["kpi"].tolist()
        self.municipality = frame["municipality"].tolist()
        self.period = [int(p) for p in frame["period"].tolist()]
        self.values = {g: [None if v != v else v for v in frame[g].tolist()] for g in GENDERS}
        self.counts = {g: [int(n) for n in frame[f"n_{g}"].tolist()] for g in GENDERS}
        self.kpi_genders = kpi_genders

    def __len__(self) -> int:
        return len(self.kpi)

    def page(self, start: int, stop: int) -> list[dict[str, Any]]:
        """The records at positions ``start:stop`` in the v3 data record shape."""
        return [self._record(i) for i in range(start, min(stop, len(self)))]

    def _record(self, i: int) -> dict[str, Any]:
        genders = self.kpi_genders.get(self.kpi[i], ("T",))
        values = [{"gender": g, "count": self.counts[g][i], "status": "",
                   "value": self.values[g][i], "isdeleted": False} for g in genders]
        return {"kpi": self.kpi[i], "municipality": self.municipality[i],
                "period": self.period[i], "values": values}


def read_vintage(folder: Path) -> str:
    """The snapshot's vintage, sent with every answer as ``X-Kolada-Snapshot``, so that reports
    built on the recorded snapshot say which state of Kolada they show rather than when the
    replay was read.

    From ``snapshot.json`` (machine-readable: ``values.recorded``, ``values.years``,
    ``metadata[].recorded``) as compact ASCII JSON; a folder without it falls back to the
    README's table of files (``file vintage; …``).
    """
    stated = Path(folder) / "snapshot.json"
    if stated.is_file():
        try:
            data = json.loads(stated.read_text(encoding="utf-8"))
        except ValueError:
            data = None
        if isinstance(data, dict):
            kept = {key: data[key] for key in ("source", "values", "metadata") if key in data}
            return json.dumps(kept, ensure_ascii=True, separators=(",", ":"))
    readme = Path(folder) / "README.md"
    if not readme.is_file():
        return "recorded snapshot (vintage not stated)"
    vintages = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            vintages.append(f"{cells[0].strip('`')} {cells[2]}")
    return "; ".join(vintages) or "recorded snapshot (vintage not stated)"


class Snapshot:
    """A snapshot folder loaded into memory: metadata lists and a values table indexed by KPI."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        missing = [name for name in SNAPSHOT_FILES if not (self.folder / name).is_file()]
        if missing:
            raise FileNotFoundError(
                f"Kolada snapshot folder {self.folder} lacks {', '.join(missing)}; point "
                "--snapshot (or SKR_SHARED_DIR) at a folder in the format of ../shared/kolada."
            )
        self.metadata = {entity: self._read_entity(entity) for entity in ENTITIES}
        self.group_members = {
            g["id"]: tuple(m["member_id"] for m in g.get("members", []))
            for g in self.metadata["municipality_groups"]
        }
        long = self._read_values()
        self.kpi_genders = self._genders_by_kpi(long)
        self.wide = self._widen(long)
        self.kpi_slices = self._slices(self.wide)
        self.records = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._records)
        self.vintage = read_vintage(self.folder)

    def _read_entity(self, entity: str) -> list[dict[str, Any]]:
        path = self.folder / f"{entity}.json"
        if not path.is_file():
            return []
        return json.loads(path.read_text(encoding="utf-8"))["values"]

    def _read_values(self) -> pd.DataFrame:
        frame = pd.read_csv(self.folder / "values.csv.gz",
                            dtype={"kpi": str, "municipality": str, "gender": str})
        frame["period"] = frame["period"].astype("int64")
        return frame

    @staticmethod
    def _genders_by_kpi(long: pd.DataFrame) -> dict[str, tuple[str, ...]]:
        present = long.groupby("kpi")["gender"].unique()
        return {kpi: tuple(g for g in GENDERS if g in set(gs)) for kpi, gs in present.items()}

    @staticmethod
    def _widen(long: pd.DataFrame) -> pd.DataFrame:
        """One row per (kpi, municipality, period), a value column per gender, sorted."""
        wide = long.pivot(index=["kpi", "municipality", "period"], columns="gender",
                          values="value")
        wide = wide.reindex(columns=list(GENDERS)).sort_index().reset_index()
        wide.columns.name = None
        for g in GENDERS:
            wide[f"n_{g}"] = 1
        return wide

    @staticmethod
    def _slices(wide: pd.DataFrame) -> dict[str, slice]:
        bounds = wide.groupby("kpi", sort=False).indices
        return {kpi: slice(int(pos[0]), int(pos[-1]) + 1) for kpi, pos in bounds.items()}

    def metadata_values(self, entity: str, ids: list[str] | None,
                        title: str | None) -> list[dict[str, Any]]:
        """Metadata objects of ``entity``, filtered by id list and case-insensitive title part."""
        items = self.metadata[entity]
        if ids is not None:
            wanted = set(ids)
            items = [item for item in items if item.get("id") in wanted]
        if title:
            needle = title.casefold()
            items = [item for item in items if needle in str(item.get("title", "")).casefold()]
        return items

    def _records(self, kpis: tuple[str, ...] | None, municipalities: tuple[str, ...] | None,
                 years: tuple[int, ...] | None) -> Records:
        """The records for normalised (sorted, unique) id tuples; ``None`` means every id."""
        base = self._select_kpis(kpis)
        if years is not None:
            base = base[base["period"].isin(years)]
        if municipalities is None:
            frame = base
        else:
            groups = [m for m in municipalities if m in self.group_members]
            plain = [m for m in municipalities if m not in self.group_members]
            parts = [base[base["municipality"].isin(plain)]]
            parts += [self._group_mean(base, g) for g in groups]
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            frame = frame.sort_values(["kpi", "municipality", "period"], kind="stable")
        return Records(frame, self.kpi_genders)

    def _select_kpis(self, kpis: tuple[str, ...] | None) -> pd.DataFrame:
        if kpis is None:
            return self.wide
        slices = [self.kpi_slices[k] for k in kpis if k in self.kpi_slices]
        if not slices:
            return self.wide.iloc[0:0]
        return pd.concat([self.wide.iloc[s] for s in slices], ignore_index=True)

    def _group_mean(self, base: pd.DataFrame, group_id: str) -> pd.DataFrame:
        """Unweighted mean of the members per (kpi, period, gender); ``n_*`` = contributors."""
        members = base[base["municipality"].isin(self.group_members[group_id])]
        grouped = members.groupby(["kpi", "period"], sort=True)[list(GENDERS)]
        counts = grouped.count().add_prefix("n_")
        frame = grouped.mean().join(counts).reset_index()
        frame.insert(1, "municipality", group_id)
        return frame[self.wide.columns]


@functools.lru_cache(maxsize=4)
def load_snapshot(folder: Path) -> Snapshot:
    """The snapshot in ``folder``, loaded once per process (servers over one folder share it)."""
    return Snapshot(folder)


# --------------------------------------------------------------------------- API


class ReplayApi:
    """Answers one GET request (path with query) as (status, JSON body, extra headers)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def handle(self, target: str, host: str) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(target)
        path = unquote(url.path).rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if path == "/v2" or path.startswith("/v2/"):
            return DEPRECATION_STATUS, DEPRECATION_BODY, {}
        try:
            return 200, self._route(path, query, f"http://{host}{url.path}"), {}
        except ApiError as exc:
            return exc.status, {"error": exc.message, "detail": exc.message}, {}

    def _route(self, path: str, query: dict[str, str], page_base: str) -> dict[str, Any]:
        parts = path.split("/")[1:]
        if len(parts) < 2 or parts[0] != "v3":
            raise ApiError(404, f"Not found: {path}. The API lives under /v3.")
        if parts[1] == "data":
            return self._data(parts[2:], query, page_base)
        if parts[1] in ENTITIES and len(parts) <= 3:
            ids = _split_ids(parts[2]) if len(parts) == 3 else None
            items = self.snapshot.metadata_values(parts[1], ids, query.get("title"))
            return _paged(items, len(items), query, page_base)
        raise ApiError(404, f"Not found: {path}. Metadata entities: {', '.join(ENTITIES)}; "
                            "data: /v3/data/kpi/{K}/municipality/{M}/year/{Y}.")

    def _data(self, segments: list[str], query: dict[str, str],
              page_base: str) -> dict[str, Any]:
        keys = tuple(segments[0::2])
        if len(segments) % 2 or keys not in DATA_FORMS:
            raise ApiError(404, "Data paths are /v3/data/kpi/{K}/municipality/{M}/year/{Y} or "
                                "any two of these three parts, in this order.")
        found = dict(zip(keys, segments[1::2], strict=True))
        ids = {key: _split_ids(found[key], key) if key in found else None
               for key in ("kpi", "municipality", "year")}
        years = None if ids["year"] is None else tuple(sorted({_year(y) for y in ids["year"]}))
        records = self.snapshot.records(_norm(ids["kpi"]), _norm(ids["municipality"]), years)
        return _paged(records, len(records), query, page_base)


def _split_ids(text: str, part: str | None = None) -> list[str]:
    ids = [i.strip() for i in text.split(",") if i.strip()]
    if part is not None and len(ids) > MAX_IDS:
        raise ApiError(422, f"Too many ids in the {part} part: {len(ids)} given, at most "
                            f"{MAX_IDS} allowed per part. Split the request into chunks.")
    return ids


def _norm(ids: list[str] | None) -> tuple[str, ...] | None:
    return None if ids is None else tuple(sorted(set(ids)))


def _year(text: str) -> int:
    if not text.isdigit():
        raise ApiError(422, f"Invalid year {text!r} in the year part: years are integers.")
    return int(text)


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(422, f"Query parameter {name}={raw!r} is not an integer.") from None


def _page_window(query: dict[str, str]) -> tuple[int, int]:
    page = _int_param(query, "page", 1)
    per_page = _int_param(query, "per_page", DEFAULT_PER_PAGE)
    if page < 1:
        raise ApiError(422, f"page={page} is invalid: pages are numbered from 1.")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(422, f"per_page={per_page} is invalid: it must be between 1 and "
                            f"{MAX_PER_PAGE}.")
    return page, per_page


def _paged(items: Any, total: int, query: dict[str, str], page_base: str) -> dict[str, Any]:
    """The v3 envelope for one page of ``items`` (a list or ``Records``); count = page size."""
    page, per_page = _page_window(query)
    start = (page - 1) * per_page
    values = items.page(start, start + per_page) if isinstance(items, Records) \
        else items[start:start + per_page]

    def link(number: int) -> str:
        params = {**query, "page": str(number), "per_page": str(per_page)}
        return f"{page_base}?{urlencode(params)}"

    has_next = start + per_page < total
    has_previous = page > 1 and total > 0
    return {"values": values, "count": len(values),
            "next_url": link(page + 1) if has_next else None,
            "previous_url": link(min(page - 1, -(-total // per_page))) if has_previous else None}


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KoladaReplay/1.0"
    timeout = 60  # idle keep-alive connections close after this many seconds
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def do_GET(self) -> None:
        replay: ReplayServer = self.server.replay  # type: ignore[attr-defined]
        fault, faults = replay._begin_request(self.path)
        if faults.latency:
            time.sleep(faults.latency)
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "error":
            self._send(faults.error_status, {"error": f"HTTP {faults.error_status} "
                                                      "(injected fault)"})
            return
        if fault == "rate_limit":
            self._send(429, {"error": "Too Many Requests (injected fault)"},
                       {"Retry-After": str(faults.retry_after)})
            return
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        eurostat = EurostatApi.handles(self.path.split("?", 1)[0])
        try:
            if eurostat:
                status, body, headers = replay.eurostat.handle(self.path)
            elif replay.api is None:
                status, body, headers = 404, {"error": "This replay server has no Kolada "
                                                       "snapshot."}, {}
            else:
                status, body, headers = replay.api.handle(self.path, host)
                # HTTP headers are Latin-1: keep the vintage text ASCII.
                headers = {SNAPSHOT_HEADER: replay.api.snapshot.vintage.encode(
                    "ascii", "replace").decode(), **headers}
        except Exception:
            log.exception("replay server failed on %s", self.path)
            status, body, headers = 500, {"error": "Internal Server Error"}, {}
        self._send(status, body, headers, truncate=fault == "truncate")

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None,
              truncate: bool = False) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        gzipped = len(data) >= GZIP_MIN_BYTES and "gzip" in self.headers.get("Accept-Encoding", "")
        if gzipped:
            data = gzip.compress(data, compresslevel=1)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            # Promise the full length, send half, hang up: the client sees an incomplete body.
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], replay: ReplayServer) -> None:
        self.replay = replay
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        self.replay._count_connection()
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._open_lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ReplayServer:
    """The replay server; ``start()`` serves in a background thread until ``stop()``.

    ``request_count`` and ``requests`` (the request targets in arrival order) count every HTTP
    request received, including those answered with an injected fault; ``connection_count``
    counts accepted TCP connections (keep-alive reuses them); ``injected`` counts the
    faults by kind (``drop``, ``error``, ``rate_limit``, ``truncate``). Assigning ``faults``
    while running changes the faults of later requests and reseeds the random draws.
    """

    def __init__(self, snapshot_dir: Path | str | None = paths.SNAPSHOT_DIR,
                 host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None,
                 eurostat_dir: Path | str = paths.EUROSTAT_RECORDING_DIR) -> None:
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None
        self.eurostat = EurostatApi(Path(eurostat_dir))
        self.host = host
        self.port = port
        self.request_count = 0
        self.connection_count = 0
        self.requests: list[str] = []
        self.injected: Counter[str] = Counter()
        self.api: ReplayApi | None = None
        self._lock = threading.Lock()
        self.faults = faults or Faults()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._rng = random.Random(faults.seed)

    @property
    def base_url(self) -> str:
        """The Kolada v3 API (``KOLADA_BASE_URL``)."""
        return f"{self.root_url}/v3"

    @property
    def eurostat_base_url(self) -> str:
        """Eurostat's dissemination API (``EUROSTAT_BASE_URL``)."""
        return f"{self.root_url}{EUROSTAT_PREFIX}"

    @property
    def root_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ReplayServer:
        """Load the snapshot (once per process), bind and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        if self.snapshot_dir is not None:
            self.api = ReplayApi(load_snapshot(self.snapshot_dir.resolve()))
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"kolada-replay-{self.port}", daemon=True)
        self._thread.start()
        log.info("Kolada replay server on %s (snapshot %s)", self.base_url, self.snapshot_dir)
        return self

    def stop(self) -> None:
        """Stop serving, close open keep-alive connections and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.close_open_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def reset_counts(self) -> None:
        """Zero ``request_count``, ``connection_count``, ``requests`` and ``injected``."""
        with self._lock:
            self.request_count = 0
            self.connection_count = 0
            self.requests.clear()
            self.injected.clear()

    def _count_connection(self) -> None:
        with self._lock:
            self.connection_count += 1

    def _begin_request(self, target: str) -> tuple[str | None, Faults]:
        """Count the request and draw its fault (None for a normal answer)."""
        with self._lock:
            self.request_count += 1
            self.requests.append(target)
            faults = self._faults
            draw = self._rng.random()
            fault = next((name for bound, name in faults.thresholds() if draw < bound), None)
            if self.request_count <= faults.fail_first:
                fault = "error"
            if fault:
                self.injected[fault] += 1
        return fault, faults

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
