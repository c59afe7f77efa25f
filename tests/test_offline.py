"""One offline recipe for every command (issue 19): on a fresh copy (empty data/ and reports/)
with both APIs unreachable and no server started, fetch, run and batch work from the recordings
in ../shared and say so once; the recording is one source whichever way it is read, so a
manual replay server or a batch after `make report` rebuild nothing."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from pathlib import Path

import pytest
from conftest import require_shared, skr_report

from helpers import paths

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_env(tmp_path) -> dict[str, str]:
    """No data, no reports, both APIs at a port nobody listens on."""
    require_shared("kolada/values.csv.gz", "eurostat/gov_10dd_edpt1.tsv.gz")
    port = _closed_port()
    env = dict(os.environ)
    env.update(KOLADA_BASE_URL=f"http://127.0.0.1:{port}/v3",
               EUROSTAT_BASE_URL=f"http://127.0.0.1:{port}/eurostat/api/dissemination",
               SKR_DATA_DIR=str(tmp_path / "data"), SKR_REPORTS_DIR=str(tmp_path / "reports"))
    return env


def _summary(output: str) -> tuple[int, int]:
    found = re.search(r"(\d+) built, (\d+) up to date", output)
    assert found, output
    return int(found.group(1)), int(found.group(2))


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return result.stdout + result.stderr


def test_fetch_run_and_batch_work_from_the_recordings(fresh_env, tmp_path, kolada_server):
    valfard = str(paths.PARAMS_DIR / "valfard.yaml")
    fetched = _ok(skr_report("fetch", valfard, env=fresh_env))
    for name in ("Kolada", "Eurostat"):
        said = re.findall(rf"{name} at \S+ cannot be reached .*: using the recording", fetched)
        assert len(said) == 1, fetched  # once per source
    cache = tmp_path / "data" / "raw" / "kolada" / "recording"
    assert [p.name for p in cache.iterdir()] == [f"kolada-{kolada_server.identity.key}"]

    built = _ok(skr_report("run", valfard, "--kommun", "2463", "--format", "html",
                           env=fresh_env))
    assert re.search(r"valfard-2463: built in \d+\.\d s", built)
    variant = tmp_path / "reports" / "valfard-2463"
    html = (variant / "valfard_i_hela_landet.html").read_text(encoding="utf-8")
    assert "inspelad ögonblicksbild av Kolada" in html
    _check_excel_and_png(variant, html)

    batch = _ok(skr_report("batch", valfard, "--kommuner", "2463,0180", "--format", "html",
                           env=fresh_env))
    assert _summary(batch) == (1, 1)  # valfard-2463 is the variant `run` built

    # the same recording through a replay server the user started: nothing refetched or rebuilt
    replay = dict(fresh_env, KOLADA_BASE_URL=kolada_server.base_url,
                  EUROSTAT_BASE_URL=kolada_server.eurostat_base_url)
    again = _ok(skr_report("fetch", valfard, env=replay))
    assert re.search(r"\b0 HTTP requests", again) and "cannot be reached" not in again
    assert _summary(_ok(skr_report("batch", valfard, "--kommuner", "2463,0180", "--format",
                                   "html", env=replay))) == (0, 2)
    # and --offline (no network at all) reads the same cache
    assert _summary(_ok(skr_report("batch", valfard, "--kommuner", "2463,0180", "--format",
                                   "html", "--offline", env=fresh_env))) == (0, 2)


def test_live_only_stops_naming_the_variable(fresh_env):
    result = skr_report("run", str(paths.PARAMS_DIR / "valfard.yaml"), "--live-only",
                        "--format", "html", env=fresh_env)
    assert result.returncode == 4
    assert "KOLADA_BASE_URL" in result.stderr and "--live-only" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def two_params_project(tmp_path) -> Path:
    """A copy of the project with two parameter files of one report: the national one and
    Åsele's (as params/ has them), the real notebooks."""
    root = tmp_path / "project"
    (root / "params").mkdir(parents=True)
    for name in ("valfard.yaml", "valfard-2463.yaml"):
        (root / "params" / name).write_bytes((paths.PARAMS_DIR / name).read_bytes())
    (root / "notebooks").symlink_to(paths.NOTEBOOKS_DIR)
    return root


