"""The live APIs, or their recordings: one way for every command to get its data clients.

:func:`data_clients` gives a Kolada and a Eurostat client in one of three modes:

- ``"auto"`` (the default of every command): the configured API (``$KOLADA_BASE_URL``,
  ``$EUROSTAT_BASE_URL``, default the live ones) when it answers, else its recording in
  ``../shared`` (``SKR_SHARED_DIR``) through one in-process replay server; said once;
- ``"live"`` (``--live-only``): the configured APIs or an error naming the variable;
- ``"offline"`` (``--offline``): no network at all: the recordings, read through the same
  in-process replay server.

Each client is told what its source *is* (:mod:`.identity`): the raw cache is keyed by that, so
the recording is cached once whether a fallback, ``--offline`` or ``serve-replay`` on any port
read it. The replay server loads the Kolada snapshot only when an answer is not cached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from helpers import paths
from helpers.sources.deadline import TIMEOUT_ENV, total_timeout_from_env
from helpers.sources.errors import (
    SourceError,
    SourceTimeout,
    check_base_url,
    configured_base_url,
    describe_connection_error,
)
from helpers.sources.eurostat import (
    API_PATH,
    EurostatClient,
    EurostatTimeout,
    EurostatUnreachable,
)
from helpers.sources.eurostat import BASE_URL_ENV as EUROSTAT_ENV
from helpers.sources.eurostat import DEFAULT_BASE_URL as EUROSTAT_DEFAULT
from helpers.sources.identity import SourceIdentity, identity_from_headers
from helpers.sources.kolada import BASE_URL_ENV as KOLADA_ENV
from helpers.sources.kolada import DEFAULT_BASE_URL as KOLADA_DEFAULT
from helpers.sources.kolada import KoladaClient, KoladaTimeout, KoladaUnreachable
from helpers.sources.replay.eurostat import recording_folder_identity
from helpers.sources.replay.kolada import SNAPSHOT_FILES, read_vintage, snapshot_identity
from helpers.sources.replay.server import ReplayServer

log = logging.getLogger(__name__)

AUTO, LIVE_ONLY, OFFLINE = "auto", "live", "offline"
MODES = (AUTO, LIVE_ONLY, OFFLINE)
PROBE_TIMEOUT = 5.0


# --- is the configured API there? --------------------------------------------------------------


class _Silent(str):
    """A probe's problem that is a server accepting the connection and not answering."""


def _probe(url: str, timeout: float,
           envelope_problem: Callable[[Any], str | None]) -> tuple[str | None, Any]:
    """(None, headers) when ``url`` answers with JSON that ``envelope_problem`` accepts, else
    (the reason, None); a server that does not answer in time gives a :class:`_Silent`."""
    try:
        response = requests.get(url, timeout=timeout)
    except requests.exceptions.ReadTimeout:
        return _Silent(f"no answer in {timeout:g} s"), None
    except requests.RequestException as exc:
        return describe_connection_error(exc), None
    if response.status_code >= 400:
        return f"HTTP {response.status_code}", None
    try:
        body = response.json()
    except ValueError:
        return "the answer is not JSON", None
    problem = envelope_problem(body)
    return (problem, None) if problem else (None, response.headers)


def _kolada_probe(base_url: str, timeout: float) -> tuple[str | None, Any]:
    return _probe(f"{base_url.rstrip('/')}/municipality/0180", timeout,
                  lambda body: None if isinstance(body, dict) and "values" in body else
                  "the answer is not a Kolada v3 envelope (v2 deprecation notice?)")


def _eurostat_probe(base_url: str, timeout: float) -> tuple[str | None, Any]:
    url = (f"{base_url.rstrip('/')}{API_PATH}/gov_10dd_edpt1?geo=SE&sector=S13&na_item=GD&"
           "unit=PC_GDP&sinceTimePeriod=2020&lang=en")
    return _probe(url, timeout,
                  lambda body: None if isinstance(body, dict) and body.get("class") == "dataset"
                  else "the answer is not a JSON-stat dataset")


