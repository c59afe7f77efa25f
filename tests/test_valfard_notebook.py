"""The "Välfärd i hela landet" notebook: committed clean, runs through papermill on the snapshot
(national and Åsele), and a bad kommun or year stops before any notebook starts."""

from __future__ import annotations

import ast

import nbformat
import pandas as pd
import pytest

from helpers import paths
from helpers.params import ParamsError, load_params

NOTEBOOK = paths.NOTEBOOKS_DIR / "valfard_i_hela_landet.ipynb"
TAGS = ["parameters", "setup", "titel", "figur1", "figur2", "figur3", "figur4", "tabell2",
        "tabell3"]
FIGURES = ["figur1", "figur2", "figur3", "figur4"]
TABLES = [*FIGURES, "tabell2", "tabell3"]


def cells_by_tag(nb) -> dict[str, nbformat.NotebookNode]:
    return {tag: cell for cell in nb.cells for tag in cell.metadata.get("tags", [])}


def test_notebook_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "skr-report"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_cells_addressed_by_tag_and_parameters_cell_defaults():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = cells_by_tag(nb)
    assert set(TAGS) <= set(cells)
    tree = ast.parse(cells["parameters"].source)
    defaults = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body}
    assert defaults == {
        "report": "valfard_i_hela_landet", "kommun": None, "year": None,
        "kommungruppering": 2023, "storleksklasser": [0, 6000, 10000, 20000, 50000, 100000],
    }
    for tag in [*FIGURES, "tabell2", "tabell3"]:  # thin: one helper call per figure/table
        assert len(cells[tag].source.splitlines()) == 1


@pytest.fixture(scope="module")
def executed(processed_data, tmp_path_factory):
    """Run the notebook with papermill for a parameter file; returns (notebook, output dir)."""
    import papermill

    runs = {}

    def run(params_file: str):
        if params_file in runs:
            return runs[params_file]
        params = load_params(paths.PARAMS_DIR / params_file)
        root = tmp_path_factory.mktemp(params.variant_name(params_file.removesuffix(".yaml")))
        executed = root / "valfard_i_hela_landet.ipynb"
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SKR_DATA_DIR", str(processed_data.parent))
            mp.setenv("SKR_REPORTS_DIR", str(root / "reports"))
            papermill.execute_notebook(
                NOTEBOOK, executed, parameters=params.model_dump(mode="json"),
                kernel_name="skr-report", cwd=str(paths.NOTEBOOKS_DIR), progress_bar=False,
            )
        out = root / "reports" / "_interactive" / "valfard_i_hela_landet"
        runs[params_file] = (nbformat.read(executed, 4), out)
        return runs[params_file]

    return run


def outputs_text_and_streams(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs) + outputs_text(cell)


def outputs_text(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts += [str(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("params_file", ["valfard.yaml", "valfard-2463.yaml"])
def test_notebook_runs_and_writes_every_output(executed, params_file):
    nb, out = executed(params_file)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    cells = cells_by_tag(nb)
    for name in FIGURES:
        assert (out / "figures" / f"{name}.png").is_file()
        images = [o for o in cells[name].outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1
        caption = images[0].metadata["skr"]
        assert (caption["kind"], caption["number"]) == ("figure", int(name[-1]))
        assert caption["alt"].startswith(f"Figur {name[-1]}: ")
        assert caption["source"] == "Källa: Kolada (RKA), egna beräkningar. Data avser 2022."
        assert caption["csv"] == f"tables/{name}.csv"
    for name in TABLES:
        assert (out / "tables" / f"{name}.csv").is_file()
    for name in ["tabell2", "tabell3"]:
        tables = [o for o in cells[name].outputs if "text/html" in o.get("data", {})]
        assert len(tables) == 1 and "<table" in tables[0].data["text/html"]
        caption = tables[0].metadata["skr"]
        assert (caption["kind"], caption["number"]) == ("table", int(name[-1]))
        assert caption["source"].startswith("Källa: Kolada (RKA), egna beräkningar.")
    # run outside skr-report: says where it wrote
    assert f"skrivs till {out}" in outputs_text_and_streams(cells["setup"])


@pytest.mark.slow
def test_kommun_variant_marks_asele(executed):
    nb, out = executed("valfard-2463.yaml")
    cells = cells_by_tag(nb)
    assert "Välfärd i hela landet: Åsele (2463)" in outputs_text(cells["titel"])
    for name in FIGURES:
        csv = pd.read_csv(out / "tables" / f"{name}.csv", dtype={"kommun": str})
        assert set(csv.loc[csv["vald_kommun"].astype(bool), "kommun"]) == {"2463"}
        assert "Åsele" in (out / "figures" / f"{name}.txt").read_text(encoding="utf-8")
    for name in ["tabell2", "tabell3"]:
        csv = pd.read_csv(out / "tables" / f"{name}.csv", dtype={"kommun": str})
        assert set(csv.loc[csv["typ"] == "kommunvarde", "kommun"]) == {"2463"}
        assert "Åsele (värde)" in outputs_text(cells[name])


@pytest.mark.slow
def test_national_variant_marks_no_kommun(executed):
    nb, out = executed("valfard.yaml")
    csv = pd.read_csv(out / "tables" / "figur1.csv", dtype={"kommun": str})
    assert not csv["vald_kommun"].astype(bool).any()
    assert "Åsele" not in outputs_text(cells_by_tag(nb)["titel"])


# --- bad parameters stop before the notebook ---------------------------------------------------


def _prepare(kolada_server, tmp_path, **overrides):
    """Validate and fetch as `skr-report run` does (the runner when present, else datasets)."""
    from helpers.kolada import KoladaClient

    client = KoladaClient(base_url=kolada_server.base_url, cache_dir=tmp_path / "raw")
    params_file = paths.PARAMS_DIR / "valfard.yaml"
    try:
        from helpers.runner import RunSettings, prepare_variant
    except ImportError:
        from helpers.datasets import prepare

        return prepare(params_file, client, tmp_path / "processed", **overrides)
    settings = RunSettings(reports_dir=tmp_path / "reports", processed_dir=tmp_path / "processed")
    return prepare_variant(params_file, client=client, settings=settings, **overrides)


@pytest.mark.slow
def test_unknown_kommun_fails_before_the_notebook(kolada_server, tmp_path):
    with pytest.raises(ParamsError, match="Closest matches"):
        _prepare(kolada_server, tmp_path, kommun="9999")
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_year_without_data_fails_before_the_notebook(kolada_server, tmp_path):
    with pytest.raises(ParamsError, match="Years with data"):
        _prepare(kolada_server, tmp_path, year=1990)
    assert not (tmp_path / "reports").exists()
