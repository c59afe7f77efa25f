"""A local replay server: Kolada v3 over a recorded snapshot folder, with fault injection.

The snapshot folder holds ``kpi.json``, ``kpi_groups.json``, ``municipality.json``,
``municipality_groups.json`` (each one v3 response envelope) and ``values.csv.gz`` (columns
``kpi, municipality, period, gender, value``); ``ou.json`` is optional. The server answers the
v3 paths with the live API's behaviour (see ``../shared/kolada/README.md``): metadata by id list
or ``?title=``, data paths with two or three parts of at most 25 ids, paging with absolute
``next_url``/``previous_url``, municipality groups as the unweighted mean of their members, and
the deprecation body on ``/v2``. ``Faults`` adds latency, 500s, 429s, dropped connections and
truncated bodies, deterministically for a seed.

The same server answers Eurostat's statistics API from the recording in ``../shared/eurostat``
(:mod:`helpers.sources.replay.eurostat`) below ``/eurostat/api/dissemination``
(``eurostat_base_url``), with the same faults: one server, one port, everything a fully offline
run needs.

Usage::

    with ReplayServer() as server:
        requests.get(f"{server.base_url}/kpi/N01951").json()
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import random
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.sources.identity import RECORDING_ID_HEADER, SourceIdentity
from helpers.sources.kolada import SNAPSHOT_HEADER
from helpers.sources.replay.eurostat import API_PREFIX as EUROSTAT_PREFIX
from helpers.sources.replay.eurostat import EurostatApi, recording_folder_identity
from helpers.sources.replay.kolada import (
    ReplayApi,
    check_snapshot_folder,
    load_snapshot,
    snapshot_identity,
)

log = logging.getLogger(__name__)

GZIP_MIN_BYTES = 1400
"""Answers at least this long are gzipped when the client accepts it."""

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
                headers = {RECORDING_ID_HEADER: replay.eurostat_identity.recording_id,
                           **headers}
            elif replay.snapshot_dir is None:
                status, body, headers = 404, {"error": "This replay server has no Kolada "
                                                       "snapshot."}, {}
            else:
                api = replay.kolada_api()
                status, body, headers = api.handle(self.path, host)
                # HTTP headers are Latin-1: keep the vintage text ASCII.
                headers = {SNAPSHOT_HEADER: api.snapshot.vintage.encode(
                    "ascii", "replace").decode(),
                    RECORDING_ID_HEADER: replay.identity.recording_id, **headers}
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

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its answer was written (it timed out, e.g. while the
        snapshot was being loaded, and retries) is no error of the server: no traceback on the
        user's terminal."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("client %s went away before its answer was written", client_address)
            return
        super().handle_error(request, client_address)

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
                 eurostat_dir: Path | str = paths.EUROSTAT_RECORDING_DIR,
                 lazy: bool = False) -> None:
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None
        self.eurostat = EurostatApi(Path(eurostat_dir))
        self.lazy = lazy
        """Load the Kolada snapshot on its first request instead of in ``start`` (a run whose
        answers are all cached then never pays the 1–2 s of loading it)."""
        self._identity: SourceIdentity | None = None
        self._eurostat_identity: SourceIdentity | None = None
        self.host = host
        self.port = port
        self.request_count = 0
        self.connection_count = 0
        self.requests: list[str] = []
        self.injected: Counter[str] = Counter()
        self.api: ReplayApi | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.faults = faults or Faults()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self._faults

    @property
    def identity(self) -> SourceIdentity:
        """The Kolada snapshot as a data source (``X-Recording-Id`` of its answers)."""
        if self._identity is None:
            self._identity = snapshot_identity(self.snapshot_dir.resolve())
        return self._identity

    @property
    def eurostat_identity(self) -> SourceIdentity:
        """The Eurostat recording as a data source (``X-Recording-Id`` of its answers)."""
        if self._eurostat_identity is None:
            self._eurostat_identity = recording_folder_identity(self.eurostat.folder)
        return self._eurostat_identity

    def kolada_api(self) -> ReplayApi:
        """The Kolada half, loading the snapshot now if ``lazy`` left it for the first
        request."""
        with self._load_lock:
            if self.api is None:
                self.api = ReplayApi(load_snapshot(self.snapshot_dir.resolve()))
            return self.api

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
            check_snapshot_folder(self.snapshot_dir)
            _ = self.identity
            if not self.lazy:
                self.kolada_api()
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
