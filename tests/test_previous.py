"""The previous version kept beside a rebuilt variant and the section "Ändringar sedan förra
versionen" (issue 18), on the fixture report: kept when the data changed, taken over when a
rebuild has the same data, absent on a first build."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest
from fixtures.fixture_report import fixture_settings, fixture_variant

from helpers.build import runner
from helpers.datasets.values import write_values

pytestmark = pytest.mark.slow


def population(folder, value: float) -> None:
    """values/N01951.parquet (what the fixture report's data digest covers) and source.json."""
    rows = pd.DataFrame([("N01951", "0114", 2022, "T", value, 1, "")],
                        columns=["kpi", "municipality", "period", "gender", "value", "count",
                                 "status"])
    write_values(rows, ["N01951"], folder)
    (folder / "source.json").write_text(json.dumps({"base_url": "http://127.0.0.1:1/v3",
                                                    "snapshot": True}), encoding="utf-8")


def section(folder) -> str:
    nb = json.loads((folder / "fixture_report.ipynb").read_text(encoding="utf-8"))
    return "".join("".join(c["source"]) for c in nb["cells"]
                   if "skr-changes" in c.get("metadata", {}).get("tags", []))


def test_previous_version_kept_when_the_data_change_and_taken_over_otherwise(tmp_path):
    settings = fixture_settings(tmp_path)
    target = settings.reports_dir / "fixture"
    population(settings.processed_dir, 100.0)
    runner.run_variant(fixture_variant(settings, tmp_path), settings=settings,
                       formats=("html",))
    assert not (target / "previous").exists() and section(target) == ""
    first = (target / "manifest.json").read_bytes()

    population(settings.processed_dir, 101.0)  # the data changed: the first version is kept
    runner.run_variant(fixture_variant(settings, tmp_path), settings=settings,
                       formats=("html",))
    kept = target / "previous"
    assert (kept / "manifest.json").read_bytes() == first
    assert gzip.decompress((kept / "tables" / "figur1.csv.gz").read_bytes()).decode() \
        .startswith("grupp,värde")
    assert "## Ändringar sedan förra versionen" in section(target)
    assert "Inga tabeller eller figurer har ändrats." in section(target)  # same tables
    html = (target / "fixture_report.html").read_text(encoding="utf-8")
    assert "Ändringar sedan förra versionen" in html
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert "previous/tables/figur1.csv.gz" in manifest["outputs"]

    # the same data again (a forced rebuild): the kept version stays the one to compare with
    runner.run_variant(fixture_variant(settings, tmp_path, title_text="Testrapport 2"),
                       settings=settings, formats=("html",))
    assert (kept / "manifest.json").read_bytes() == first
    assert "## Ändringar sedan förra versionen" in section(target)
