"""helpers.rendering.notebook: one convention for every report notebook."""

from __future__ import annotations

import ast

import nbformat
import pandas as pd
import pytest

from helpers import paths
from helpers.rendering import captions, notebook

# the report modules register their models, as a notebook's import does
# the report modules register their models, as a notebook's import does
from helpers.reports import budget, valfard  # noqa: F401

REPORT_NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.fixture
def shown(monkeypatch):
    """What the notebook displays: (bundle or object, metadata) per display call."""
    calls = []

    def display(obj, raw=False, metadata=None):
        calls.append((obj, metadata))

    monkeypatch.setattr(captions, "display", display)
    monkeypatch.setattr(notebook, "display", display)
    return calls


@pytest.mark.parametrize("path", REPORT_NOTEBOOKS, ids=lambda p: p.name)
def test_every_report_notebook_follows_the_convention(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "output_dir" not in code[0].source  # the folder comes from helpers.paths
    assert "setup" in code[1].metadata.get("tags", [])
    assert "nb = notebook.start(globals())" in code[1].source
    for cell in code[2:-1]:  # then one nb.show(...) per figure, table or text
        (statement,) = ast.parse(cell.source).body
        call = statement.value
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "nb.show", cell.source
    assert code[-1].source == "nb.finish()"  # run by hand: the results replace the last run's


def test_start_outside_skr_report_writes_to_the_scratch_folder(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(paths.RUN_OUTPUT_ENV, raising=False)
    monkeypatch.setattr(paths, "INTERACTIVE_DIR", tmp_path / "reports" / "_interactive")
    monkeypatch.setattr(notebook, "ensure_data", lambda params: [])  # data: test_offline
    results = tmp_path / "reports" / "_interactive" / "budget"
    earlier = results / "tables" / "old.csv"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("från en tidigare körning\n")
    abandoned = results.parent / ".budget.999999999"  # a run whose process is gone
    abandoned.mkdir()
    nb = notebook.start({"report": "budget", "medlemsavgift_skanes_kr_per_invanare": None})
    assert nb.interactive and nb.results_dir == results and nb.output_dir != results
    assert nb.output_dir.parent == results.parent and nb.output_dir.name.startswith(".budget.")
    assert earlier.exists() and not abandoned.exists()  # kept until the run has finished
    assert f"skrivs till {results} när sista cellen har körts" in capsys.readouterr().out
    assert nb.params.medlemsavgift_familjen_helsingborg_kr_per_invanare == 21.0
    nb.show(notebook.Table(pd.DataFrame({"a": [1]}), 1, "Ett"))
    nb.finish()
    assert (results / "tables" / "tabell1.csv").is_file() and not earlier.exists()
    assert nb.output_dir == results and not list(results.parent.glob(".budget.*"))
    assert f"i {results}" in capsys.readouterr().out


def test_start_under_skr_report_writes_to_the_run_folder(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(paths.RUN_OUTPUT_ENV, str(tmp_path / "staging"))
    nb = notebook.start({"report": "valfard_i_hela_landet", "kommun": 2463})
    assert not nb.interactive and nb.output_dir == tmp_path / "staging"
    assert nb.params.kommun == "2463" and capsys.readouterr().out == ""
    nb.finish()  # under skr-report the last cell does nothing
    assert nb.output_dir == tmp_path / "staging"


def test_table_writes_its_data_and_shows_the_caption(shown, tmp_path):
    shown_frame = pd.DataFrame({"Kommun": ["Åsele"], "Invånare": ["2\u202f795"]})
    data = pd.DataFrame({"kommun": ["2463"], "befolkning": [2795]})
    nb = notebook.ReportNotebook(None, tmp_path)
    nb.show(notebook.Table(shown_frame, 5, "Befolkning", data=data, note="En *anmärkning*."))
    assert (tmp_path / "tables" / "tabell5.csv").read_text() == "kommun,befolkning\n2463,2795\n"
    (bundle, meta), (note, _) = shown
    assert meta == {"skr": {"kind": "table", "number": 5, "title": "Befolkning",
                            "csv": "tables/tabell5.csv", "xlsx": "tables/tabell5.xlsx",
                            "source": "Källa: Kolada (RKA), egna beräkningar."}}
    assert "<table" in bundle["text/html"] and note.data == "En *anmärkning*."
    # the table as shown, for Excel: the Swedish number is a number, the kommun name text
    from openpyxl import load_workbook

    from helpers.rendering.excel import HEADER_ROW
    sheet = load_workbook(tmp_path / "tables" / "tabell5.xlsx").active
    name, people = sheet[HEADER_ROW + 1]
    assert (name.value, people.value, people.data_type) == ("Åsele", 2795, "n")


def test_figure_writes_svg_pdf_png_and_alt_text_and_closes_the_figure(shown, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    nb = notebook.ReportNotebook(None, tmp_path)
    nb.show(notebook.Figure(fig, 2, "Linje", "Linjediagram som stiger.",
                            data=pd.DataFrame({"x": [1, 2]}), name="linje"), None)
    assert (tmp_path / "figures" / "linje.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "figures" / "linje.pdf").read_bytes()[:5] == b"%PDF-"
    svg = (tmp_path / "figures" / "linje.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "<text" in svg  # text kept as text
    assert (tmp_path / "figures" / "linje.txt").read_text() == "Linjediagram som stiger.\n"
    assert (tmp_path / "tables" / "linje.csv").is_file()
    assert not plt.fignum_exists(fig.number)  # not shown a second time by the inline backend
    ((bundle, meta),) = shown
    assert meta["skr"]["alt"] == "Linjediagram som stiger." and meta["skr"]["number"] == 2
    assert meta["skr"]["csv"] == "tables/linje.csv" and bundle["image/svg+xml"] == svg
    assert meta["skr"]["files"] == ["figures/linje.svg", "figures/linje.pdf", "figures/linje.png"]
    assert meta["skr"]["width_mm"] == round(6.4 * 25.4, 2)  # the figure's own width
    assert not list((tmp_path / "figures").glob("*.xlsx"))  # a figure's data stay CSV only
