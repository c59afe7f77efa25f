"""helpers.rendering.pdf_tags: row headers tagged in a real Typst PDF's structure tree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pikepdf
import pytest
from fixtures.a11y import pdf_findings
from fixtures.pdf_structure import lay_out, read_structure
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.rendering import captions, export, pdf, pdf_tags, provenance, table_data

TABLE_RULES = {"row-header-not-th", "row-group-not-th", "th-scope-wrong", "th-no-scope",
               "th-empty", "table-unnamed"}


def _table(number: int, frame: pd.DataFrame, group: str | None = None):
    return new_output("display_data", data={
        "text/html": frame.to_html(index=False), "text/plain": "t",
        table_data.TABLE_MIME: table_data.table_data(frame, group=group)},
        metadata=captions.table_metadata(number, f"Tabell nummer {number}",
                                         source="Källa: Kolada (RKA)."))


def _notebook():
    """Three tables: plain (row headers), some rows in groups (Typst leaves the group labels
    data cells), every row in a group (Typst tags the labels itself); and a parameter table."""
    plain = pd.DataFrame({"Kommun": ["Åsele", "Höör"], "Invånare": ["2\u202f782", "16\u202f950"]})
    some = pd.DataFrame({"Del": ["", "", "Kostnader", "Kostnader"],
                         "Post": ["Avgifter", "Bidrag", "Personal", "Lokaler"],
                         "Budget": ["10", "2", "−8", "−3"], "Utfall": ["9", "2", "−7", "−3"]})
    every = pd.DataFrame({"Mål": ["Mål 1", "Mål 1", "Mål 2"], "Nyckeltal": ["a", "b", "c"],
                          "Värde": ["1,0", "2,0", "3,5"]})
    return new_notebook(cells=[
        new_markdown_cell("## Tabeller\n\nTre tabeller med radrubriker."),
        new_code_cell("", outputs=[_table(1, plain), _table(2, some, "Del"),
                                   _table(3, every, "Mål")]),
    ])


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    """The small report as Typst writes it and after :func:`pdf_tags.tag_row_headers`."""
    folder = tmp_path_factory.mktemp("pdf-tags")
    seen = {}
    original = pdf.tag_row_headers

    def keep(data, shapes):
        seen["typst"], seen["shapes"] = data, shapes
        return original(data, shapes)

    info = provenance.ReportInfo(
        report="prov", variant="prov-2463", title="Provrapport", subtitle="Åsele",
        provenance={"fetched_at": "2024-08-23T10:00:00+00:00", "kpis": ["N01951"]},
        parameter_rows=[("Kommun", "Åsele (2463)"), ("År", "2024")])
    pdf.tag_row_headers = keep
    try:
        tagged = export.Exporter().to_pdf(_notebook(), info)
    finally:
        pdf.tag_row_headers = original
    paths = {"typst": folder / "typst.pdf", "tagged": folder / "tagged.pdf"}
    paths["typst"].write_bytes(seen["typst"])
    paths["tagged"].write_bytes(tagged)
    paths["shapes"] = seen["shapes"]
    return paths


def _cells(table) -> list[list]:
    rows = []
    for part in table.children:
        rows += [[(c.kind, str(c.attributes.get("Scope", ""))) for c in row.children]
                 for row in ([part] if part.kind == "TR" else part.find_all("TR"))]
    return rows


@pytest.mark.slow
def test_row_headers_are_th_with_row_scope_and_group_labels_headers(pdfs):
    typst_findings = {f.rule for f in pdf_findings(pdfs["typst"])}
    assert {"row-header-not-th", "row-group-not-th"} <= typst_findings  # what Typst alone gives
    assert [f for f in pdf_findings(pdfs["tagged"]) if f.rule in TABLE_RULES] == []

    doc = lay_out(pdfs["tagged"])
    tables = doc.root.find_all("Table")
    assert len(tables) == 4  # three tables and the parameters
    column, row, data = ("TH", "Column"), ("TH", "Row"), ("TD", "")
    assert _cells(tables[0])[1:] == [[row, data]] * 2
    assert [doc.text(r.children[0]) for r in tables[0].find_all("TR")[1:]] == ["Åsele", "Höör"]
    # some rows in a group: the label "Kostnader" was a TD, now a header like Typst's own
    assert _cells(tables[1])[1:] == [[row, data, data]] * 2 + [[column]] + [[row, data, data]] * 2
    assert _cells(tables[2])[1:] == [[column], [row, data], [row, data], [column], [row, data]]
    assert _cells(tables[3])[1:] == [[row, data]] * 2
    assert [doc.text(r.children[0]) for r in tables[3].find_all("TR")[1:]] == ["Kommun", "År"]


def _headers_and_ids(path: Path) -> tuple[list[list[str]], dict[str, str]]:
    """Every cell's /Headers (in tree order) and the IDTree (ID → element type)."""
    with pikepdf.open(path) as pdf_file:
        root = pdf_file.Root.StructTreeRoot
        ids = {str(k): str(v.S) for k, v in pikepdf.NameTree(root.IDTree).items()}
        headers = []
        for table in pdf_tags._tables(root):
            for row in pdf_tags._rows(table):
                headers += [[str(h) for h in pdf_tags._table_attributes(c).get("/Headers", [])]
                            for c in row]
    return headers, ids


