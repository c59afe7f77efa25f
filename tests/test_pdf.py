"""helpers.rendering.pdf: tables as data, markdown through pandoc, Typst in-process; real PDFs."""

from __future__ import annotations

import base64
import io
import subprocess

import pandas as pd
import pytest
from fixtures.pdf_checks import pdf_facts
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.rendering import captions, export, markdown, pdf, provenance, table_data

SPECIALS = "# $ * _ < @ \\ ` [x](y) <b>fet</b> //"
"""Characters that mean something in Typst markup or markdown; shown literally in the PDF."""


def test_table_data_hides_a_default_index_and_keeps_a_named_one():
    plain = pd.DataFrame({"Nyckeltal": ["a", None], "Värde": ["1\u202f234,5", "−5"]})
    assert table_data.table_data(plain) == {
        "header": [["Nyckeltal", "Värde"]], "body": [["a", "1\u202f234,5"], ["", "−5"]],
        "index_columns": 1, "align": ["left", "right"], "groups": []}
    assert table_data.table_data(plain, missing="saknas")["body"][1] == ["saknas", "−5"]
    named = plain.set_index("Nyckeltal")
    assert table_data.table_data(named)["header"] == [["Nyckeltal", "Värde"]]
    assert table_data.table_data(named)["index_columns"] == 1
    # one header row: MultiIndex levels joined, the corner named by columns.name
    wide = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("A", "x"), ("A", "y")]))
    assert table_data.table_data(wide)["header"] == [["A x", "A y"]]
    years = pd.DataFrame({"S13": ["68,8"]}, index=pd.Index(["1995"])).rename_axis(
        columns="År")
    assert table_data.table_data(years)["header"] == [["År", "S13"]]


def test_table_model_groups_rows_drops_empty_columns_and_aligns_by_column():
    frame = pd.DataFrame({"Mål": ["Mål 1", "Mål 1", "Mål 2"], "Nyckeltal": ["a", "b", "c"],
                          "Rang": ["3 av 290", "saknas", "1 av 290"], "Värde": ["1,0", "", "2,5"],
                          "Bedömning": ["", "", ""], "Status": ["i Kolada", "12", "i Kolada"]})
    model = table_data.table_data(frame, group="Mål")
    assert model["header"] == [["Nyckeltal", "Rang", "Värde", "Status"]]  # Bedömning: empty
    assert model["groups"] == [[0, "Mål 1"], [2, "Mål 2"]]
    assert model["align"] == ["left", "right", "right", "left"]
    assert model["index_columns"] == 1
    # headers break only between words
    assert table_data.keep_together("Förändring 2023–2024") == "Förändring 2023\u2060–\u20602024"
    assert table_data.keep_together("K − M") == "K\u00a0−\u00a0M"


def test_table_layout_keeps_the_model_and_uses_smaller_type_for_many_columns():
    model = table_data.table_data(pd.DataFrame({"Kommun": ["Åsele", "Höör"],
                                                "Invånare": ["2\u202f782", "saknas"]}))
    narrow = pdf.table_layout(model)
    assert narrow["align"] == ["left", "right"] and narrow["header"] == ["Kommun", "Invånare"]
    assert narrow["size"] == 9.0 and narrow["index_columns"] == 1 and narrow["groups"] == []
    wide = pdf.table_layout({"header": [list("ABCDEFGHIJKL")], "body": [["x"] * 12]})
    assert wide["size"] < 9.0 and wide["align"] == ["left"] * 12


def test_markdown_goes_through_pandoc_once_and_is_cached(monkeypatch):
    calls = []
    convert = markdown._pandoc

    def counting(*args, **kwargs):
        calls.append(args)
        return convert(*args, **kwargs)

    monkeypatch.setattr(markdown, "_pandoc", counting)
    pieces = ["## Rubrik ett\n\nText med *kursiv* och `tables/a.csv`.",
              "Pris 5 $ och 3 $, #tagg, <@anna>, C:\\mapp, 2 * 3 * 4.", "- en\n- två"]
    first = markdown.markdown_to_typst(pieces)
    assert len(calls) == 1  # one pandoc run for all pieces
    assert first[0].startswith("= Rubrik ett")  # "##" is the top level under the title
    assert "#emph[kursiv]" in first[0] and "\\$" in first[1] and "\\#" in first[1]
    assert markdown.markdown_to_typst(pieces) == first and len(calls) == 1  # cached


