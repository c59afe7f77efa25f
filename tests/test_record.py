"""``make report`` with nothing changed (issue 18): ``report-all`` decides from the record of its
last plan, without reading data or asking any server, and plans again as soon as anything it
depends on changed (a parameter file, a raw response, a published variant)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import skr_report

from helpers import paths
from helpers.build.record import RECORD

pytestmark = pytest.mark.slow
UNCHANGED = "nothing changed since the last run: no data read, no server asked"


@pytest.fixture
def project(kolada_server, tmp_path):
    """A copy of the project with one parameter file (the budget: one KPI, quick)."""
    root = tmp_path / "proj"
    (root / "params").mkdir(parents=True)
    shutil.copy(paths.PARAMS_DIR / "budget_skr.yaml", root / "params")
    (root / "notebooks").symlink_to(paths.NOTEBOOKS_DIR)
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "skr").symlink_to(paths.SKR_RAW_DIR)
    env = dict(os.environ, SKR_PROJ_ROOT=str(root), SKR_SHARED_DIR=str(paths.SHARED_DIR),
               SKR_DATA_DIR=str(root / "data"), SKR_REPORTS_DIR=str(root / "reports"),
               KOLADA_BASE_URL=kolada_server.base_url,
               EUROSTAT_BASE_URL=kolada_server.eurostat_base_url)
    return root, env


def report_all(env) -> str:
    result = skr_report("report-all", "--format", "html", env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_report_all_decides_from_the_record_and_plans_again_when_anything_changed(
        project, kolada_server):
    root, env = project
    first = report_all(env)
    assert "1 variants: 1 built" in first
    record = json.loads((root / "data" / "processed" / RECORD).read_text(encoding="utf-8"))
    assert [Path(e["path"]).name for e in record["params"]] == ["budget_skr.yaml"]
    assert record["raw"] and record["processed"] and record["variants"][0]["name"] == "budget_skr"

    asked = kolada_server.request_count
    assert UNCHANGED in report_all(env)
    assert kolada_server.request_count == asked  # not even a probe

    params = root / "params" / "budget_skr.yaml"
    params.write_text(params.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    again = report_all(env)  # planned again: the parameters are the same, nothing is built
    assert UNCHANGED not in again and "1 variants: 0 built, 1 up to date" in again
    assert kolada_server.request_count > asked  # the probe at least
    assert UNCHANGED in report_all(env)

    raw = Path(record["raw"][0]["path"])
    raw.write_bytes(raw.read_bytes())  # touched, same bytes: still nothing changed
    assert UNCHANGED in report_all(env)
    (root / "reports" / "budget_skr" / "manifest.json").unlink()
    assert "1 variants: 1 built" in report_all(env)
