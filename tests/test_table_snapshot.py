"""A rendered table stored as a snapshot (HTML and the PDF's table data), as great-tables does:
a change in how tables look shows up as a diff of ``tests/snapshots/`` to review.

After an intended change, rewrite the snapshots with ``SKR_UPDATE_SNAPSHOTS=1 pytest
tests/test_table_snapshot.py`` and review ``git diff tests/snapshots``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import nbformat
import pytest

from helpers.rendering import captions, export, provenance
from helpers.rendering.notebook import ReportNotebook
from helpers.reports import budget

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SKR_UPDATE_SNAPSHOTS") == "1"


def _table_notebook(monkeypatch, tmp_path) -> nbformat.NotebookNode:
    """A notebook whose one output is what the budget notebook shows as Tabell 2 (the check of
    the sums: words, long texts, negative numbers), captured from the display call."""
    shown = []
    monkeypatch.setattr(captions, "display",
                        lambda data, raw=False, metadata=None: shown.append((data, metadata)))
    table = budget.check_table(budget.load_resultatrakning())
    ReportNotebook(None, tmp_path).table(dataclasses.replace(table, note=""))
    (data, metadata), = shown
    cell = nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "display_data", data=data, metadata=metadata)])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "skr-report", "display_name": "x", "language": "python"}
    return nb


def _info() -> provenance.ReportInfo:
    return provenance.ReportInfo(report="budget", variant="budget", title="Budgettabeller",
                             csv_files=["tables/budget_skr_kontroll.csv"])


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist and was written: review and commit it")
    stored = path.read_text(encoding="utf-8")
    assert text == stored, (f"the rendered table differs from {path}. If the change is "
                            "intended: SKR_UPDATE_SNAPSHOTS=1 pytest tests/test_table_snapshot.py "
                            "and review the diff")


def test_table_html_matches_the_snapshot(monkeypatch, tmp_path):
    page = export.Exporter().to_html(_table_notebook(monkeypatch, tmp_path), _info())
    figure = re.search(r'<div class="skr-table".*?</p>\n</div>', page, re.DOTALL)
    assert figure is not None
    _check("table_kontroll.html", figure.group(0) + "\n")


def test_table_pdf_source_matches_the_snapshot(monkeypatch, tmp_path):
    """The PDF's table: the Typst call in the document and the data it shows (skr.json)."""
    import json

    source, resources = export.Exporter().to_typst(_table_notebook(monkeypatch, tmp_path), _info())
    assert "#skr-run((\n  (item: items.at(0), lead: none" in source
    (item,) = resources["skr_typst"]["items"]
    _check("table_kontroll.typst.json",
           json.dumps(item, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
