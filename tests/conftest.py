"""Shared pytest fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import paths

SNAPSHOT_FILES = ("kpi.json", "kpi_groups.json", "municipality.json", "municipality_groups.json",
                  "values.csv.gz")


def _require_snapshot() -> None:
    missing = [name for name in SNAPSHOT_FILES if not (paths.SNAPSHOT_DIR / name).is_file()]
    if missing:
        pytest.skip(f"Kolada snapshot missing at {paths.SNAPSHOT_DIR} ({', '.join(missing)}); "
                    "set SKR_SHARED_DIR to the folder that holds kolada/")


def require_shared(*relative: str) -> None:
    """Skip, naming what is missing, unless these files exist under ``SKR_SHARED_DIR``."""
    missing = [name for name in relative if not (paths.SHARED_DIR / name).is_file()]
    if missing:
        pytest.skip(f"shared inputs missing at {paths.SHARED_DIR} ({', '.join(missing)}); "
                    "set SKR_SHARED_DIR to the shared folder (../shared beside the checkout)")


@pytest.fixture(scope="session")
def kolada_server() -> Iterator:
    """A replay server over the recorded snapshot on a free port, without faults."""
    _require_snapshot()
    from helpers.sources.replay.server import ReplayServer

    with ReplayServer(paths.SNAPSHOT_DIR) as server:
        yield server


def _server_factory(default_snapshot) -> Iterator[Callable]:
    """Yield ``make(**faults)`` starting replay servers (stopped afterwards); ``snapshot_dir=``
    picks another Kolada folder, None serves Eurostat only."""
    from helpers.sources.replay.server import Faults, ReplayServer

    servers = []

    def make(snapshot_dir=default_snapshot, **faults):
        server = ReplayServer(snapshot_dir, faults=Faults(**faults)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def make_kolada_server() -> Iterator[Callable]:
    """Factory: ``make_kolada_server(latency=..., error_rate=..., ...)`` returns a started
    replay server with those ``Faults`` (``snapshot_dir=`` picks another folder)."""
    _require_snapshot()
    yield from _server_factory(paths.SNAPSHOT_DIR)


def _require_eurostat() -> None:
    if not (paths.EUROSTAT_RECORDING_DIR / "gov_10dd_edpt1.tsv.gz").is_file():
        pytest.skip(f"Eurostat recording missing at {paths.EUROSTAT_RECORDING_DIR}; set "
                    "SKR_SHARED_DIR to the folder that holds eurostat/")


@pytest.fixture(scope="session")
def eurostat_server() -> Iterator:
    """A replay server answering Eurostat's statistics API from the recording (no Kolada)."""
    _require_eurostat()
    from helpers.sources.replay.server import ReplayServer

    with ReplayServer(None) as server:
        yield server


@pytest.fixture
def make_eurostat_server() -> Iterator[Callable]:
    """Factory: ``make_eurostat_server(truncate_rate=1.0, ...)``: a Eurostat-only replay server
    with those ``Faults``."""
    _require_eurostat()
    yield from _server_factory(None)


# --- processed data (helpers.datasets) ---------------------------------------------------------

# Every KPI of REPORT_SPEC §1 ("Välfärd i hela landet") plus N01951; N03932, N02937 and N01721
# have no values in the snapshot (they come back as missing_kpis).
VALFARD_KPIS = (
    "U11404", "U15401", "U17401", "U20404", "U28408", "U31401",  # kvalitetsindex
    "N15001", "N30001", "N20900", "N00097",  # nettokostnadsavvikelse
    "N01951", "N03932", "N03920", "N00927", "N02276", "N02937", "N02993", "N01721", "N00906",
    "N00954", "N02279", "N15820", "N01958",  # structural variables (Tabell 2 and 3)
)