def kolada_reachable(base_url: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when ``base_url`` answers a small v3 request, else the reason it does not."""
    return _kolada_probe(base_url, timeout)[0]


def eurostat_reachable(base_url: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when ``base_url`` answers a small statistics-API request, else the reason."""
    return _eurostat_probe(base_url, timeout)[0]


# --- which source each client reads ------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """What differs between Kolada and Eurostat here."""

    name: str
    key: str
    variable: str
    default: str
    probe: Callable[[str, float], tuple[str | None, Any]]
    client: type
    unreachable: type[SourceError]
    timed_out: type[SourceTimeout]


KOLADA = _Kind("Kolada", "kolada", KOLADA_ENV, KOLADA_DEFAULT, _kolada_probe, KoladaClient,
               KoladaUnreachable, KoladaTimeout)
EUROSTAT = _Kind("Eurostat", "eurostat", EUROSTAT_ENV, EUROSTAT_DEFAULT, _eurostat_probe,
                 EurostatClient, EurostatUnreachable, EurostatTimeout)


@dataclass(frozen=True)
class SourceChoice:
    """What one source is in this run: the configured API, or its recording and why."""

    kind: _Kind
    configured: str
    """The configured base URL."""
    identity: SourceIdentity | None
    recording: Path | None = None
    """The recording folder read instead of the configured API (None: the API answered)."""
    reason: str | None = None
    """Why the recording stands in: the API's problem, or ``"--offline"``."""

    def line(self) -> str | None:
        """The one line the command prints about this source, None when the API is used."""
        if self.recording is None:
            return None
        vintage = _recorded(self.recording) if self.kind is KOLADA else ""
        what = f"the recording in {self.recording}{vintage}"
        if self.reason == "--offline":
            return f"{self.kind.name}: {what} (--offline); every report says so."
        return (f"{self.kind.name} at {self.configured} cannot be reached ({self.reason}): "
                f"using {what} instead; every report says so. Add --live-only to stop instead.")


@dataclass
class DataClients:
    """A Kolada and a Eurostat client and what each one reads."""

    kolada: KoladaClient
    eurostat: EurostatClient
    choices: list[SourceChoice] = field(default_factory=list)

    @property
    def recorded(self) -> list[str]:
        """The sources read from their recordings (``["Kolada", "Eurostat"]``)."""
        return [c.kind.name for c in self.choices if c.recording is not None]

    def lines(self) -> list[str]:
        return [line for choice in self.choices if (line := choice.line())]


def _recorded(folder: Path) -> str:
    """``" (values recorded 2024-08)"`` from the snapshot's stated vintage, or ``""``."""
    try:
        stated = json.loads(read_vintage(folder))
    except ValueError:
        return ""
    recorded = (stated.get("values") or {}).get("recorded") if isinstance(stated, dict) else None
    return f" (values recorded {recorded})" if recorded else ""


def _recording_problem(kind: _Kind, folder: Path) -> str | None:
    if kind is KOLADA:
        missing = [name for name in SNAPSHOT_FILES if not (folder / name).is_file()]
    else:
        missing = [] if any(folder.glob("*.tsv.gz")) else ["<dataset>.tsv.gz"]
    return f"{folder} lacks {', '.join(missing)}" if missing else None


def _choose(kind: _Kind, url: str, mode: str, folder: Path, probe: bool) -> SourceChoice:
    """The configured API when it answers (``auto``, ``live``), else the recording."""
    if mode != OFFLINE:
        if not probe:
            return SourceChoice(kind, url, None)
        timeout = min(PROBE_TIMEOUT, total_timeout_from_env())
        problem, headers = kind.probe(url, timeout)
        if problem is None:
            return SourceChoice(kind, url, identity_from_headers(kind.key, url, headers))
        if mode == LIVE_ONLY and isinstance(problem, _Silent):
            raise kind.timed_out(
                f"{kind.name} at {url} accepted the connection but did not answer in "
                f"{timeout:g} s, and --live-only forbids its recording. Fix: try again later, "
                f"raise {TIMEOUT_ENV}=<seconds> if the server is just slow, or leave out "
                f"--live-only to use the recording in {folder}.", seconds=timeout)
        if mode == LIVE_ONLY:
            raise kind.unreachable(
                f"{kind.name} could not be reached at {url} ({problem}), and --live-only "
                f"forbids its recording. Fix: check the network or {kind.variable}, or leave "
                f"out --live-only to use the recording in {folder}.")
    else:
        problem = "--offline"
    missing = _recording_problem(kind, folder)
    if missing:
        cause = "--offline was given" if mode == OFFLINE else \
            f"{kind.name} could not be reached at {url} ({problem})"
        raise kind.unreachable(
            f"{cause}, and there is no recording to use instead: {missing}. Fix: set "
            f"SKR_SHARED_DIR to the folder that holds kolada/ and eurostat/ (../shared beside "
            f"the checkout), or {kind.variable} to a reachable API.")
    identity = snapshot_identity(folder) if kind is KOLADA else recording_folder_identity(folder)
    return SourceChoice(kind, url, identity, recording=folder, reason=problem)


def _base_url(given: str | None, kind: _Kind) -> str:
    if given:
        return check_base_url(given, f"the {kind.name} base URL", kind.default)
    return configured_base_url(kind.variable, kind.default)


@contextmanager
def data_clients(base_url: str | None = None, eurostat_base_url: str | None = None, *,
                 mode: str = AUTO, refresh: bool = False, snapshot_dir: Path | None = None,
                 eurostat_dir: Path | None = None,
                 check_eurostat: bool = True) -> Iterator[DataClients]:
    """A Kolada and a Eurostat client in ``mode`` (see the module), with one in-process replay
    server behind whichever reads a recording; says once (a warning) what stands in for what.

    Raises the source's ``…Unreachable`` when ``mode`` is ``"live"`` and an API does not
    answer, or when a recording is needed and its folder lacks its files.
    ``check_eurostat=False`` takes the Eurostat API as configured, unprobed.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    folders = {KOLADA: Path(snapshot_dir or paths.SNAPSHOT_DIR),
               EUROSTAT: Path(eurostat_dir or paths.EUROSTAT_RECORDING_DIR)}
    choices = [_choose(KOLADA, _base_url(base_url, KOLADA), mode, folders[KOLADA], True),
               _choose(EUROSTAT, _base_url(eurostat_base_url, EUROSTAT), mode,
                       folders[EUROSTAT], check_eurostat)]
    for choice in choices:
        if (line := choice.line()) is not None:
            log.warning("%s", line)
    with ExitStack() as stack:
        server = None
        if any(choice.recording is not None for choice in choices):
            kolada_folder = folders[KOLADA] if choices[0].recording is not None else None
            server = stack.enter_context(ReplayServer(kolada_folder, lazy=True,
                                                      eurostat_dir=folders[EUROSTAT]))
        clients = []
        for choice in choices:
            url = choice.configured
            if choice.recording is not None:
                url = server.base_url if choice.kind is KOLADA else server.eurostat_base_url
            clients.append(stack.enter_context(choice.kind.client(
                base_url=url, refresh=refresh, identity=choice.identity)))
        yield DataClients(clients[0], clients[1], choices)
