"""The budget and Agenda 2030 notebooks: committed clean, and run through papermill on the
snapshot (replay server → client → processed data) without cell errors."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from helpers.paths import NOTEBOOKS_DIR
from helpers.reports import agenda2030, budget

NOTEBOOKS = ["budget.ipynb", "agenda2030.ipynb"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_committed_clean(name):
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "skr-report"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert all(c.metadata.get("tags") for c in code), "every code cell is tagged"


@pytest.mark.parametrize(("name", "model"), [("budget.ipynb", budget.BudgetParams),
                                             ("agenda2030.ipynb", agenda2030.Agenda2030Params)])
def test_parameters_cell_names_every_field(name, model):
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(cell.source, namespace)
    assert set(model.model_fields) == set(namespace) - {"__builtins__"}


@pytest.fixture(scope="module")
def data_dir(kolada_server, tmp_path_factory):
    """``SKR_DATA_DIR`` with processed data for the budget and both Agenda 2030 levels."""
    from helpers.datasets import fetch_for
    from helpers.sources.kolada import KoladaClient

    root = tmp_path_factory.mktemp("notebook_data")
    client = KoladaClient(base_url=kolada_server.base_url, cache_dir=root / "raw" / "kolada")
    processed = root / "processed"
    fetch_for(budget.BudgetParams(report="budget", medlemsavgift_skanes_kr_per_invanare=None),
              client, processed)
    for level, unit in (("kommun", "1267"), ("region", "0012")):
        params = agenda2030.Agenda2030Params(report="agenda2030", level=level, kommun=unit)
        fetch_for(params, client, processed)
        params.prepare_data(client, processed)
    return root


def _run(name, parameters, tmp_path, data_dir, monkeypatch):
    import papermill

    monkeypatch.setenv("SKR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SKR_REPORTS_DIR", str(tmp_path / "reports"))
    output_dir = tmp_path / "reports" / "_interactive" / parameters["report"]
    out = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / name), str(out), kernel_name="skr-report", parameters=parameters,
        cwd=str(NOTEBOOKS_DIR), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    return nb, output_dir


@pytest.mark.slow
def test_budget_notebook_runs_without_skanes_fee(data_dir, tmp_path, monkeypatch):
    params = budget.BudgetParams(report="budget", medlemsavgift_skanes_kr_per_invanare=None)
    nb, out = _run("budget.ipynb", params.model_dump(mode="json"), tmp_path, data_dir,
                   monkeypatch)
    tables = sorted(p.name for p in (out / "tables").iterdir())
    assert tables == ["budget_skr.csv", "budget_skr.xlsx", "budget_skr_kontroll.csv",
                      "budget_skr_kontroll.xlsx", "medlemsavgift_familjen_helsingborg.csv",
                      "medlemsavgift_familjen_helsingborg.xlsx"]
    text = "".join(str(o.get("data", {}).get("text/markdown", ""))
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Ingen avgift angiven" in text and "6 publicerade summor" in text


@pytest.mark.slow
def test_budget_notebook_with_skanes_fee(data_dir, tmp_path, monkeypatch):
    params = budget.BudgetParams(report="budget", kommun="1267",
                                 medlemsavgift_skanes_kr_per_invanare=10.0,
                                 medlemsavgift_skanes_index_procent=2.0)
    _, out = _run("budget.ipynb", params.model_dump(mode="json"), tmp_path, data_dir,
                  monkeypatch)
    table = pd.read_csv(out / "tables" / "medlemsavgift_skanes_kommuner.csv")
    assert len(table) == 34  # 33 kommuner and Summa


@pytest.mark.slow
@pytest.mark.parametrize(("level", "unit", "liknande"), [("kommun", "1267", "G37411"),
                                                          ("region", "0012", "socioekonomi")])
def test_agenda_notebook_runs(data_dir, tmp_path, monkeypatch, level, unit, liknande):
    params = agenda2030.Agenda2030Params(report="agenda2030", level=level, kommun=unit,
                                         liknande=liknande,
                                         onskad_riktning={"N00401": "lägre"})
    _, out = _run("agenda2030.ipynb", params.model_dump(mode="json"), tmp_path, data_dir,
                  monkeypatch)
    assert (out / "tables" / "agenda2030_urval.csv").exists()
    nulage = pd.read_csv(out / "tables" / "agenda2030_nulage.csv", dtype={"enhet": str})
    assert set(nulage["enhet"]) == {unit}
    assert (out / "figures" / "agenda2030_nulage_figur.png").exists()
