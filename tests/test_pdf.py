"""helpers.pdf: tables as data, markdown through pandoc, Typst in-process; real PDFs."""

from __future__ import annotations

import base64
import io

import pandas as pd
import pytest
from fixtures.pdf_checks import pdf_facts
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import export, pdf

SPECIALS = "# $ * _ < @ \\ ` [x](y) <b>fet</b> //"
"""Characters that mean something in Typst markup or markdown; shown literally in the PDF."""


def test_table_data_hides_a_default_index_and_keeps_a_named_one():
    plain = pd.DataFrame({"Nyckeltal": ["a", None], "Värde": ["1\u202f234,5", "−5"]})
    assert pdf.table_data(plain) == {
        "header": [["Nyckeltal", "Värde"]], "body": [["a", "1\u202f234,5"], ["", "−5"]],
        "index_columns": 0}
    assert pdf.table_data(plain, missing="saknas")["body"][1] == ["saknas", "−5"]
    named = plain.set_index("Nyckeltal")
    assert pdf.table_data(named)["header"] == [["Nyckeltal", "Värde"]]
    assert pdf.table_data(named)["index_columns"] == 1
    wide = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("A", "x"), ("A", "y")]))
    assert pdf.table_data(wide)["header"] == [["A", "A"], ["x", "y"]]


def test_table_layout_aligns_numbers_right_and_uses_smaller_type_for_many_columns():
    narrow = pdf.table_layout([["Kommun", "Invånare"]], [["Åsele", "2\u202f782"],
                                                          ["Höör", "saknas"]])
    assert narrow["right"] == [[False, True], [False, True]] and narrow["head_right"] == [
        False, True]
    assert narrow["size"] == 9.0
    wide = pdf.table_layout([list("ABCDEFGHIJKL")], [["x"] * 12])
    assert wide["size"] < 9.0


def test_markdown_goes_through_pandoc_once_and_is_cached(monkeypatch):
    import pypandoc

    calls = []
    convert = pypandoc.convert_text

    def counting(*args, **kwargs):
        calls.append(args)
        return convert(*args, **kwargs)

    monkeypatch.setattr(pypandoc, "convert_text", counting)
    pieces = ["## Rubrik ett\n\nText med *kursiv* och `tables/a.csv`.",
              "Pris 5 $ och 3 $, #tagg, <@anna>, C:\\mapp, 2 * 3 * 4.", "- en\n- två"]
    first = pdf.to_typst(pieces)
    assert len(calls) == 1  # one pandoc run for all pieces
    assert first[0].startswith("= Rubrik ett")  # "##" is the top level under the title
    assert "#emph[kursiv]" in first[0] and "\\$" in first[1] and "\\#" in first[1]
    assert pdf.to_typst(pieces) == first and len(calls) == 1  # cached


def _png(width: int = 40, height: int = 20) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#0072B2").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _notebook(caption: str, cell: str, image: str | None = None):
    figure = new_output("display_data", data={"image/png": image or _png(), "text/plain": "x"},
                        metadata=export.figure_metadata(3, caption, alt=f"Alt: {caption}",
                                                        csv="tables/figur3.csv"))
    frame = pd.DataFrame({"Kommun": [cell, "Höör"], "Värde": ["1\u202f234,5", "−5"]})
    table = new_output("display_data", data={
        "text/html": frame.to_html(index=False), "text/plain": "t",
        pdf.TABLE_MIME: pdf.table_data(frame)},
        metadata=export.table_metadata(2, caption, source="Källa: Kolada (RKA)."))
    return new_notebook(cells=[
        new_markdown_cell("## Inledning\n\nVanlig text, escaped: \\# \\* \\_ \\` \\$."),
        new_code_cell("", outputs=[figure, table]),
    ])


def _info(subtitle: str) -> export.ReportInfo:
    return export.ReportInfo(report="prov", variant="prov-0114", title="Provrapport",
                             subtitle=subtitle, dateline="Data: Kolada, hämtade 23 augusti 2024",
                             provenance={"fetched_at": "2024-08-23T10:00:00+00:00",
                                         "kpis": ["N01951"]})


@pytest.mark.slow
def test_special_characters_from_data_reach_the_pdf_literally(tmp_path):
    nb = _notebook(f"Titel {SPECIALS}", f"Kommun {SPECIALS}")
    data = export.Exporter().to_pdf(nb, _info(f"Upplands {SPECIALS} Väsby"))
    path = tmp_path / "prov.pdf"
    path.write_bytes(data)
    facts = pdf_facts(path)
    text = " ".join(facts.text.split())
    assert f"Figur 3: Titel {SPECIALS}" in text
    assert f"Tabell 2: Titel {SPECIALS}" in text
    assert f"Kommun {SPECIALS}" in text and f"Upplands {SPECIALS} Väsby" in text
    assert "Vanlig text, escaped: # * _ ` $." in text
    assert facts.figure_alts == [f"Alt: Titel {SPECIALS}"]
    assert facts.tagged and facts.lang == "sv" and facts.pdfua == "1" and facts.fonts_embedded
    assert facts.title == f"Provrapport – Upplands {SPECIALS} Väsby"


@pytest.mark.slow
def test_pdf_bytes_repeat_and_date_from_the_vintage(tmp_path):
    nb = _notebook("Titel", "Åsele")
    first = export.Exporter().to_pdf(nb, _info("Åsele"))
    assert export.Exporter().to_pdf(nb, _info("Åsele")) == first
    (tmp_path / "a.pdf").write_bytes(first)
    assert pdf_facts(tmp_path / "a.pdf").creation_date.startswith("D:20240823100000")


@pytest.mark.slow
def test_a_pdf_that_cannot_be_built_names_the_element():
    broken = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0\0\0\x0dIHDR" + b"\0" * 40).decode()
    nb = _notebook("Trasig bild", "Åsele", image=broken)
    with pytest.raises(pdf.PdfBuildError, match="Figur 3"):
        export.Exporter().to_pdf(nb, _info("Åsele"))
