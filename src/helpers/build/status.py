"""Which published reports are behind what Kolada has published: what ``skr-report status``
computes, from the published variants' manifests and Kolada's KPI catalogue
(:mod:`.publications`). Pure: it reads manifests and a catalogue it is given and fetches nothing.

Per variant:

- **behind**: a KPI for which Kolada has published a later year than the report shows;
- **the year the report would move to** (it follows "the latest year"): the latest year every KPI
  with data has (``years_rule`` "all") or any has ("any"), as published; when that is later
  than the year shown, the variant is out of date. A variant whose parameters fix the year is
  never moved by the catalogue;
- **published since fetched**: a KPI published after the report's data were fetched (or last
  checked): its data, the fixed year's too, may have been revised, so the variant may have
  changed until ``update`` has fetched them again and compared digests;
- **gone**: KPIs the catalogue no longer publishes (listed; they make nothing out of date);
- **upcoming**: the next publications of its KPIs, by date;
- **Eurostat**: the dataset's update time now against the one the report was built from.

A source that was checked after a publication and still had no value for the published year
(a recording, or Kolada lagging its own catalogue) is not counted as behind for that year: the
``checks`` argument says, per KPI, when the source was last asked and its last year with data.

Variants are grouped into families (one line each in the short output): the parameter file's
name without the kommun, so all 290 Välfärd variants of ``params/valfard.yaml`` are one line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from helpers.build.publications import Publication, SourceCheck
from helpers.sources.identity import is_live_id, is_recording_id

MANIFEST = "manifest.json"
UP_TO_DATE = "up to date"
OUT_OF_DATE = "out of date"
MAY_HAVE_CHANGED = "may have changed"
STATES = (UP_TO_DATE, MAY_HAVE_CHANGED, OUT_OF_DATE)
"""From best to worst: a family's state is its worst variant's."""
EXIT_OUT_OF_DATE = 10
"""Exit code of ``skr-report status`` when any variant is out of date or may have changed
(``skr-report update`` has work to do); 0 when everything is up to date."""


# --- the published variants ------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A published variant as its ``manifest.json`` describes it."""

    variant: str
    report: str
    family: str
    year: int | None
    year_fixed: bool
    """True when the parameter file fixes the year; False when it follows the latest year (also
    for manifests that do not say: the year is then treated as following the data)."""
    years_rule: str
    kpis: tuple[str, ...]
    kpi_years: Mapping[str, int | None]
    """KPI → last year with data the report had (empty: every KPI as the year shown)."""
    fetched_at: datetime | None
    eurostat: Mapping[str, Any] | None = None
    folder: Path | None = None
    source_id: str | None = None
    """Which source the data came from (``sources.identity``)."""
    params_file: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    manifest: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def shown(self, kpi: str) -> int | None:
        return self.kpi_years.get(kpi, self.year)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], folder: Path | None = None) -> Published:
        data = manifest.get("data") or {}
        parameters = manifest.get("parameters") or {}
        years = data.get("years") or []
        year = years[0] if years else parameters.get("year")
        variant = str(manifest.get("variant") or (folder.name if folder else ""))
        kommun = parameters.get("kommun")
        family = manifest.get("family") or family_of(variant, manifest.get("params_file"), kommun)
        return cls(
            variant=variant, report=str(manifest.get("report") or ""), family=family,
            year=int(year) if year is not None else None,
            year_fixed=bool(manifest.get("year_fixed", False)),
            years_rule=str(data.get("years_rule") or "all"),
            kpis=tuple(data.get("kpis") or ()),
            kpi_years=dict(data.get("kpi_years") or {}),
            fetched_at=_moment(data.get("fetched_at")),
            eurostat=data.get("eurostat"), folder=folder, source_id=data.get("source_id"),
            params_file=manifest.get("params_file"),
            overrides=dict(manifest.get("overrides") or {}), manifest=manifest)

    def own_check(self, kpi: str, source_id: str | None) -> SourceCheck | None:
        """The fetch the report was built from, as a check of ``source_id``: when its data were
        fetched from that source, and the KPI's last year then (new manifests only)."""
        if (source_id is None or self.source_id != source_id or self.fetched_at is None
                or kpi not in self.kpi_years):
            return None
        return SourceCheck(self.fetched_at, self.kpi_years[kpi])