@pytest.fixture(scope="session")
def processed_fetch(kolada_server, tmp_path_factory):
    """``datasets.fetch_for`` of the REPORT_SPEC §1 KPIs over the replay server into a temporary
    data/processed; returns the ``FetchResult`` (``.processed_dir`` is the folder)."""
    from helpers.datasets import fetch_for
    from helpers.params import ReportParams
    from helpers.sources.kolada import KoladaClient

    class _ValfardKpis(ReportParams):
        def required_kpis(self) -> list[str]:
            return list(VALFARD_KPIS)

    from helpers.datasets import fetch_eurostat
    from helpers.reports.valfard import ValfardParams
    from helpers.sources.eurostat import EurostatClient

    root = tmp_path_factory.mktemp("processed_data")
    client = KoladaClient(base_url=kolada_server.base_url, cache_dir=root / "raw")
    result = fetch_for(_ValfardKpis(report="valfard_i_hela_landet"), client, root / "processed")
    # Tabell 1's Eurostat table, from the recording the same replay server answers
    with EurostatClient(kolada_server.eurostat_base_url, cache_dir=root / "raw") as eurostat:
        fetch_eurostat(ValfardParams(report="valfard_i_hela_landet"), eurostat, root / "processed")
    return result


@pytest.fixture(scope="session")
def processed_data(processed_fetch):
    """A data/processed folder (values of every REPORT_SPEC §1 KPI and N01951 for all units and
    years, ``kommuner_2022.parquet``, ``source.json``) built from the snapshot over HTTP."""
    return processed_fetch.processed_dir


# --------------------------------------------------------------------------- the command line

SKR_REPORT = Path(sys.executable).with_name("skr-report")


def skr_report(*args: str, env: dict[str, str], umask: int | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``skr-report`` as a user does: a subprocess with its own environment."""
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([str(SKR_REPORT), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False, preexec_fn=preexec)


@pytest.fixture(scope="session")
def built(kolada_server, tmp_path_factory) -> Path:
    """`skr-report report-all --format html,pdf`, as `make report` runs it, into a temporary
    reports folder (data from the replay server); built once per test worker (tests that use it
    share the xdist group ``built_reports``)."""
    root = tmp_path_factory.mktemp("make-report")
    env = {**os.environ, "KOLADA_BASE_URL": kolada_server.base_url,
           "EUROSTAT_BASE_URL": kolada_server.eurostat_base_url,
           "SKR_DATA_DIR": str(root / "data"), "SKR_REPORTS_DIR": str(root / "reports")}
    done = skr_report("report-all", "--format", "html,pdf", env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    # the PDF layout settled (the tables' keep-together decisions read the previous pass)
    assert "did not converge" not in done.stderr, done.stderr[-3000:]
    return root / "reports"


@pytest.fixture
def user_env(kolada_server, tmp_path) -> dict[str, str]:
    """A user's environment: both APIs at the replay server, data and reports in tmp_path."""
    env = dict(os.environ)
    env.update(KOLADA_BASE_URL=kolada_server.base_url,
               EUROSTAT_BASE_URL=kolada_server.eurostat_base_url,
               SKR_DATA_DIR=str(tmp_path / "data"), SKR_REPORTS_DIR=str(tmp_path / "reports"))
    return env


# --- Kolada before and after a publication (issue 18: status, update, changes) ----------------


@pytest.fixture(scope="session")
def cycle_snapshots(tmp_path_factory) -> dict:
    """Two copies of the recorded snapshot with a catalogue consistent with their values
    (``tests/fixtures/kolada_cycle.py``): ``before`` (the recording's values, next year
    announced) and ``after`` (2023 published two days ago for the Välfärd KPIs); ``today``."""
    _require_snapshot()
    from datetime import date

    from fixtures.kolada_cycle import build_snapshot

    root = tmp_path_factory.mktemp("kolada_cycle")
    today = date.today()
    return {"today": today,
            "before": build_snapshot(root / "before", paths.SNAPSHOT_DIR, today),
            "after": build_snapshot(root / "after", paths.SNAPSHOT_DIR, today, add_year=2023)}


@pytest.fixture(scope="session")
def cycle_servers(cycle_snapshots) -> Iterator[dict]:
    """Replay servers over ``cycle_snapshots``: ``{"before": server, "after": server}``."""
    from helpers.sources.replay.server import ReplayServer

    servers = {name: ReplayServer(cycle_snapshots[name]).start() for name in ("before", "after")}
    yield servers
    for server in servers.values():
        server.stop()


# --- the browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:
    """A DevTools session (``fixtures.chromium.DevTools``) on headless Chromium with a fresh
    profile, shared by a test module; tests open their page with ``browser.navigate(url)``."""
    from fixtures import chromium

    if chromium.CHROMIUM is None:
        pytest.skip(chromium.MISSING)
    with chromium.launch(tmp_path_factory.mktemp("chromium-profile")) as tools:
        yield tools
