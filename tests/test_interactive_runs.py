"""A notebook run by hand (JupyterLab, nbclient, plain papermill) writes to a scratch folder,
never into a published variant's folder, whatever its working directory and parameters."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from helpers import paths
from helpers.build.manifest import MANIFEST, sha256_file
from helpers.build.variant import (
    RunSettings,
)

NOTEBOOK = paths.NOTEBOOKS_DIR / "valfard_i_hela_landet.ipynb"


def _state(folder):
    """Every file under ``folder`` with its size and modification time."""
    if not folder.exists():
        return {}
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def _check_published(reports):
    """Every published folder holds exactly the files its manifest lists, unchanged."""
    folders = [m.parent for m in reports.glob(f"*/{MANIFEST}")]
    assert folders
    for folder in folders:
        outputs = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["outputs"]
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                 if p.is_file() and p.name != MANIFEST}
        assert files == set(outputs), folder
        for name, digest in outputs.items():
            assert sha256_file(folder / name) == digest, f"{folder.name}/{name} changed"


def _streams(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream")


@pytest.mark.slow
def test_runs_by_hand_leave_published_reports_alone(processed_data, tmp_path, monkeypatch):
    import papermill
    from nbclient import NotebookClient

    from helpers.build import runner
    from helpers.build.parameters import load_params

    reports = tmp_path / "reports"
    monkeypatch.setenv("SKR_DATA_DIR", str(processed_data.parent))
    monkeypatch.setenv("SKR_REPORTS_DIR", str(reports))
    settings = RunSettings(reports_dir=reports, processed_dir=processed_data)
    params = load_params(paths.PARAMS_DIR / "valfard.yaml")
    variant = runner.variant_for(params, paths.PARAMS_DIR / "valfard.yaml", year=2022,
                                 kpis=params.required_kpis(), settings=settings,
                                 source={"fetched_at": "2024-08-23T10:00:00+00:00"})
    runner.run_variant(variant, settings=settings,
                       formats=("html",))
    _check_published(reports)
    checkout = {folder: _state(folder) for folder in (paths.PROJ_ROOT / "reports",
                                                      paths.PROJ_ROOT.parent / "reports")}

    # JupyterLab-like: nbclient in notebooks/, default parameters
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="skr-report", timeout=600,
                   resources={"metadata": {"path": str(paths.NOTEBOOKS_DIR)}}).execute()
    scratch = reports / "_interactive" / "valfard_i_hela_landet"
    assert f"skrivs till {scratch}" in _streams(nb)
    _check_published(reports)

    # plain papermill from the project root with another kommun
    papermill.execute_notebook(NOTEBOOK, tmp_path / "run.ipynb", kernel_name="skr-report",
                               parameters={"kommun": "2463"}, cwd=str(paths.PROJ_ROOT),
                               progress_bar=False)
    assert f"skrivs till {scratch}" in _streams(nbformat.read(tmp_path / "run.ipynb", 4))
    _check_published(reports)
    csv = pd.read_csv(scratch / "tables" / "figur1.csv", dtype={"kommun": str})
    assert set(csv.loc[csv["vald_kommun"].astype(bool), "kommun"]) == {"2463"}
    assert (scratch / "figures" / "figur1.png").is_file()
    assert {folder: _state(folder) for folder in checkout} == checkout  # checkout untouched
