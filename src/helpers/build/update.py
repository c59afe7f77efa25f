"""``skr-report update``: rebuild exactly the variants ``status`` does not call up to date.

:func:`update` takes the variants that are not up to date (:mod:`.cycle`), asks their source
again for their data (the value requests are sent again, not answered from the cache; Kolada's
catalogue decides which years are asked for), remembers what the source had (so a source that
lacks a published year is no reason to call a report out of date again), and rebuilds them with
the batch's machinery: the same workers, progress bar and atomic publish, and the same
up-to-date check - a variant whose own data did not change (a fixed year, when only a later year
came) is not rebuilt. Each variant is rebuilt from the parameter file and command-line
overrides its manifest names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build.batch import BatchResult, build_many, plan_variants
from helpers.build.cycle import StatusNow, current_status
from helpers.build.parameters import read_params
from helpers.build.sources_now import record_checks
from helpers.build.status import UP_TO_DATE, Published, VariantStatus
from helpers.build.variant import FORMATS, RunSettings, Variant
from helpers.params import ParamsError
from helpers.sources.errors import SourceError
from helpers.sources.identity import source_id_of
from helpers.sources.live import data_clients


@dataclass
class Rebuild:
    """Variants of one parameter file (with the same overrides but the kommun) to rebuild."""

    family: str
    params_file: Path
    overrides: dict[str, Any]
    kommuner: list[str] | None
    """Kommun codes a batch added (None: the file as it stands, with ``overrides``)."""
    formats: tuple[str, ...]
    states: dict[str, VariantStatus] = field(default_factory=dict)
    eurostat: bool = False


@dataclass
class UpdateResult:
    status: StatusNow
    lines: list[str] = field(default_factory=list)
    results: list[BatchResult] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return "\n".join([self.status.header(), *self.lines])


def _rebuilds(now: StatusNow) -> tuple[list[Rebuild], dict[str, str]]:
    """The stale variants grouped by how they are built again; variants that cannot be (no
    parameter file known or found) with the reason."""
    by_variant = {p.variant: p for p in now.published}
    groups: dict[tuple[Any, ...], Rebuild] = {}
    cannot: dict[str, str] = {}
    for row in now.rows:
        for state in row.variants:
            if state.state == UP_TO_DATE:
                continue
            published = by_variant[state.variant]
            path, overrides = _how_built(published)
            if path is None:
                cannot[state.variant] = ("its manifest names no parameter file. Fix: build it "
                                         "again with `skr-report run` or `batch` once")
                continue
            kommun = overrides.pop("kommun", None)
            formats = tuple(f for f in FORMATS
                            if f"{published.report}.{f}" in (published.manifest.get("outputs")
                                                             or {})) or FORMATS
            key = (str(path), tuple(sorted(overrides.items())), kommun is None, formats)
            group = groups.setdefault(key, Rebuild(published.family, path, overrides,
                                                   None if kommun is None else [], formats))
            if kommun is not None:
                group.kommuner.append(kommun)
            group.states[state.variant] = state
            group.eurostat = group.eurostat or bool(state.eurostat)
    return list(groups.values()), cannot


def _how_built(published: Published) -> tuple[Path | None, dict[str, Any]]:
    """The parameter file and overrides a variant was built from (older manifests: the file of
    its family in params/, the kommun as an override)."""
    overrides = dict(published.overrides)
    if published.params_file:
        path = Path(published.params_file)
        path = path if path.is_absolute() else paths.PROJ_ROOT / path
    else:
        path = paths.PARAMS_DIR / f"{published.family}.yaml"
        kommun = (published.manifest.get("parameters") or {}).get("kommun")
        if kommun and published.variant != published.family:
            overrides["kommun"] = kommun
    return (path if path.is_file() else None), overrides


def update(params_files: Sequence[str | Path] = (), *, jobs: int, refresh: bool = False,
           settings: RunSettings | None = None, progress: bool = True,
           now: datetime | None = None) -> UpdateResult:
    """Rebuild the variants :func:`current_status` does not call up to date (see the module
    docstring)."""
    settings = settings or RunSettings()
    state = current_status(params_files, refresh=refresh, reports_dir=settings.reports_dir,
                           processed_dir=settings.processed_dir, now=now)
    result = UpdateResult(state)
    rebuilds, cannot = _rebuilds(state)
    for name, reason in sorted(cannot.items()):
        result.lines.append(f"{name}: not rebuilt: {reason}.")
        result.failed[name] = reason
    if not rebuilds:
        result.lines.append("Everything is up to date: nothing to fetch or build."
                            if not cannot else "Nothing else to rebuild.")
        return result
    checked_at = datetime.now(UTC)
    with data_clients() as clients:
        client, eurostat_client = clients.kolada, clients.eurostat
        client.refresh = True  # ask the source again: the cache is what it said last time
        planned = []
        for rebuild in rebuilds:
            eurostat_client.refresh = rebuild.eurostat
            planned.append(_plan(rebuild, client, eurostat_client, settings, result))
    for rebuild, variants in zip(rebuilds, planned, strict=True):
        for variant in variants:
            record_checks(source_id_of(variant.source), variant.kpi_years, checked_at,
                          settings.processed_dir)
        built = build_many(variants, rebuild.formats, jobs=jobs, settings=settings,
                           progress=progress)
        result.results.append(built)
        result.failed.update(built.failed)
        result.lines += _report(rebuild, variants, built)
    return result


def _plan(rebuild: Rebuild, client: Any, eurostat_client: Any, settings: RunSettings,
          result: UpdateResult) -> list[Variant]:
    try:
        params_file = read_params(rebuild.params_file, **rebuild.overrides)
        variants, invalid = plan_variants(params_file, rebuild.kommuner, client=client,
                                          eurostat_client=eurostat_client, settings=settings)
    except (ParamsError, SourceError) as exc:
        for name in rebuild.states:
            result.failed[name] = str(exc)
        result.lines.append(f"{rebuild.params_file}: not rebuilt: {exc}")
        return []
    result.failed.update(invalid)
    return [v for v in variants if v.name in rebuild.states]


def _report(rebuild: Rebuild, variants: Sequence[Variant], built: BatchResult) -> list[str]:
    """One line per family: rebuilt (year before → after), checked and unchanged, or the
    source still lacks the year Kolada's catalogue announces."""
    before = {name: state.year for name, state in rebuild.states.items()}
    expected = {name: state.moves_to for name, state in rebuild.states.items()}
    after = {v.name: v.year for v in variants}
    ok = [r.variant for r in built.ok]
    moves = sorted({f"{before[n]} → {after[n]}" for n in ok if before.get(n) != after.get(n)})
    lagging = sorted({str(expected[n]) for n in after
                      if expected.get(n) is not None and (after[n] or 0) < expected[n]})
    parts = []
    if ok:
        parts.append(f"{len(ok)} variant{'s' if len(ok) != 1 else ''} rebuilt"
                     + (f" ({', '.join(moves)})" if moves else " (their data changed)"))
    if built.skipped:
        parts.append(f"{len(built.skipped)} checked, data unchanged")
    if built.failed:
        parts.append(f"{len(built.failed)} failed")
    if lagging:
        parts.append(f"the source does not have {', '.join(lagging)} yet")
    done = "; ".join(parts) or "nothing built"
    return [f"{rebuild.family} ({rebuild.params_file.name}): {done} [{built.seconds:.1f} s]"]


__all__ = ["UpdateResult", "update"]