def family_of(variant: str, params_file: str | Path | None = None,
              kommun: str | None = None) -> str:
    """``valfard-0114`` (kommun 0114) → ``valfard``: the parameter file's stem without the kommun
    a batch or a parameter file added to it."""
    stem = Path(params_file).stem if params_file else variant
    if kommun and stem.endswith(f"-{kommun}"):
        stem = stem[: -len(kommun) - 1]
    return stem


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def read_published(reports_dir: Path) -> list[Published]:
    """Every published variant under ``reports_dir`` (folders with a readable manifest; hidden
    and ``_`` folders such as ``.staging`` and ``_interactive`` are not variants)."""
    found = []
    for path in sorted(Path(reports_dir).glob(f"*/{MANIFEST}")):
        if path.parent.name.startswith((".", "_")):
            continue
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("status", "ok") == "ok":
            found.append(Published.from_manifest(manifest, path.parent))
    return found


# --- one variant ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Behind:
    """A KPI for which Kolada has published a later year than the report shows."""

    kpi: str
    title: str
    shown: int | None
    published: int
    day: date | None


@dataclass(frozen=True)
class Upcoming:
    kpi: str
    title: str
    day: date
    period: int
    preliminary: bool = False


@dataclass
class VariantStatus:
    variant: str
    state: str
    year: int | None
    moves_to: int | None = None
    """The year a variant that follows the latest year would show after ``update``."""
    behind: list[Behind] = field(default_factory=list)
    published_since: list[str] = field(default_factory=list)
    """KPIs published after the data were fetched (or last checked)."""
    lagging_source: list[str] = field(default_factory=list)
    """KPIs published in the catalogue but not (yet) in the source when it was last checked."""
    gone: list[str] = field(default_factory=list)
    not_in_catalogue: list[str] = field(default_factory=list)
    upcoming: list[Upcoming] = field(default_factory=list)
    eurostat: str | None = None
    """Why Eurostat makes the variant out of date, if it does."""
    on_recording: bool = False
    """Built on a recording while the catalogue comes from the API: ``update`` moves it."""


def variant_status(published: Published, catalogue: Mapping[str, Publication], today: date, *,
                   checks: Mapping[str, SourceCheck] | None = None,
                   eurostat_updated: Mapping[str, str | None] | None = None,
                   source_id: str | None = None) -> VariantStatus:
    """The state of one variant as of ``today`` (see the module docstring). ``checks`` and
    ``source_id``: the source the catalogue describes and what ``update`` found there; the
    variant's own fetch counts as a check when it came from the same source."""
    checks = checks or {}
    status = VariantStatus(published.variant, UP_TO_DATE, published.year)
    effective: dict[str, int] = {}
    for kpi in published.kpis:
        entry = catalogue.get(kpi)
        if entry is None:
            status.not_in_catalogue.append(kpi)
            continue
        if entry.gone:
            status.gone.append(kpi)
            continue
        if (next_one := entry.upcoming(today)) is not None:
            status.upcoming.append(Upcoming(kpi, entry.title, *next_one))
        latest = entry.latest(today)
        if latest is None:
            continue
        check = _later(checks.get(kpi), published.own_check(kpi, source_id))
        last_day = entry.last_day(today)
        # a look on the publication day may have come before the publication: it counts from
        # the day after (a source still without the year then lags behind the catalogue); when
        # the entry already announces the next period, the day of the latest is not known
        if (check is not None and (last_day is None or check.checked_at.date() > last_day)
                and (check.last_year is None or check.last_year < latest)):
            status.lagging_source.append(kpi)  # asked after the publication: not there
            latest = check.last_year if check.last_year is not None else published.shown(kpi)
            if latest is None:
                continue
        effective[kpi] = latest
        shown = published.shown(kpi)
        if shown is None or latest > shown:
            status.behind.append(Behind(kpi, entry.title, shown, latest, last_day))
        seen = max(filter(None, [published.fetched_at,
                                 check.checked_at if check else None]), default=None)
        if last_day is not None and (seen is None or seen.date() <= last_day):
            status.published_since.append(kpi)
    status.upcoming.sort(key=lambda u: (u.day, u.kpi))
    with_data = [k for k in effective if published.shown(k) is not None]
    if not published.year_fixed and published.year is not None and with_data:
        years = [effective[k] for k in with_data]
        target = min(years) if published.years_rule == "all" else max(years)
        if target > published.year:
            status.moves_to = target
    status.eurostat = _eurostat_change(published.eurostat, eurostat_updated or {})
    status.on_recording = is_live_id(source_id) and is_recording_id(published.source_id)
    if status.moves_to is not None or status.eurostat or status.on_recording:
        status.state = OUT_OF_DATE
    elif status.published_since:
        status.state = MAY_HAVE_CHANGED
    return status