def _png(width: int = 40, height: int = 20) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#0072B2").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _notebook(caption: str, cell: str, image: str | None = None):
    figure = new_output("display_data", data={"image/png": image or _png(), "text/plain": "x"},
                        metadata=captions.figure_metadata(3, caption, alt=f"Alt: {caption}",
                                                        csv="tables/figur3.csv"))
    frame = pd.DataFrame({"Kommun": [cell, "Höör"], "Värde": ["1\u202f234,5", "−5"]})
    table = new_output("display_data", data={
        "text/html": frame.to_html(index=False), "text/plain": "t",
        table_data.TABLE_MIME: table_data.table_data(frame)},
        metadata=captions.table_metadata(2, caption, source="Källa: Kolada (RKA)."))
    return new_notebook(cells=[
        new_markdown_cell("## Inledning\n\nVanlig text, escaped: \\# \\* \\_ \\` \\$."),
        new_code_cell("", outputs=[figure, table]),
    ])


def _info(subtitle: str) -> provenance.ReportInfo:
    return provenance.ReportInfo(report="prov", variant="prov-0114", title="Provrapport",
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


# --- real reports, built as a user builds them -------------------------------------------------


@pytest.fixture(scope="module")
def built_reports(kolada_server, tmp_path_factory):
    """``skr-report run`` of the Välfärd (Åsele) and Agenda 2030 (Höör) parameter files, HTML
    and PDF, against the replay server into temporary data and reports folders."""
    import os
    import sys
    from pathlib import Path

    from helpers import paths

    root = tmp_path_factory.mktemp("reports")
    env = {**os.environ, "KOLADA_BASE_URL": kolada_server.base_url,
           "EUROSTAT_BASE_URL": kolada_server.eurostat_base_url,
           "SKR_DATA_DIR": str(root / "data"), "SKR_REPORTS_DIR": str(root / "reports")}
    skr_report = Path(sys.executable).with_name("skr-report")
    for params_file in ("valfard-2463.yaml", "agenda2030.yaml"):
        done = subprocess.run([str(skr_report), "run", str(paths.PARAMS_DIR / params_file),
                               "--format", "html,pdf"], cwd=paths.PROJ_ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr + done.stdout
    return root / "reports"


@pytest.mark.slow
def test_valfard_pdf_is_accessible_and_agrees_with_the_html(built_reports):
    import re

    from fixtures.pdf_checks import text_outside_margins

    out = built_reports / "valfard-2463"
    path = out / "valfard_i_hela_landet.pdf"
    facts = pdf_facts(path)
    assert facts.tagged and facts.lang == "sv" and facts.pdfua == "1" and facts.a4
    assert facts.display_doc_title and facts.title.startswith("Välfärd i hela landet")
    assert facts.fonts_embedded
    html = (out / "valfard_i_hela_landet.html").read_text(encoding="utf-8")
    html_alts = [a.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                 .replace("&gt;", ">") for a in re.findall(r'<img alt="([^"]*)"', html)]
    # figures 1–4, Figur 5 (debt, beside Tabell 1) and the heatmaps of Tabell 2–3 (Figur 6–7)
    assert len(facts.figure_alts) == 7 and facts.figure_alts == html_alts
    html_headings = [re.sub(r"<[^>]+>", "", h).strip() for h in
                     re.findall(r'<h2 id="[^"]*">(.*?)(?:<a class="anchor-link"|</h2>)', html)]
    assert facts.bookmarks == html_headings  # the same headings, provenance last
    assert html_headings[-1] == "Om rapporten: data och versioner"
    assert facts.header_cells >= 10  # header rows of Tabell 2, 3 and the statements
    text = " ".join(facts.text.split())
    for needle in ("Innehåll", "Figur 1:", "Figur 4:", "Tabell 2:", "Tabell 3:",
                   "Källa: Kolada", "Tabell 5: Åseles värden för variablerna i tabell 2 och 3",
                   "Om rapporten: data och versioner"):
        assert needle in text, needle
    assert "Om rapporten" in facts.last_page_text
    assert text_outside_margins(path) == []
    # one type family; the figures are vector with their text kept as text (issue 16)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    families = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:] if line}
    assert families and all(f.startswith("DejaVuSans") for f in families), families
    for needle in ("Gruppens medelvärde", "Medelvärde alla kommuner (ovägt)",
                   "Åsele (C8 Landsbygdskommun)", "Åsele: värde saknas", "Pearsons r",
                   "Figuren som fil: figures/figur1.svg · .pdf · .png"):
        assert needle in text, needle


@pytest.mark.slow
def test_agenda2030_pdf_fits_its_wide_tables_in_about_a_dozen_pages(built_reports):
    from fixtures.pdf_checks import text_outside_margins

    path = built_reports / "agenda2030-1267" / "agenda2030.pdf"
    facts = pdf_facts(path)
    assert facts.tagged and facts.pdfua == "1" and facts.a4
    assert 8 <= facts.pages <= 14  # was 43 pages with xelatex
    assert facts.landscape_pages  # the selection and nulägesanalys tables are turned
    assert text_outside_margins(path) == []  # no column cut at the page edge
    nulage = [n for n in facts.landscape_pages if "Percentil" in facts.page_texts[n - 1]]
    assert nulage, "the nulägesanalys table is on landscape pages"
    # its header row repeats on every page of the table
    assert all("Nyckeltal" in facts.page_texts[n - 1] for n in nulage)
    # the goals are row groups; the Nyckeltal column (the row header, first) is wide enough
    # for a title on one or two lines, not one syllable
    first = " ".join(facts.page_texts[nulage[0] - 1].replace("\u2060", "").split())
    assert "Mål 1: Ingen fattigdom" in first
    assert "Invånare, 0–19 år, med låg ekonomisk standard, andel (%) N66077 2022" in first


def test_html_tables_without_the_data_bundle_are_read_with_a_real_parser():
    frame = pd.DataFrame({"Kommun": ["Åsele & <b>", "Höör"], "Värde": ["1\u202f234,5", "−5"]})
    # the default index is left out
    assert table_data.html_table_data(frame.to_html()) == table_data.table_data(frame)
    named = frame.set_index("Kommun")
    assert table_data.html_table_data(named.to_html())["header"] == [["Kommun", "Värde"]]
    assert table_data.html_table_data(named.to_html())["body"][0] == ["Åsele & <b>", "1\u202f234,5"]


@pytest.mark.slow
def test_what_would_break_pdf_ua_fails_loudly_naming_it():
    from nbformat.v4 import new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell("## Avsnitt\n\n#### Underrubrik utan mellannivå")])
    with pytest.raises(pdf.PdfBuildError, match="PDF/UA-1") as caught:
        export.Exporter().to_pdf(nb, _info("Åsele"))
    assert "Underrubrik utan mellannivå" in str(caught.value)  # the heading, as written


@pytest.mark.slow
def test_an_svg_figure_stays_vector_with_its_alt_text(tmp_path):
    import matplotlib

    matplotlib.use("agg")
    from matplotlib.figure import Figure
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    figure = Figure(figsize=(4, 3))
    figure.subplots().plot([1, 3, 2])
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    output = new_output("display_data", data={"image/svg+xml": buffer.getvalue(),
                                              "text/plain": "x"},
                        metadata=captions.figure_metadata(1, "Linje", alt="En linje upp och ned."))
    data = export.Exporter().to_pdf(new_notebook(cells=[new_code_cell("", outputs=[output])]),
                                    _info("Åsele"))
    (tmp_path / "svg.pdf").write_bytes(data)
    facts = pdf_facts(tmp_path / "svg.pdf")
    assert facts.figure_alts == ["En linje upp och ned."]
    import pikepdf

    with pikepdf.open(tmp_path / "svg.pdf") as document:  # drawn as paths, not as pixels
        images = [x for page in document.pages for x in page.get_images()]
    assert images == []
