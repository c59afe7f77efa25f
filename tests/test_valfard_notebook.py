"""The "Välfärd i hela landet" notebook: committed clean, runs through papermill on the snapshot
(national and Åsele), and a bad kommun or year stops before any notebook starts."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers import paths
from helpers.build.parameters import load_params
from helpers.params import ParamsError

NOTEBOOK = paths.NOTEBOOKS_DIR / "valfard_i_hela_landet.ipynb"
TAGS = ["parameters", "setup", "titel", "figur1", "figur2", "figur3", "figur4", "tabell1",
        "tabell1_diagram", "tabell2", "tabell2_diagram", "tabell3", "tabell3_diagram"]
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
        "skuld_geo": "SE", "skuld_sektorer": ["S13", "S1311", "S1313"], "skuld_ar": None,
    }
    for tag in [*FIGURES, "tabell1", "tabell1_diagram", "tabell2", "tabell2_diagram", "tabell3",
                "tabell3_diagram"]:  # thin: one helper call per figure/table
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
    return "\n".join(parts).replace("\u2060", "")  # what a reader reads: no word joiners


@pytest.mark.slow
@pytest.mark.parametrize("params_file", ["valfard.yaml", "valfard-2463.yaml"])
def test_notebook_runs_and_writes_every_output(executed, params_file):
    nb, out = executed(params_file)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    cells = cells_by_tag(nb)
    for name in FIGURES:
        for suffix in ("svg", "pdf", "png", "txt"):
            assert (out / "figures" / f"{name}.{suffix}").is_file()
        images = [o for o in cells[name].outputs if "image/svg+xml" in o.get("data", {})]
        assert len(images) == 1
        caption = images[0].metadata["skr"]
        assert caption["width_mm"] == 160.0
        assert caption["files"] == [f"figures/{name}.{s}" for s in ("svg", "pdf", "png")]
        assert (caption["kind"], caption["number"]) == ("figure", int(name[-1]))
        assert 100 < len(caption["alt"]) <= 250 and "störst skillnad för" in caption["alt"]
        # the long description follows, marked as figure N's (the HTML links the image to it)
        described = [o for o in cells[name].outputs
                     if o.get("metadata", {}).get("skr", {}).get("kind") == "description"]
        assert [o.metadata["skr"]["number"] for o in described] == [int(name[-1])]
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
        assert "Åseles egna värden för variablerna står i tabell 5" in outputs_text(cells[name])
    # the kommun's own values, each in its unit, in a table of their own at the end
    own = outputs_text(cells["egna-varden"])
    assert "Tabell 5:" in own and "Åseles värden för variablerna i tabell 2 och 3" in own
    csv = pd.read_csv(out / "tables" / "tabell5.csv", dtype={"kommun": str})
    assert set(csv["kommun"]) == {"2463"} and "enhet" in csv.columns


@pytest.mark.slow
def test_national_variant_marks_no_kommun(executed):
    nb, out = executed("valfard.yaml")
    csv = pd.read_csv(out / "tables" / "figur1.csv", dtype={"kommun": str})
    assert not csv["vald_kommun"].astype(bool).any()
    assert "Åsele" not in outputs_text(cells_by_tag(nb)["titel"])
    assert "Tabell 5" not in outputs_text(cells_by_tag(nb)["egna-varden"])


# --- bad parameters stop before the notebook ---------------------------------------------------


def _prepare(kolada_server, tmp_path, **overrides):
    """Read, validate and fetch as `skr-report run` does."""
    from helpers.build.parameters import read_params
    from helpers.build.runner import prepare_variant
    from helpers.build.variant import RunSettings
    from helpers.sources.eurostat import EurostatClient
    from helpers.sources.kolada import KoladaClient

    params_file = read_params(paths.PARAMS_DIR / "valfard.yaml", **overrides)
    settings = RunSettings(reports_dir=tmp_path / "reports", processed_dir=tmp_path / "processed")
    with KoladaClient(base_url=kolada_server.base_url, cache_dir=tmp_path / "raw") as client, \
            EurostatClient(kolada_server.eurostat_base_url, cache_dir=tmp_path / "raw") as eurostat:
        return prepare_variant(params_file, client=client, eurostat_client=eurostat,
                               settings=settings)


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


# --- Tabell 1 (Eurostat) and the Bilaga 1 heatmaps ---------------------------------------------


def _image(cell):
    images = [o for o in cell.outputs if "image/svg+xml" in o.get("data", {})]
    assert len(images) == 1
    return images[0].metadata["skr"]


@pytest.mark.slow
@pytest.mark.parametrize("params_file", ["valfard.yaml", "valfard-2463.yaml"])
def test_tabell1_from_eurostat_with_figure_and_statement(executed, params_file):
    nb, out = executed(params_file)
    cells = cells_by_tag(nb)
    table = pd.read_csv(out / "tables" / "tabell1.csv").set_index("ar")
    assert list(table.columns) == ["geo", "S13", "S1311", "S1313"]
    assert table.index.tolist() == list(range(1995, 2025))  # every year with data
    assert table.loc[2024, ["S13", "S1311", "S1313"]].tolist() == [34.0, 20.2, 14.3]
    assert table.loc[:2020, ["S1311", "S1313"]].isna().all().all()  # never filled in
    tables = [o for o in cells["tabell1"].outputs if "text/html" in o.get("data", {})]
    caption = tables[0].metadata["skr"]
    assert (caption["kind"], caption["number"]) == ("table", 1)
    assert caption["title"].startswith("Den offentliga skulden som andel av BNP")
    assert caption["source"] == "Källa: Eurostat (gov_10dd_edpt1)."
    assert caption["csv"] == "tables/tabell1.csv"
    html = tables[0].data["text/html"]
    assert "34,0" in html and "14,3" in html and "–" in html
    note = outputs_text(cells["tabell1"])
    assert "staten (S1311) och kommunsektorn (S1313) 2021–2024" in note
    assert "summerar inte till S13" in note
    figure = _image(cells["tabell1_diagram"])
    assert figure["number"] == 5
    assert figure["alt"].startswith("Linjediagram, bruttoskuld i procent av BNP för SE")
    assert "kommunsektorn (S1313) 13,1 år 2021 och 14,3 år 2024" in figure["alt"]
    assert len(figure["alt"]) <= 250
    assert (out / "figures" / "figur5.svg").is_file() and (out / "figures" / "figur5.png").is_file()
    claims = pd.read_csv(out / "tables" / "pastaenden.csv")
    row = claims[claims["Påstående i rapporten"].str.startswith("Kommunernas låneskuld")]
    assert row["Stöds av data"].tolist() == ["ja"]
    assert "13,1 procent av BNP 2021 → 14,3 procent 2024" in row["Underlag"].iloc[0]
    for number, figure_number in ((2, 6), (3, 7)):
        assert (out / "figures" / f"figur{figure_number}.svg").is_file()
        heat = _image(cells[f"tabell{number}_diagram"])
        assert heat["number"] == figure_number
        assert heat["alt"].startswith(f"Värmekarta över korrelationerna i tabell {number}")
        assert "Starkast samband har " in heat["alt"] and "," in heat["alt"]  # decimal comma
        assert len(heat["alt"]) <= 250


def _prepare_with_eurostat(kolada_server, tmp_path, **overrides):
    from helpers.build.parameters import read_params
    from helpers.build.runner import prepare_variant
    from helpers.build.variant import RunSettings
    from helpers.sources.eurostat import EurostatClient
    from helpers.sources.kolada import KoladaClient

    client = KoladaClient(base_url=kolada_server.base_url, cache_dir=tmp_path / "raw")
    eurostat = EurostatClient(kolada_server.eurostat_base_url, cache_dir=tmp_path / "raw")
    tmp_path.mkdir(parents=True, exist_ok=True)
    params_file = tmp_path / "valfard.yaml"
    text = (paths.PARAMS_DIR / "valfard.yaml").read_text(encoding="utf-8")
    params_file.write_text(text + "".join(f"{k}: {v}\n" for k, v in overrides.items()),
                           encoding="utf-8")
    settings = RunSettings(reports_dir=tmp_path / "reports", processed_dir=tmp_path / "processed")
    return prepare_variant(read_params(params_file), client=client, settings=settings,
                           eurostat_client=eurostat)


def test_unknown_sector_stops_before_anything_is_fetched(kolada_server, tmp_path):
    before = kolada_server.request_count
    with pytest.raises(ParamsError) as err:
        _prepare_with_eurostat(kolada_server, tmp_path, skuld_sektorer="[S13, S99]")
    message = str(err.value)
    assert "skuld_sektorer" in message and "S99" in message
    assert "S1311 staten" in message and "S1313 kommunsektorn" in message
    assert kolada_server.request_count == before and not (tmp_path / "processed").exists()


@pytest.mark.slow
def test_unknown_geo_or_year_stops_before_the_notebook_naming_the_allowed(kolada_server,
                                                                          tmp_path):
    with pytest.raises(ParamsError) as err:
        _prepare_with_eurostat(kolada_server, tmp_path / "geo", skuld_geo="XX")
    assert "skuld_geo" in str(err.value) and "SE, SI, SK" in str(err.value)
    assert not (tmp_path / "geo" / "processed" / "eurostat").exists()
    with pytest.raises(ParamsError, match="Years with data: 1995–2024"):
        _prepare_with_eurostat(kolada_server, tmp_path / "year", skuld_ar="[1990, 2024]")
    variant = _prepare_with_eurostat(kolada_server, tmp_path / "ok", skuld_ar="[2021, 2024]")
    assert variant.eurostat == ["gov_10dd_edpt1"]
    assert variant.source["eurostat"]["snapshot"] is True
    assert not (tmp_path / "ok" / "reports").exists()


@pytest.mark.slow
@pytest.mark.parametrize("args, variant", [([], "valfard"), (["--kommun", "2463"], "valfard-2463")])
def test_skr_report_run_builds_tabell1_in_html_and_pdf(kolada_server, tmp_path, args, variant):
    """As a user runs it: the CLI against the replay server (Kolada and Eurostat), HTML + PDF."""
    import os
    import subprocess
    import sys

    from pypdf import PdfReader

    env = {**os.environ, "KOLADA_BASE_URL": kolada_server.base_url,
           "EUROSTAT_BASE_URL": kolada_server.eurostat_base_url,
           "SKR_DATA_DIR": str(tmp_path / "data"), "SKR_REPORTS_DIR": str(tmp_path / "reports")}
    skr_report = Path(sys.executable).with_name("skr-report")
    done = subprocess.run([str(skr_report), "run", str(paths.PARAMS_DIR / "valfard.yaml"), *args,
                           "--format", "html,pdf"], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "reports" / variant
    html = (out / "valfard_i_hela_landet.html").read_text(encoding="utf-8")
    pdf = " ".join(" ".join(page.extract_text() or "" for page in
                            PdfReader(out / "valfard_i_hela_landet.pdf").pages).split())
    for text in (html, pdf):
        assert "Tabell 1: Den offentliga skulden som andel av BNP" in text
        assert "Källa: Eurostat (gov_10dd_edpt1)" in text
        assert "Figur 5: Offentlig bruttoskuld i procent av BNP" in text
        assert "inspelad kopia av Eurostats fil gov_10dd_edpt1.tsv.gz" in text
        assert "inspelade augusti 2024" in text and "scraped" not in text
    assert all(value in html for value in ("34,0", "20,2", "14,3"))
    assert (out / "tables" / "tabell1.csv").is_file()
