"""Notebooks run by hand just work (issue 19): their parameter cells are their parameter files,
one kernel name, `make lab` at the project root; on a fresh copy of the project with both APIs
unreachable and no server started, nbclient runs each notebook from the recordings; a run that
fails leaves the previous results in place."""

from __future__ import annotations

import ast
import hashlib
import shutil
import socket
import subprocess

import nbformat
import pytest
from conftest import require_shared
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers import paths
from helpers.build.parameters import load_params
from helpers.build.variant import KERNEL_DISPLAY_NAME, KERNEL_NAME

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))


def _parameters(nb) -> dict:
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {statement.targets[0].id: ast.literal_eval(statement.value)
            for statement in ast.parse(cell.source).body}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_parameters_cell_is_the_parameter_file(path):
    nb = nbformat.read(path, as_version=4)
    params_file = paths.PROJ_ROOT / nb.metadata["skr"]["params"]
    expected = load_params(params_file).model_dump(mode="json")
    assert _parameters(nb) == expected, f"{path.name}: run scripts? compare with {params_file}"
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
    assert nb.metadata["kernelspec"]["display_name"] == KERNEL_DISPLAY_NAME


def test_one_kernel_and_lab_at_the_project_root():
    makefile = (paths.PROJ_ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"KERNEL := {KERNEL_NAME}\n" in makefile
    assert f"KERNEL_DISPLAY := {KERNEL_DISPLAY_NAME}\n" in makefile
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    lab = subprocess.run(["make", "-n", "lab"], cwd=paths.PROJ_ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "--ServerApp.root_dir=. " in lab and "/lab/tree/notebooks" in lab
    assert "--notebook-dir" not in lab


@pytest.fixture
def fresh_project(tmp_path, monkeypatch):
    """A fresh copy of the project (what a clone has: params/, notebooks/, data/raw/skr/) with
    no data and no reports; both APIs at a port nobody listens on; no server started."""
    require_shared("kolada/values.csv.gz", "eurostat/gov_10dd_edpt1.tsv.gz")
    root = tmp_path / "clone"
    for folder in ("params", "notebooks", "data/raw/skr"):
        shutil.copytree(paths.PROJ_ROOT / folder, root / folder)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name in ("SKR_DATA_DIR", "SKR_REPORTS_DIR", paths.RUN_OUTPUT_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SKR_PROJ_ROOT", str(root))
    monkeypatch.setenv("SKR_SHARED_DIR", str(paths.SHARED_DIR))
    monkeypatch.setenv("KOLADA_BASE_URL", f"http://127.0.0.1:{port}/v3")
    monkeypatch.setenv("EUROSTAT_BASE_URL", f"http://127.0.0.1:{port}/eurostat/api/dissemination")
    return root


def _execute(path, root):
    """Execute as JupyterLab does: the notebook's folder as working directory, its kernel."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=nb.metadata["kernelspec"]["name"], timeout=900,
                   resources={"metadata": {"path": str(root / "notebooks")}}).execute()
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream")


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_every_notebook_runs_by_hand_on_a_fresh_copy(fresh_project):
    root = fresh_project
    fetched = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        said = _execute(path, root)
        results = root / "reports" / "_interactive" / path.stem
        if "Data för rapporten hämtades" in said:  # unless an earlier one fetched its data
            assert "- Kolada: inspelningen i" in said, said
            fetched.append(path.stem)
        assert f"i {results}." in said  # nb.finish(): where the results are
        assert any((results / "tables").glob("*.csv")), path.name
    assert fetched[0] == "agenda2030" and "valfard_i_hela_landet" in fetched
    assert not [p for p in (root / "reports").iterdir() if p.name != "_interactive"]
    assert not list((root / "reports" / "_interactive").glob(".*"))  # no scratch left


@pytest.mark.slow
def test_a_failed_run_leaves_the_previous_results(fresh_project):
    root = fresh_project
    path = root / "notebooks" / "budget.ipynb"
    _execute(path, root)
    results = root / "reports" / "_interactive" / "budget"
    before, folder = _digests(results), results.stat().st_ino
    assert before and (root / "data" / "processed" / "prepared").is_dir()

    nb = nbformat.read(path, as_version=4)
    failing = nbformat.v4.new_code_cell('raise RuntimeError("avbruten körning")')
    failing.pop("id")  # the notebooks are nbformat 4.4, without cell ids
    nb.cells.insert(-1, failing)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += '\nkommun = "1283"'  # another run, which writes other tables
    nbformat.write(nb, path)
    with pytest.raises(CellExecutionError, match="avbruten körning"):
        _execute(path, root)
    assert _digests(results) == before and results.stat().st_ino == folder
    # the failed run had put its data in place: the next one fetches nothing
    nb = nbformat.read(path, as_version=4)
    nb.cells.pop(-2)
    nbformat.write(nb, path)
    said = _execute(path, root)
    assert "Data för rapporten hämtades" not in said
    assert results.stat().st_ino != folder  # this run's results took the place of the first's
