"""The previous version of a variant, kept beside the new one, and the section "Ändringar sedan
förra versionen" that says what changed.

When a variant is rebuilt on other data than the published version was built from (its data
digests differ: a new year, revised values, another source), the published version's
``manifest.json`` and ``tables/*.csv`` (gzipped: Välfärd's tables are 0.7 MB per kommun variant,
mostly the whole country) go to ``previous/`` in the new version's folder, and the new report
gets the section, in Swedish, in HTML and PDF: the data of both versions, which figures and
tables changed, the largest changes cell by cell (before → after, in the report's number
format), rows that appeared or went, statements whose verdict changed
(:mod:`.changes`, :mod:`.changes_text`). A rebuild on the same data (new code, ``--force``) takes
the existing ``previous/`` over, so the section keeps showing the last change of data.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from helpers.build.changes import compare_folders
from helpers.build.changes_text import LARGEST_TITLE, details, intro, largest_frame
from helpers.build.manifest import MANIFEST, read_manifest
from helpers.rendering.captions import SKR, table_bundle

PREVIOUS_DIR = "previous"
SECTION_HEADING = "## Ändringar sedan förra versionen"
SECTION_TAG = "skr-changes"
COMPARISON_SOURCE = ("Källa: den här och förra versionens tabeller (tables/*.csv och "
                     "previous/tables/), jämförda rad för rad.")


def data_changed(published: Mapping[str, Any], digests: Mapping[str, str],
                 year: int | None) -> bool:
    """Whether the published version (its manifest) was built from other data than
    ``digests`` (an older manifest without digests: another year)."""
    data = published.get("data") or {}
    if data.get("data_digests"):
        return dict(data["data_digests"]) != dict(digests)
    return (data.get("years") or [None])[0] != year


def keep_previous(target: Path, staging: Path, digests: Mapping[str, str],
                  year: int | None) -> Path | None:
    """Write ``staging/previous/`` (see the module docstring) and return it, or None when there
    is no earlier version to compare with."""
    published = read_manifest(target)
    if not published:
        return None
    kept = staging / PREVIOUS_DIR
    if data_changed(published, digests, year):
        (kept / "tables").mkdir(parents=True)
        (kept / MANIFEST).write_bytes((target / MANIFEST).read_bytes())
        for table in sorted((target / "tables").glob("*.csv")):
            (kept / "tables" / f"{table.name}.gz").write_bytes(
                gzip.compress(table.read_bytes(), mtime=0))
        return kept
    if (target / PREVIOUS_DIR / MANIFEST).is_file():
        shutil.copytree(target / PREVIOUS_DIR, kept)
        return kept
    return None


def changes_cells(previous: Path, staging: Path, manifest: Mapping[str, Any],
                  nb: Any) -> list[Any]:
    """The section as notebook cells to append to the executed notebook ``nb``: Markdown, the
    largest changes as one of the report's tables (numbered after its last table, shown like
    the others in HTML and PDF), Markdown. ``manifest`` stands in for the new version's, which
    is not written yet."""
    changes = compare_folders(previous, staging, after_manifest=manifest)
    tags = {"tags": [SECTION_TAG]}
    cells = [nbformat.v4.new_markdown_cell(intro(changes, SECTION_HEADING), metadata=tags)]
    largest = largest_frame(changes)
    if len(largest):
        data, metadata = table_bundle(largest, number=_last_table(nb) + 1, title=LARGEST_TITLE,
                                      source=COMPARISON_SOURCE)
        output = nbformat.v4.new_output("display_data", data=data, metadata=metadata)
        cells.append(nbformat.v4.new_code_cell("", outputs=[output], metadata=tags))
    rest = details(changes)
    if rest:
        cells.append(nbformat.v4.new_markdown_cell(rest, metadata=tags))
    return cells


def _last_table(nb: Any) -> int:
    numbers = [int(meta.get("number", 0)) for cell in nb.get("cells", [])
               for output in cell.get("outputs", []) or []
               if isinstance(meta := (output.get("metadata") or {}).get(SKR), Mapping)
               and meta.get("kind") == "table"]
    return max(numbers, default=0)


__all__ = ["PREVIOUS_DIR", "SECTION_HEADING", "changes_cells", "data_changed", "keep_previous"]
