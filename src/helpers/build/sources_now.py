"""What the sources say now, for ``skr-report status`` and ``update``: Kolada's KPI catalogue
(kept in the raw cache and fetched again at most once a day), Eurostat's update time of the
datasets the reports read, and what ``update`` found when it asked a source again.

The catalogue comes from the configured API (``KOLADA_BASE_URL``, default the live one). When
it cannot be reached, the reports are compared with the recorded catalogue in ``../shared``,
which is what ``update`` would then fetch from (it falls back to the recordings as
``make report`` does); that the API could not be reached is remembered for a day, so a status
without network does not wait for it every time. ``--offline`` uses a cached catalogue of any
age, else the recording.

Checks (``data/processed/.cycle/checks.json``): per source (``sources.identity``) and KPI, when
``update`` last asked for its values and the last year the source had. A source asked after a
publication that still lacks the year (the recording; Kolada lagging its own catalogue) is then
no reason to call a report out of date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpers import paths
from helpers.build.publications import SourceCheck
from helpers.files import atomic_write_text
from helpers.sources.errors import SourceError, configured_base_url
from helpers.sources.eurostat import BASE_URL_ENV as EUROSTAT_ENV
from helpers.sources.eurostat import DEFAULT_BASE_URL as EUROSTAT_DEFAULT
from helpers.sources.eurostat import EurostatClient
from helpers.sources.identity import source_id_of
from helpers.sources.kolada import BASE_URL_ENV as KOLADA_ENV
from helpers.sources.kolada import CATALOGUE_KEY, KoladaClient
from helpers.sources.kolada import DEFAULT_BASE_URL as KOLADA_DEFAULT
from helpers.sources.live import eurostat_reachable, kolada_reachable
from helpers.sources.replay.kolada import snapshot_identity

MAX_AGE = timedelta(days=1)
"""How old a cached catalogue (or Eurostat answer, or 'could not be reached') may be."""
CYCLE_DIR = ".cycle"
CHECKS_FILE = "checks.json"
REACHABILITY_FILE = "reachability.json"


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def cycle_dir(processed_dir: Path | None = None) -> Path:
    return (paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)) / CYCLE_DIR


# --- Kolada's catalogue -----------------------------------------------------------------------


@dataclass
class CatalogueNow:
    """The KPI catalogue the reports are compared with, and where it came from."""

    entries: list[dict]
    source_id: str
    where: str
    """In English, for the first line of ``status``: which catalogue, as of when."""
    fetched_at: datetime | None = None
    note: str | None = None
    """Why it is not a fresh catalogue of the configured API, when it is not."""
    refreshed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "where": self.where, "note": self.note,
                "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
                "refreshed": self.refreshed}


def kolada_catalogue(*, offline: bool = False, refresh: bool = False,
                     now: datetime | None = None, cache_dir: Path | None = None,
                     processed_dir: Path | None = None) -> CatalogueNow:
    """The catalogue of the configured Kolada API: cached when less than a day old, else fetched
    again; the recorded one when the API cannot be reached (see the module docstring)."""
    now = now or datetime.now(UTC)
    url = configured_base_url(KOLADA_ENV, KOLADA_DEFAULT)
    with KoladaClient(base_url=url, offline=True, cache_dir=cache_dir) as cached:
        meta = cached.cache.meta(CATALOGUE_KEY)
        fetched = _moment((meta or {}).get("fetched_at"))
        if fetched is not None and not refresh and (offline or now - fetched <= MAX_AGE):
            note = None if now - fetched <= MAX_AGE else "offline: a cached catalogue"
            return _from_client(cached, url, fetched, note)
    if offline:
        return recorded_catalogue(f"offline, and no catalogue of {url} is cached")
    down = _recently_unreachable(url, now, processed_dir) if not refresh else None
    if down is None:
        down = kolada_reachable(url)
        _remember_reachability(url, down, now, processed_dir)
    if down is not None:
        return recorded_catalogue(f"Kolada at {url} could not be reached ({down})")
    with KoladaClient(base_url=url, refresh=True, cache_dir=cache_dir) as client:
        found = _from_client(client, url, None, None)
    found.refreshed = True
    return found


def _from_client(client: KoladaClient, url: str, fetched: datetime | None,
                 note: str | None) -> CatalogueNow:
    entries = client.kpi_entries()
    source = client.source
    fetched = fetched or _moment(source.get("fetched_at"))
    recorded = " (a recording served by a replay server)" if source.get("snapshot_vintage") \
        else ""
    when = f", fetched {fetched:%Y-%m-%d %H:%M} UTC" if fetched else ""
    return CatalogueNow(entries, source_id_of(source), f"Kolada at {url}{recorded}{when}",
                        fetched, note)


def recorded_catalogue(note: str | None = None,
                       snapshot_dir: Path | None = None) -> CatalogueNow:
    """The catalogue of the recorded snapshot (``../shared/kolada/kpi.json``), read from the
    file: what a report built on the recording is compared with when Kolada cannot be
    reached."""
    folder = Path(snapshot_dir or paths.SNAPSHOT_DIR)
    try:
        entries = json.loads((folder / "kpi.json").read_text(encoding="utf-8"))["values"]
    except (OSError, ValueError, KeyError) as exc:
        raise SourceError(f"{note or 'Kolada cannot be reached'}, and the recorded catalogue "
                          f"{folder / 'kpi.json'} cannot be read ({exc}). Fix: run once with "
                          "network, or set SKR_SHARED_DIR to the folder that holds kolada/."
                          ) from None
    recorded = next((m.get("recorded") for m in _stated(folder).get("metadata", [])
                     if m.get("file") == "kpi.json"), None)
    where = f"the recorded catalogue {folder / 'kpi.json'}" + (
        f" (recorded {recorded})" if recorded else "")
    return CatalogueNow(entries, snapshot_identity(folder).folder, where, None, note)


def _stated(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _recently_unreachable(url: str, now: datetime, processed_dir: Path | None) -> str | None:
    known = _read_json(cycle_dir(processed_dir) / REACHABILITY_FILE).get(url) or {}
    when = _moment(known.get("checked_at"))
    if known.get("problem") and when is not None and now - when <= MAX_AGE:
        return f"{known['problem']}; last tried {when:%Y-%m-%d %H:%M} UTC"
    return None


def _remember_reachability(url: str, problem: str | None, now: datetime,
                           processed_dir: Path | None) -> None:
    path = cycle_dir(processed_dir) / REACHABILITY_FILE
    known = _read_json(path)
    known[url] = {"checked_at": now.isoformat(timespec="seconds"), "problem": problem}
    atomic_write_text(path, json.dumps(known, indent=1, sort_keys=True) + "\n")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


# --- Eurostat ---------------------------------------------------------------------------------


def eurostat_updates(datasets: Iterable[str], *, offline: bool = False, refresh: bool = False,
                     now: datetime | None = None, cache_dir: Path | None = None,
                     processed_dir: Path | None = None
                     ) -> tuple[dict[str, str | None], str | None]:
    """Dataset → its update time at Eurostat now (None: not known), from one small request per
    dataset (Sweden, the last two years), kept a day; and a note when Eurostat was not asked."""
    datasets = sorted(set(datasets))
    now = now or datetime.now(UTC)
    url = configured_base_url(EUROSTAT_ENV, EUROSTAT_DEFAULT)
    if not datasets:
        return {}, None
    found: dict[str, str | None] = {}
    with EurostatClient(base_url=url, offline=True, cache_dir=cache_dir) as cached:
        stale = []
        for name in datasets:
            key = cached.request_key(name, {"geo": "SE"}, since=now.year - 2)
            fetched = _moment((cached.cache.meta(key) or {}).get("fetched_at"))
            if fetched is not None and not refresh and (offline or now - fetched <= MAX_AGE):
                found[name] = _updated(cached, name, now)
            else:
                stale.append(name)
    if not stale or offline:
        return found | dict.fromkeys(stale), ("offline: Eurostat not asked" if stale else None)
    problem = _recently_unreachable(url, now, processed_dir) if not refresh else None
    if problem is None:
        problem = eurostat_reachable(url)
        _remember_reachability(url, problem, now, processed_dir)
    if problem is not None:
        return found | dict.fromkeys(stale), f"Eurostat at {url} could not be reached ({problem})"
    with EurostatClient(base_url=url, refresh=True, cache_dir=cache_dir) as client:
        for name in stale:
            found[name] = _updated(client, name, now)
    return found, None


def _updated(client: EurostatClient, dataset: str, now: datetime) -> str | None:
    try:
        frame = client.data(dataset, {"geo": "SE"}, since=now.year - 2)
    except SourceError:
        return None
    return frame.attrs.get("updated")


# --- checks -----------------------------------------------------------------------------------


def read_checks(processed_dir: Path | None = None) -> dict[str, dict[str, SourceCheck]]:
    """Source id → KPI → when ``update`` last asked that source and its last year then."""
    found: dict[str, dict[str, SourceCheck]] = {}
    for source, kpis in _read_json(cycle_dir(processed_dir) / CHECKS_FILE).items():
        for kpi, check in (kpis or {}).items():
            when = _moment((check or {}).get("checked_at"))
            if when is not None:
                found.setdefault(source, {})[kpi] = SourceCheck(when, check.get("last_year"))
    return found


def record_checks(source: str, kpi_years: Mapping[str, int | None], when: datetime,
                  processed_dir: Path | None = None) -> None:
    """Remember that ``source`` was asked for these KPIs at ``when`` and had data up to
    ``kpi_years`` (None: no data)."""
    path = cycle_dir(processed_dir) / CHECKS_FILE
    known = _read_json(path)
    entries = known.setdefault(source, {})
    for kpi, year in kpi_years.items():
        entries[kpi] = {"checked_at": when.isoformat(timespec="seconds"), "last_year": year}
    atomic_write_text(path, json.dumps(known, indent=1, sort_keys=True) + "\n")


def today_in_sweden(now: datetime | None = None) -> date:
    """The day Kolada's publication dates are read against (Swedish time)."""
    try:
        zone: Any = ZoneInfo("Europe/Stockholm")
    except ZoneInfoNotFoundError:  # no time zone data on this machine: UTC is a day off at most
        zone = UTC
    return (now or datetime.now(UTC)).astimezone(zone).date()


__all__ = [
    "MAX_AGE",
    "CatalogueNow",
    "eurostat_updates",
    "kolada_catalogue",
    "read_checks",
    "record_checks",
    "recorded_catalogue",
    "today_in_sweden",
]
