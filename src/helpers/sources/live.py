"""The live APIs, or their recordings when they cannot be reached.

:func:`data_clients` gives a Kolada and a Eurostat client for the configured APIs
(``$KOLADA_BASE_URL``, ``$EUROSTAT_BASE_URL``, default the live ones) or, for each one that
cannot be reached, for its recording in ``../shared`` through one in-process replay server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from helpers import paths
from helpers.sources.errors import check_base_url, configured_base_url, describe_connection_error
from helpers.sources.eurostat import API_PATH, EurostatClient
from helpers.sources.eurostat import BASE_URL_ENV as EUROSTAT_ENV
from helpers.sources.eurostat import DEFAULT_BASE_URL as EUROSTAT_DEFAULT
from helpers.sources.kolada import BASE_URL_ENV as KOLADA_ENV
from helpers.sources.kolada import DEFAULT_BASE_URL as KOLADA_DEFAULT
from helpers.sources.kolada import KoladaClient
from helpers.sources.replay.server import ReplayServer

log = logging.getLogger(__name__)


def _probe(url: str, timeout: float, envelope_problem: Callable[[Any], str | None]) -> str | None:
    """None when ``url`` answers with JSON that ``envelope_problem`` accepts, else the reason."""
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return describe_connection_error(exc)
    if response.status_code >= 400:
        return f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return "the answer is not JSON"
    return envelope_problem(body)


def kolada_reachable(base_url: str, timeout: float = 5.0) -> str | None:
    """None when ``base_url`` answers a small v3 request, else the reason it does not."""
    return _probe(f"{base_url.rstrip('/')}/municipality/0180", timeout,
                  lambda body: None if isinstance(body, dict) and "values" in body else
                  "the answer is not a Kolada v3 envelope (v2 deprecation notice?)")


def eurostat_reachable(base_url: str, timeout: float = 5.0) -> str | None:
    """None when ``base_url`` answers a small statistics-API request, else the reason."""
    url = (f"{base_url.rstrip('/')}{API_PATH}/gov_10dd_edpt1?geo=SE&sector=S13&na_item=GD&"
           "unit=PC_GDP&sinceTimePeriod=2020&lang=en")
    return _probe(url, timeout,
                  lambda body: None if isinstance(body, dict) and body.get("class") == "dataset"
                  else "the answer is not a JSON-stat dataset")


def _base_url(given: str | None, variable: str, default: str, name: str) -> str:
    if given:
        return check_base_url(given, f"the {name} base URL", default)
    return configured_base_url(variable, default)


@contextmanager
def data_clients(base_url: str | None = None, eurostat_base_url: str | None = None, *,
                 snapshot_dir: Path | None = None, eurostat_dir: Path | None = None,
                 check_eurostat: bool = True) -> Iterator[tuple[Any, Any, str | None]]:
    """A Kolada and a Eurostat client for the configured APIs or, for each one that cannot be
    reached, for its recording through one in-process replay server.

    Yields ``(kolada_client, eurostat_client, replaced)``: ``replaced`` is the Kolada base URL
    that could not be reached and was replaced by the recorded snapshot (every report built on
    it says so, ``helpers.rendering.provenance``), None when Kolada is live. A report built on
    the Eurostat recording says so itself (the client's source names the recording).
    """
    kolada_url = _base_url(base_url, KOLADA_ENV, KOLADA_DEFAULT, "Kolada")
    eurostat_url = _base_url(eurostat_base_url, EUROSTAT_ENV, EUROSTAT_DEFAULT, "Eurostat")
    kolada_down = kolada_reachable(kolada_url)
    eurostat_down = eurostat_reachable(eurostat_url) if check_eurostat else None
    if kolada_down is None and eurostat_down is None:
        with KoladaClient(base_url=kolada_url) as kolada, \
                EurostatClient(base_url=eurostat_url) as eurostat:
            yield kolada, eurostat, None
        return
    snapshot_dir = Path(snapshot_dir or paths.SNAPSHOT_DIR)
    eurostat_dir = Path(eurostat_dir or paths.EUROSTAT_RECORDING_DIR)
    if kolada_down is not None:
        log.warning("Kolada at %s cannot be reached (%s); using the recorded snapshot %s through "
                    "a local replay server", kolada_url, kolada_down, snapshot_dir)
    if eurostat_down is not None:
        log.warning("Eurostat at %s cannot be reached (%s); using the recording %s through a "
                    "local replay server", eurostat_url, eurostat_down, eurostat_dir)
    with ReplayServer(snapshot_dir if kolada_down is not None else None,
                      eurostat_dir=eurostat_dir) as server, \
            KoladaClient(base_url=server.base_url if kolada_down is not None else kolada_url,
                         cache_namespace="replay-snapshot" if kolada_down is not None else None
                         ) as kolada, \
            EurostatClient(base_url=server.eurostat_base_url if eurostat_down is not None
                           else eurostat_url,
                           cache_namespace="replay-recording" if eurostat_down is not None
                           else None) as eurostat:
        yield kolada, eurostat, kolada_url if kolada_down is not None else None


@contextmanager
def configured_clients(*, offline: bool = False,
                       refresh: bool = False) -> Iterator[tuple[KoladaClient, EurostatClient]]:
    """A Kolada and a Eurostat client for the configured APIs (``$KOLADA_BASE_URL``,
    ``$EUROSTAT_BASE_URL``), without falling back to the recordings."""
    with KoladaClient(offline=offline, refresh=refresh) as kolada, \
            EurostatClient(offline=offline, refresh=refresh) as eurostat:
        yield kolada, eurostat
