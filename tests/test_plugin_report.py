"""Reports are found, not listed: README.md "Adding a report", followed step by step."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import params, paths
from helpers.build import parameters, registry

PLUGIN = Path(__file__).parent / "fixtures" / "plugin"


def _project_copy(root: Path) -> Path:
    """A copy of the package, with no notebook and no parameter file, as a new user has it."""
    project = root / "proj"
    shutil.copytree(Path(paths.__file__).parent, project / "src" / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (project / "notebooks").mkdir()
    (project / "params").mkdir()
    return project


@pytest.mark.slow
def test_a_report_added_as_the_readme_says_builds(tmp_path, kolada_server):
    project = _project_copy(tmp_path)
    # 1. src/helpers/reports/<report>.py with @register_report("<report>")
    shutil.copy(PLUGIN / "invanare.py", project / "src" / "helpers" / "reports" / "invanare.py")
    # 2. notebooks/<report>.ipynb
    shutil.copy(PLUGIN / "invanare.ipynb", project / "notebooks" / "invanare.ipynb")
    # 3. params/<report>.yaml with report: <report>
    shutil.copy(PLUGIN / "invanare.yaml", project / "params" / "invanare.yaml")
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "SKR_PROJ_ROOT": str(project),
           "SKR_DATA_DIR": str(tmp_path / "data"), "SKR_REPORTS_DIR": str(tmp_path / "reports"),
           "SKR_SHARED_DIR": str(paths.SHARED_DIR), "KOLADA_BASE_URL": kolada_server.base_url}
    skr_report = Path(sys.executable).with_name("skr-report")
    done = subprocess.run([str(skr_report), "run", "params/invanare.yaml", "--format", "html"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "WARNING" not in done.stderr  # e.g. "Kernel is running over TCP without encryption"
    out = tmp_path / "reports" / "invanare-2463"
    page = (out / "invanare.html").read_text(encoding="utf-8")
    assert "Tabell 1" in page and "Invånare i 2463" in page
    csv = (out / "tables" / "tabell1.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0] == "År,Invånare" and len(csv) == 3
    assert str(out) in done.stdout


def test_unknown_report_names_the_known_ones_and_the_recipe():
    with pytest.raises(params.ParamsError) as err:
        parameters.validate_params({"report": "myreport"})
    message = str(err.value)
    assert "unknown report 'myreport'" in message
    for name in ("agenda2030", "budget", "valfard_i_hela_landet"):
        assert name in message
    assert "Adding a report" in message


def test_report_modules_are_found_by_scanning_and_by_entry_point(tmp_path, monkeypatch):
    found = registry.report_modules()
    assert "helpers.reports.budget" in found and "helpers.reports.valfard" in found
    assert {"budget", "valfard_i_hela_landet", "agenda2030"} <= set(registry.known_reports())
    # an installed package declaring [project.entry-points."skr_report.reports"]
    (tmp_path / "skr_extra.py").write_text(
        "from helpers.params import ReportParams, register_report\n\n\n"
        "@register_report('extra')\nclass ExtraParams(ReportParams):\n    pass\n",
        encoding="utf-8")
    info = tmp_path / "skr_extra-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: skr-extra\nVersion: 0.1\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text("[skr_report.reports]\nextra = skr_extra\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "skr_extra" in registry.report_modules()
    assert parameters.validate_params({"report": "extra"}).report == "extra"