@pytest.mark.slow
def test_data_cells_name_their_row_header_and_every_header_id_resolves(pdfs):
    headers, ids = _headers_and_ids(pdfs["tagged"])
    assert all(ids[h] == "/TH" for cell in headers for h in cell)
    first = lay_out(pdfs["tagged"]).root.find_all("Table")[0]
    assert {"U1x0y0", "U1x1y0"} <= set(ids)  # Typst's own IDs are kept
    assert len(first.find_all("TH")) == 2 + 2  # header row and two row headers
    # Åsele's value names the column header and its row header (the ID Typst's scheme gives)
    assert ["U1x1y0", "U1x0y1"] in headers and ["U1x1y0", "U1x0y2"] in headers
    # in Tabell 2 the rows under "Kostnader" name the label tagged here
    assert any("U2x0y3" in cell for cell in headers)


@pytest.mark.slow
def test_only_the_cells_change_appended_as_an_update_with_the_same_bytes_each_time(pdfs):
    typst, tagged = pdfs["typst"].read_bytes(), pdfs["tagged"].read_bytes()
    assert tagged.startswith(typst)  # an incremental update: Typst's file kept whole
    assert pdf_tags.tag_row_headers(typst, pdfs["shapes"]) == tagged
    before, after = read_structure(pdfs["typst"]), read_structure(pdfs["tagged"])
    assert after.all_marks() == before.all_marks()  # every MCID where it was
    assert [e.kind for e in after.walk() if e.kind not in ("TH", "TD")] == [
        e.kind for e in before.walk() if e.kind not in ("TH", "TD")]
    with pikepdf.open(pdfs["typst"]) as old, pikepdf.open(pdfs["tagged"]) as new:
        assert new.check_pdf_syntax() == []
        assert new.trailer.ID == old.trailer.ID
        was, now = old.Root.StructTreeRoot, new.Root.StructTreeRoot
        assert now.ParentTree.unparse(resolved=True) == was.ParentTree.unparse(resolved=True)
        assert now.ParentTreeNextKey == was.ParentTreeNextKey


@pytest.mark.slow
def test_a_model_table_missing_from_the_pdf_fails_loudly(pdfs):
    shapes = list(pdfs["shapes"])
    wrong = pdf_tags.TableShape("Tabell 9", 7, 1, ((False, -1),) * 3)
    with pytest.raises(pdf_tags.RowHeaderError, match="Tabell 9"):
        pdf_tags.tag_row_headers(pdfs["typst"].read_bytes(), [*shapes[:1], wrong, *shapes[1:]])


def test_model_shapes_follow_the_rows_typst_lays_out():
    model = table_data.table_data(pd.DataFrame({"Del": ["", "K", "K"], "Post": ["a", "b", "c"],
                                                "Belopp": ["1", "2", "3"]}), group="Del")
    shape = pdf_tags.model_shape("Tabell 2", pdf.table_layout(model))
    assert shape.rows == ((False, -1), (True, 1), (False, 1), (False, 1))
    assert shape.cells() == [2, 2, 1, 2, 2]
    items = [{"call": "skr-figure"}, {"call": "skr-table", "number": 2, **pdf.table_layout(model)}]
    assert [s.name for s in pdf_tags.expected_tables(items, [["Kommun", "Åsele"]])] == [
        "Tabell 2", "Parametrar"]


@pytest.mark.slow
def test_a_pdf_with_a_cross_reference_stream_is_written_whole_the_same_each_time(pdfs, tmp_path):
    """The other path: no classic cross-reference table to continue (a file qpdf wrote with
    object streams), so qpdf writes the tagged file whole, with a deterministic /ID."""
    streams = tmp_path / "streams.pdf"
    with pikepdf.open(pdfs["typst"]) as typst:
        typst.save(streams, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                   deterministic_id=True)
    data = streams.read_bytes()
    tagged = pdf_tags.tag_row_headers(data, pdfs["shapes"])
    assert not tagged.startswith(data) and tagged == pdf_tags.tag_row_headers(data, pdfs["shapes"])
    streams.write_bytes(tagged)
    assert [f for f in pdf_findings(streams) if f.rule in TABLE_RULES] == []
    assert read_structure(streams).all_marks() == read_structure(pdfs["typst"]).all_marks()