def _later(a: SourceCheck | None, b: SourceCheck | None) -> SourceCheck | None:
    found = [c for c in (a, b) if c is not None]
    return max(found, key=lambda c: c.checked_at) if found else None


def _eurostat_change(built: Mapping[str, Any] | None,
                     now: Mapping[str, str | None]) -> str | None:
    """"gov_10dd_edpt1 updated 2026-04-22 → 2026-10-22" when a dataset the report read has a
    later update time now; None when not (or when either time is unknown)."""
    if not built:
        return None
    before = _moment(built.get("updated"))
    for dataset in built.get("datasets") or []:
        after = _moment(now.get(dataset))
        if before is not None and after is not None and after > before:
            return f"{dataset} updated {before.date()} → {after.date()}"
    return None


# --- families ------------------------------------------------------------------------------


@dataclass
class FamilyStatus:
    """Every variant of one parameter file (or file family) in one row."""

    family: str
    report: str
    state: str
    variants: list[VariantStatus]
    years: list[int]
    year_fixed: bool
    behind: list[Behind]
    gone: list[str]
    not_in_catalogue: list[str]
    lagging_source: list[str]
    upcoming: list[Upcoming]
    titles: dict[str, str]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(v.state for v in self.variants)
        return {state: found[state] for state in STATES if found[state]}

    @property
    def out_of_date(self) -> list[str]:
        return [v.variant for v in self.variants if v.state != UP_TO_DATE]

    @property
    def moves_to(self) -> list[int]:
        return sorted({v.moves_to for v in self.variants if v.moves_to is not None})

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--json`` (dates as ISO text)."""
        return _plain({
            "family": self.family, "report": self.report, "state": self.state,
            "counts": self.counts, "years": self.years, "year_fixed": self.year_fixed,
            "moves_to": self.moves_to, "behind": [asdict(b) for b in self.behind],
            "gone": self.gone, "not_in_catalogue": self.not_in_catalogue,
            "lagging_source": self.lagging_source,
            "upcoming": [asdict(u) for u in self.upcoming],
            "variants": [{"variant": v.variant, "state": v.state, "year": v.year,
                          "moves_to": v.moves_to, "published_since": v.published_since,
                          "eurostat": v.eurostat, "on_recording": v.on_recording}
                         for v in self.variants],
        })


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def status(published: Sequence[Published], catalogue: Mapping[str, Publication], today: date,
           *, checks: Mapping[str, SourceCheck] | None = None,
           eurostat_updated: Mapping[str, str | None] | None = None,
           source_id: str | None = None) -> list[FamilyStatus]:
    """One :class:`FamilyStatus` per family, sorted by name."""
    by_family: dict[str, list[Published]] = {}
    for item in published:
        by_family.setdefault(item.family, []).append(item)
    rows = []
    for family, items in sorted(by_family.items()):
        variants = [variant_status(p, catalogue, today, checks=checks,
                                   eurostat_updated=eurostat_updated, source_id=source_id)
                    for p in items]
        behind = {}
        for v in variants:
            for b in v.behind:
                known = behind.get(b.kpi)
                if known is None or (b.shown or 0) < (known.shown or 0):
                    behind[b.kpi] = b
        upcoming = {(u.day, u.kpi): u for v in variants for u in v.upcoming}
        kpis = {k for p in items for k in p.kpis}
        rows.append(FamilyStatus(
            family=family, report=items[0].report,
            state=max((v.state for v in variants), key=STATES.index),
            variants=variants,
            years=sorted({p.year for p in items if p.year is not None}),
            year_fixed=all(p.year_fixed for p in items),
            behind=sorted(behind.values(), key=lambda b: b.kpi),
            gone=sorted({k for v in variants for k in v.gone}),
            not_in_catalogue=sorted({k for v in variants for k in v.not_in_catalogue}),
            lagging_source=sorted({k for v in variants for k in v.lagging_source}),
            upcoming=[upcoming[key] for key in sorted(upcoming)],
            titles={k: catalogue[k].title for k in kpis if k in catalogue}))
    return rows


def exit_code(rows: Sequence[FamilyStatus]) -> int:
    """0 when every variant is up to date, :data:`EXIT_OUT_OF_DATE` otherwise."""
    return EXIT_OUT_OF_DATE if any(row.state != UP_TO_DATE for row in rows) else 0


# --- text ----------------------------------------------------------------------------------


def _kpi_list(kpis: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(kpis[:limit])
    return shown + (f" and {len(kpis) - limit} more" if len(kpis) > limit else "")


def short_line(row: FamilyStatus) -> str:
    """One line per family: state, variants, year shown and what Kolada has published."""
    n = len(row.variants)
    years = "/".join(str(y) for y in row.years) or "?"
    head = f"{row.family}: {row.state.upper()}, {n} variant{'s' if n != 1 else ''}, year {years}"
    head += " (fixed)" if row.year_fixed else ""
    parts = []
    if row.moves_to:
        parts.append(f"Kolada has published {'/'.join(map(str, row.moves_to))}")
    if row.behind:
        parts.append(f"{len(row.behind)} KPI(s) behind ({_kpi_list([b.kpi for b in row.behind])})")
    since = sorted({k for v in row.variants for k in v.published_since})
    if since:
        parts.append(f"published since fetched: {_kpi_list(since)}")
    eurostat = sorted({v.eurostat for v in row.variants if v.eurostat})
    if eurostat:
        parts.append(f"Eurostat {eurostat[0]}")
    recorded = sum(v.on_recording for v in row.variants)
    if recorded:
        parts.append(f"{recorded} built on the recording while Kolada's API can be reached")
    if row.lagging_source:
        parts.append(f"published but not in the data source: {_kpi_list(row.lagging_source)}")
    gone = [*row.gone, *row.not_in_catalogue]
    if gone:
        parts.append(f"gone from Kolada: {_kpi_list(gone)}")
    if row.upcoming:
        first = row.upcoming[0]
        parts.append(f"next {first.day.isoformat()} ({first.kpi} {first.period})")
    return head + (": " + "; ".join(parts) if parts else "")


def verbose_lines(row: FamilyStatus) -> list[str]:
    """The detail under a family's short line (``-v``)."""
    lines = [short_line(row)]
    counts = ", ".join(f"{n} {state}" for state, n in row.counts.items())
    lines.append(f"  variants: {counts}")
    stale = row.out_of_date
    if stale:
        lines.append(f"  to update: {_kpi_list(stale, 12)}")
    for b in row.behind:
        shown = "no data" if b.shown is None else str(b.shown)
        when = f", published {b.day.isoformat()}" if b.day else ""
        lines.append(f"  behind  {b.kpi} {b.title}: report {shown}, Kolada {b.published}{when}")
    for kpi in row.lagging_source:
        lines.append(f"  source  {kpi} {row.titles.get(kpi, '')}: published in the catalogue, "
                     "not in the data source when last asked")
    for kpi in row.gone:
        title = row.titles.get(kpi, "")
        lines.append(f"  gone    {kpi} {title}: no publication in Kolada's catalogue")
    for kpi in row.not_in_catalogue:
        lines.append(f"  gone    {kpi}: not in Kolada's catalogue")
    for u in row.upcoming[:8]:
        kind = "preliminary " if u.preliminary else ""
        lines.append(f"  next    {u.day.isoformat()} {kind}{u.period} {u.kpi} {u.title}")
    if len(row.upcoming) > 8:
        lines.append(f"  next    … {len(row.upcoming) - 8} more")
    return lines


def render(rows: Sequence[FamilyStatus], verbose: bool = False) -> str:
    if not rows:
        return "No published reports."
    if verbose:
        return "\n".join(line for row in rows for line in verbose_lines(row))
    return "\n".join(short_line(row) for row in rows)


__all__ = [
    "EXIT_OUT_OF_DATE",
    "MAY_HAVE_CHANGED",
    "OUT_OF_DATE",
    "UP_TO_DATE",
    "Behind",
    "FamilyStatus",
    "Published",
    "Upcoming",
    "VariantStatus",
    "exit_code",
    "family_of",
    "read_published",
    "render",
    "status",
    "variant_status",
]
