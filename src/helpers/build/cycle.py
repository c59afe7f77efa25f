"""``skr-report status``: which published reports are out of date, now.

:func:`current_status` reads every published manifest, the catalogue of the source the reports
would be fetched from now (:mod:`.sources_now`) and what ``update`` found there before, and
computes the state of every variant (:mod:`.status`).
What ``skr-report update`` does with it is :mod:`.update`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build.publications import read_catalogue
from helpers.build.sources_now import (
    CatalogueNow,
    eurostat_updates,
    kolada_catalogue,
    read_checks,
    today_in_sweden,
)
from helpers.build.status import (
    FamilyStatus,
    Published,
    exit_code,
    family_of,
    read_published,
    render,
    status,
)

# --- status -----------------------------------------------------------------------------------


@dataclass
class StatusNow:
    """Every family's state, and what they were compared with."""

    today: date
    catalogue: CatalogueNow
    rows: list[FamilyStatus]
    published: list[Published]
    eurostat_note: str | None = None

    @property
    def exit_code(self) -> int:
        return exit_code(self.rows)

    def header(self) -> str:
        line = f"Compared with {self.catalogue.where}, as of {self.today.isoformat()}"
        notes = [n for n in (self.catalogue.note, self.eurostat_note) if n]
        return line + (f" ({'; '.join(notes)})" if notes else "") + "."

    def text(self, verbose: bool = False) -> str:
        return self.header() + "\n" + render(self.rows, verbose)

    def as_json(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "catalogue": self.catalogue.as_json(),
                "eurostat_note": self.eurostat_note, "exit_code": self.exit_code,
                "families": [row.as_json() for row in self.rows]}


def select(published: Sequence[Published], params_files: Sequence[str | Path]) -> list[Published]:
    """The variants built from ``params_files`` (or of their families); all when none given."""
    if not params_files:
        return list(published)
    wanted = {Path(p).resolve() for p in params_files}
    families = {family_of(Path(p).stem, p) for p in params_files}
    return [p for p in published
            if (p.params_file and (paths.PROJ_ROOT / p.params_file).resolve() in wanted)
            or p.family in families]


def current_status(params_files: Sequence[str | Path] = (), *, offline: bool = False,
                   refresh: bool = False, reports_dir: Path | None = None,
                   processed_dir: Path | None = None, now: datetime | None = None) -> StatusNow:
    """The state of the published variants (of ``params_files``), as :mod:`.status` computes
    it, against the catalogue of the source they would be fetched from now."""
    now = now or datetime.now(UTC)
    today = today_in_sweden(now)
    published = select(read_published(reports_dir or paths.REPORTS_DIR), params_files)
    catalogue = kolada_catalogue(offline=offline, refresh=refresh, now=now,
                                 processed_dir=processed_dir)
    datasets = {name for p in published for name in ((p.eurostat or {}).get("datasets") or [])}
    updates, note = eurostat_updates(datasets, offline=offline, refresh=refresh, now=now,
                                     processed_dir=processed_dir)
    checks = read_checks(processed_dir).get(catalogue.source_id, {})
    rows = status(published, read_catalogue(catalogue.entries), today, checks=checks,
                  eurostat_updated=updates, source_id=catalogue.source_id)
    return StatusNow(today, catalogue, rows, published, note)


__all__ = ["StatusNow", "current_status", "select"]