def test_batch_after_report_all_leaves_the_same_variant_up_to_date(fresh_env,
                                                                     two_params_project):
    """walk 8: params/valfard-2463.yaml (report-all) and `batch valfard.yaml --kommuner 2463`
    are one variant with one source: neither rebuilds what the other built."""
    env = dict(fresh_env, SKR_PROJ_ROOT=str(two_params_project),
               SKR_SHARED_DIR=str(paths.SHARED_DIR))
    first = _ok(skr_report("report-all", "--format", "html", env=env))
    assert _summary(first) == (2, 0)
    # the KPIs Kolada has no values for: one line, naming the report and its files (walk 18)
    missing = [line for line in first.splitlines() if "no values in Kolada" in line]
    assert missing == ["Välfärd i hela landet (valfard-2463.yaml, valfard.yaml): no values in "
                       "Kolada for N01721, N02937, N03932; the report shows them as "
                       "'saknas i data'."]
    valfard = str(two_params_project / "params" / "valfard.yaml")
    assert _summary(_ok(skr_report("batch", valfard, "--kommuner", "2463", "--format", "html",
                                   env=env))) == (0, 1)
    again = _ok(skr_report("report-all", "--format", "html", env=env))
    assert _summary(again) == (0, 2)
    assert "no values in Kolada" not in again  # nothing is built: nothing to say

    # another year is another variant: the published default one stays as it was (walk 6)
    reports = Path(env["SKR_REPORTS_DIR"])
    before = _digests(reports / "valfard-2463")
    started = time.perf_counter()
    built = _ok(skr_report("run", valfard, "--kommun", "2463", "--year", "2021", "--format",
                           "html", env=env))
    measured = time.perf_counter() - started
    assert _digests(reports / "valfard-2463") == before
    manifest = json.loads((reports / "valfard-2463-2021" / "manifest.json").read_text())
    assert manifest["parameters"]["year"] == 2021 and manifest["parameters"]["kommun"] == "2463"
    # the time said is the command's: all of it but starting Python (timed here as --version)
    # and Python's shutdown after the last line (about a second under load; it frees memory)
    printed = float(re.search(r"valfard-2463-2021: built in (\d+\.\d) s", built).group(1))
    started = time.perf_counter()
    _ok(skr_report("--version", env=env))
    startup = time.perf_counter() - started
    assert 0.8 * measured - 2 * startup <= printed <= measured + 0.05
    # the default year given explicitly is the default variant, not a new one
    assert _summary(_ok(skr_report("report-all", "--format", "html", env=env))) == (0, 2)
    assert sorted(p.name for p in reports.iterdir() if not p.name.startswith((".", "_"))
                  and p.is_dir()) == ["valfard", "valfard-2463", "valfard-2463-2021"]


def _check_excel_and_png(variant: Path, html: str) -> None:
    """Every table also as .xlsx (linked from the HTML) that openpyxl reads with numbers as
    numbers and codes as text; every PNG states its resolution (at the printed size)."""
    from openpyxl import load_workbook
    from PIL import Image

    from helpers.rendering.excel import HEADER_ROW
    from helpers.rendering.figure_files import PNG_PPI

    manifest = json.loads((variant / "manifest.json").read_text(encoding="utf-8"))
    workbooks = sorted((variant / "tables").glob("*.xlsx"))
    tables = {p.stem for p in (variant / "tables").glob("*.csv")
              if not p.stem.startswith("figur")}  # figures' data stay CSV only
    assert {p.stem for p in workbooks} == tables == {"tabell1", "tabell2", "tabell3",
                                                     "tabell5", "pastaenden"}
    for path in workbooks:
        assert f'href="tables/{path.name}"' in html and f"tables/{path.name}" in \
            manifest["outputs"]
        rows = list(load_workbook(path).active.iter_rows(min_row=HEADER_ROW + 1))
        numbers = [c for r in rows for c in r if c.data_type == "n" and c.value is not None]
        assert bool(numbers) == path.stem.startswith("tabell"), path.name  # the statements:
        # text only
    sheet = load_workbook(variant / "tables" / "tabell2.xlsx").active
    codes = [r[1].value for r in sheet.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + 5)]
    assert all(isinstance(code, str) and code[:1] in "NU" for code in codes), codes
    pngs = sorted((variant / "figures").glob("*.png"))
    assert len(pngs) == 7
    for png in pngs:
        with Image.open(png) as image:
            assert image.info["dpi"] == pytest.approx((PNG_PPI, PNG_PPI), abs=0.01), png.name


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_variant_of_another_file_is_not_replaced_without_force(fresh_env, tmp_path):
    """reports/valfard-2463/ built from params/valfard-2463.yaml with other parameters is not
    replaced by `run params/valfard.yaml --kommun 2463`; the message names --force."""
    folder = tmp_path / "reports" / "valfard-2463"
    folder.mkdir(parents=True)
    published = {"variant": "valfard-2463", "status": "ok", "params_file":
                 "params/valfard-2463.yaml", "parameters": {
                     "report": "valfard_i_hela_landet", "kommun": "2463", "year": 2022,
                     "kommungruppering": 2017}}
    (folder / "manifest.json").write_text(json.dumps(published), encoding="utf-8")
    before = _digests(folder)
    result = skr_report("run", str(paths.PARAMS_DIR / "valfard.yaml"), "--kommun", "2463",
                        "--format", "html", env=fresh_env)
    assert result.returncode == 2, result.stderr
    assert "built from params/valfard-2463.yaml with other parameters" in result.stderr
    assert "kommungruppering 2017 → 2023" in result.stderr and "--force" in result.stderr
    assert _digests(folder) == before
