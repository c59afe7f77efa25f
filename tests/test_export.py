"""helpers.rendering.export: cleaning, captions, sanitising, TOC; fixture HTML and PDF."""

from __future__ import annotations

import base64
import io
import json
import re

import nbformat
import pytest
from fixtures.fixture_report import fixture_settings, fixture_variant
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import formatting, paths
from helpers.build import index
from helpers.build.manifest import sha256_file, write_manifest
from helpers.rendering import captions, cleaning, html, provenance


def _png(text: bool = True) -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Software", "matplotlib 9.9")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def test_strip_png_metadata_drops_text_chunks_and_keeps_the_image():
    raw = _png()
    assert b"tEXt" in raw
    stripped = captions.strip_png_metadata(raw)
    assert b"tEXt" not in stripped and b"matplotlib" not in stripped
    from PIL import Image

    assert Image.open(io.BytesIO(stripped)).size == (4, 4)
    assert captions.strip_png_metadata(b"not a png") == b"not a png"


def _executed_notebook() -> nbformat.NotebookNode:
    png = base64.b64encode(_png()).decode()
    nb = new_notebook(metadata={"papermill": {"start_time": "2026-01-01T00:00:00",
                                              "input_path": "/abs/in.ipynb",
                                              "parameters": {"kommun": "2463"}}})
    cell = new_code_cell("x", metadata={"papermill": {"duration": 1.2}, "tags": ["figur1"]},
                         execution_count=7)
    cell.outputs = [
        new_output("stream", name="stderr", text="/abs/path/warning.py:1: Warning"),
        new_output("display_data", data={"image/png": png},
                   metadata=captions.figure_metadata(3, "Spridningen av index", "Punktdiagram.",
                                                   csv="tables/figur3.csv")),
        new_output("display_data", data={"image/png": png}),  # a plain plt.show()
        new_output("display_data", data={"text/markdown": "**Tabell 5: Ingen rubrik**",
                                         "text/plain": "Tabell 5"}),
        new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>",
                                         "text/plain": "1"}),
        new_output("display_data", data={"text/html": "<table><tr><td>2</td></tr></table>",
                                         "text/plain": "2"},
                   metadata=captions.table_metadata(2, "Korrelationer")),
        new_output("display_data", data={"application/javascript": "alert(1)"}),
    ]
    setup = new_code_cell("%reset -f", metadata={"tags": ["skr-setup"]})
    nb.cells = [setup, new_markdown_cell("# Rubrik\n\nText."), cell]
    return nb


def test_clean_notebook_removes_what_varies_between_runs():
    cleaned = cleaning.clean_notebook(_executed_notebook())
    assert [c.id for c in cleaned.cells] == ["cell-0", "cell-1"]
    code = cleaned.cells[1]
    assert "papermill" not in code.metadata and code.execution_count == 1
    assert all(o.get("name") != "stderr" for o in code.outputs)
    assert len(code.outputs) == 5  # the javascript-only output is gone
    assert b"tEXt" not in base64.b64decode(code.outputs[0].data["image/png"])
    assert cleaned.metadata.papermill == {"parameters": {"kommun": "2463"}}


def test_annotate_captions_reads_only_the_caption_metadata():
    nb = cleaning.annotate_captions(cleaning.clean_notebook(_executed_notebook()))
    outputs = nb.cells[1].outputs
    figure = outputs[0].metadata["skr"]
    assert figure == {"kind": "figure", "number": 3, "title": "Spridningen av index",
                      "alt": "Punktdiagram.", "csv": "tables/figur3.csv", "anchor": "figur-3"}
    plain = outputs[1].metadata["skr"]  # an image without caption: next number, generic alt
    assert (plain["number"], plain["title"], plain["alt"]) == (4, "", "Figur 4")
    assert "text/markdown" in outputs[2].data  # a bold line is text, not a caption
    assert "skr" not in outputs[3].get("metadata", {})  # a table without caption metadata
    table = outputs[4].metadata["skr"]
    assert table == {"kind": "table", "number": 2, "title": "Korrelationer",
                     "anchor": "tabell-2"}


def test_extract_title_takes_the_first_h1_out_of_the_body():
    nb = cleaning.clean_notebook(_executed_notebook())
    assert cleaning.extract_title(nb) == "Rubrik"
    assert nb.cells[0].source == "Text."


def test_figure_is_linked_to_its_long_description(tmp_path):
    """The text under a figure (statements, group means, n) is its long description: the HTML
    image names it with aria-describedby (a screen reader reads it as the image's description),
    and the alt text stays short."""
    from helpers.rendering.export import Exporter

    png = base64.b64encode(_png(text=False)).decode()
    nb = new_notebook(cells=[new_code_cell("", outputs=[
        new_output("display_data", data={"image/png": png, "text/plain": "Figur 2"},
                   metadata=captions.figure_metadata(2, "Spridning", "Punktdiagram per grupp.")),
        new_output("display_data", data={"text/markdown": "- A1: medelvärde 27,8 (n = 3).",
                                         "text/plain": "A1"},
                   metadata=captions.description_metadata(2)),
    ])])
    nb.metadata["kernelspec"] = {"name": "skr-report", "display_name": "x", "language": "python"}
    page = Exporter().to_html(nb, provenance.ReportInfo(report="r", variant="r", title="T"))
    assert re.search(r'<img alt="Punktdiagram per grupp\." aria-describedby="figur-2-beskrivning"',
                     page)
    description = re.search(r'<div class="[^"]*skr-description[^"]*" id="figur-2-beskrivning">'
                            r'(.*?)</div>', page, re.DOTALL)
    assert description and "medelvärde 27,8 (n = 3)" in description.group(1)


def test_clean_html_escapes_scripts_and_keeps_tables():
    dirty = ('<style>td {color: red}</style><table><thead><tr><th scope="col">KPI</th></tr>'
             '</thead><tbody><tr><td onclick="x()">A<script>alert(1)</script></td></tr></tbody>'
             '</table><a href="javascript:alert(1)">x</a><img src="http://evil/x.png">')
    clean = html.clean_html(dirty)
    assert "<script" not in clean and "&lt;script&gt;" in clean
    assert "onclick" not in clean and "javascript:" not in clean and "color: red" not in clean
    assert "<img" not in clean
    assert '<th scope="col">KPI</th>' in clean and "<tbody>" in clean


def test_insert_toc_lists_headings_figures_and_tables():
    page = ('<nav><!--skr-toc--></nav><main><h2 id="A">A<a class="anchor-link" href="#A">¶</a>'
            '</h2><figure class="skr-figure" id="figur-1"><img alt="x"><figcaption>'
            '<span class="caption-label">Figur 1:</span> Titel<span>k</span></figcaption>'
            '</figure><div class="skr-table" id="tabell-2"><div class="table-wrap"><table>'
            '<caption id="c"><span class="caption-text"><span class="caption-label">Tabell 2:'
            '</span> Korrelationer</span></caption></table></div></div></main>'
            '<section class="provenance" id="om-rapporten"><h2 id="p">P</h2>')
    toc = html.insert_toc(page)
    assert '<a href="#A">A</a>' in toc and '<a href="#figur-1">Figur 1: Titel</a>' in toc
    assert '<a href="#tabell-2">Tabell 2: Korrelationer</a>' in toc
    assert '<a href="#p">' not in toc and toc.count("om-rapporten") == 2


def test_swedish_date_and_epoch():
    assert formatting.swedish_date("2024-08-23T10:00:00+00:00") == "23 augusti 2024"
    assert provenance.epoch_of("2024-08-23T10:00:00Z") == 1724407200
    assert provenance.epoch_of(None, default=5) == 5


def test_write_index_lists_variants_with_status(tmp_path):
    good = tmp_path / "valfard-2463"
    good.mkdir()
    info = provenance.ReportInfo(report="valfard_i_hela_landet", variant="valfard-2463",
                             title="Välfärd", subtitle="Åsele <b>(2463)</b>",
                             provenance={"years": [2022]})
    (good / "valfard_i_hela_landet.html").write_text("x")
    place = {"code": "2463", "name": "Åsele <b>", "label": "Åsele <b>(2463)</b>",
             "kind": "kommun", "lan": "24", "lansnamn": "Västerbottens län"}
    write_manifest(good, info, inputs_sha256="abc",
                   build={"params_file": "params/valfard.yaml", "place": place})
    status = tmp_path / ".status"
    status.mkdir()
    (status / "valfard-0114.json").write_text(json.dumps({"error": "cell 3 <failed>"}))
    page = index.write_index(tmp_path).read_text()
    assert 'href="valfard-2463/valfard_i_hela_landet.html">Webbsida (HTML)' in page
    assert "Åsele &lt;b&gt;(2463)&lt;/b&gt;" in page and "2022" in page
    assert "Västerbottens län (1)" in page
    assert "valfard-0114 (ingen version publicerad)" in page
    assert "cell 3 &lt;failed&gt;" in page and "misslyckades" in page


# --- exporting the fixture notebook -------------------------------------------------------------


@pytest.fixture(scope="module")
def built_fixture(tmp_path_factory):
    """The fixture notebook run and exported to HTML and PDF once for this module."""
    from helpers.build.runner import run_variant

    root = tmp_path_factory.mktemp("export")
    settings = fixture_settings(root)
    variant = fixture_variant(settings, root, kommun="2463")
    result = run_variant(variant, settings=settings)
    return result.out_dir


@pytest.mark.slow
def test_html_export_is_swedish_offline_and_codeless(built_fixture):
    page = (built_fixture / "fixture_report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="sv">' in page
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing loaded from the network
    # the figure as SVG, at least its printed width, in a labelled box that scrolls sideways
    # on a narrow screen, with links to its files
    assert re.search(r'<div aria-label="Figur 1[^"]*" class="figure-scroll" role="region" '
                     r'tabindex="0">\s*<img alt="Stapeldiagram[^"]*" '
                     r'(?:aria-describedby="figur-1-beskrivning" )?'
                     r'src="data:image/svg\+xml;base64,[^"]+" style="min-width: [\d.]+mm"/?>',
                     page)
    for suffix in ("svg", "pdf", "png"):
        assert f'href="figures/figur1.{suffix}">{suffix.upper()}</a>' in page
    assert '<span class="caption-label">Figur 1:</span> Värden per grupp 2022' in page
    assert '<span class="caption-label">Tabell 1:</span> Nyckeltal från Kolada' in page
    assert "Kostnad &lt;script&gt;alert(1)&lt;/script&gt; &amp; annat" in page
    assert '<a class="skr-data-link" href="tables/figur1.csv">' in page
    assert '<a href="#figur-1">Figur 1: Värden per grupp 2022</a>' in page  # table of contents
    assert "<h1 class=\"title\">Testrapport</h1>" in page and "2463" in page
    assert "Om rapporten: data och versioner" in page and "inspelad ögonblicksbild" in page
    assert "nb.show" not in page and "import " not in page  # no code
    assert "varning" not in page  # stderr is not exported
    assert "/tmp/" not in page and str(built_fixture) not in page


@pytest.mark.slow
def test_pdf_export_is_tagged_a4_swedish_with_captions(built_fixture):
    """The PDF as a secretary and a screen reader get it (pikepdf for structure, pypdf text)."""
    from fixtures.pdf_checks import pdf_facts

    path = built_fixture / "fixture_report.pdf"
    facts = pdf_facts(path)
    assert facts.tagged and facts.lang == "sv" and facts.display_doc_title
    assert facts.pdfua == "1"
    assert facts.a4 and facts.pages >= 2
    assert facts.title.startswith("Testrapport")  # the window title is the report's
    assert facts.creation_date.startswith("D:20240823100000")  # the data vintage
    html = (built_fixture / "fixture_report.html").read_text(encoding="utf-8")
    html_alts = re.findall(r'<img alt="([^"]*)"', html)
    assert facts.figure_alts == [a.replace("&quot;", '"') for a in html_alts]
    assert facts.figure_alts[0].startswith("Stapeldiagram: värdet per grupp")
    assert {"H1", "Table", "TH", "TD", "Figure", "Caption"} <= facts.structure_types
    assert facts.header_cells >= 2  # the table's header row is tagged as headers
    assert "Inledning" in facts.bookmarks and "Resultat" in facts.bookmarks
    text = facts.text
    assert "Testrapport" in text and "Innehåll" in text and "2463" in text
    assert "Figur 1: Värden per grupp 2022" in text
    assert "Tabell 1: Nyckeltal från Kolada" in text
    assert "Kostnad <script>alert(1)</script> & annat" in text  # data shown literally
    assert "1\u202f234,5" in text or "1 234,5" in text
    assert "augusti 2024" in text  # Swedish date
    assert "Källa: Kolada" in text
    assert text.rstrip().endswith(facts.last_page_text.rstrip())
    assert "Om rapporten: data och versioner" in facts.last_page_text  # provenance last
    assert "import" not in text and "nb.show" not in text and "varning" not in text
    assert re.search(r"Resultat\s*\.[ .]*\d", text)  # the table of contents has page numbers
    assert facts.page_texts[0].rstrip().endswith("1")  # a page number in the footer


@pytest.mark.slow
def test_manifest_lists_parameters_vintage_and_sha256(built_fixture):
    manifest = json.loads((built_fixture / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["kommun"] == "2463"
    assert manifest["data"]["fetched_at"] == "2024-08-23T10:00:00+00:00"
    assert manifest["data"]["kpis"] == ["N01951"]
    assert manifest["versions"]["skr-report"]
    for name in ("fixture_report.html", "fixture_report.pdf", "fixture_report.ipynb",
                 "tables/figur1.csv", "figures/figur1.svg", "figures/figur1.pdf",
                 "figures/figur1.png", "figures/figur1.txt"):
        assert manifest["outputs"][name] == sha256_file(built_fixture / name)
    # how to build it again, and what `skr-report status` and `diff` read (issue 18)
    assert manifest["params_file"].endswith("fixture.yaml")
    assert manifest["overrides"] == {"kommun": "2463"}
    assert manifest["family"] == "fixture" and manifest["year_fixed"] is True
    assert manifest["data"]["years_rule"] == "all"
    assert manifest["data"]["source_id"] == "live/127.0.0.1_1_v3"  # sources.identity
    assert set(manifest["data"]["data_digests"]) == {"values/N01951", "source"}
    assert manifest["tables"] == {
        "tables/figur1.csv": {"label": "Figur 1", "title": "Värden per grupp 2022",
                              "keys": ["grupp"]},
        "tables/tabell1.csv": {"label": "Tabell 1", "title": "Nyckeltal från Kolada"}}


def test_snapshot_vintage_in_swedish():
    from helpers.rendering.provenance import snapshot_values_vintage

    vintage = ("kpi.json 2026-03-23; values.csv.gz scraped from the Kolada API, August 2024")
    assert snapshot_values_vintage(vintage) == "augusti 2024"
    assert snapshot_values_vintage("values.csv.gz 2024-08-15") == "15 augusti 2024"
    assert snapshot_values_vintage(None) == ""


def test_provenance_of_recordings_is_swedish():
    from helpers.rendering.provenance import (
        eurostat_recording_text,
        kolada_snapshot_text,
        snapshot_values_vintage,
    )

    stated = paths.SNAPSHOT_DIR / "snapshot.json"
    if not stated.is_file():
        pytest.skip("no snapshot.json in the shared Kolada folder")
    from helpers.sources.replay.kolada import read_vintage

    vintage = read_vintage(paths.SNAPSHOT_DIR)
    assert snapshot_values_vintage(vintage) == "augusti 2024"
    text = kolada_snapshot_text(vintage)
    assert text.startswith("värden (values.csv.gz) inspelade augusti 2024, år 1994–2022")
    assert "metadata inspelad 23 mars 2026 (kpi.json, municipality.json" in text
    assert "15 januari 2024 (kpi_groups.json)" in text
    assert "scraped" not in text and "recorded" not in text
    eurostat = eurostat_recording_text('{"dataset":"gov_10dd_edpt1","file":"gov_10dd_edpt1.tsv.gz",'
                                       '"years":[1995,2024],"release_date":null}')
    assert eurostat == ("inspelad kopia av Eurostats fil gov_10dd_edpt1.tsv.gz, värden "
                        "1995–2024; filen anger inget utgivningsdatum")


def test_html_tables_align_words_left_and_numbers_right():
    from helpers.rendering.html import clean_html

    out = clean_html("<table><tr><td>Förskola</td><td>1\u202f234,5</td><td>−3</td></tr></table>")
    assert "<td>Förskola</td>" in out
    assert '<td class="num">1\u202f234,5</td>' in out and '<td class="num">−3</td>' in out


def test_parameters_are_a_swedish_table_for_every_report():
    from helpers.build.registry import known_reports, model_for

    for name in ("valfard_i_hela_landet", "agenda2030", "budget"):
        assert name in known_reports()
        model = model_for(name)
        fields = [key for key in model.model_fields if key != "report"]
        missing = [key for key in fields if key not in model.parameter_labels]
        assert not missing, f"{name}: no Swedish name for {missing}"
    from helpers.reports.valfard import ValfardParams

    rows = dict(provenance.parameter_rows(ValfardParams, {
        "report": "valfard_i_hela_landet", "kommun": "2463", "year": 2022,
        "kommungruppering": 2023, "storleksklasser": [0, 6000, 100000], "skuld_geo": "SE",
        "skuld_sektorer": ["S13", "S1313"], "skuld_ar": None}, place="Åsele (2463)"))
    assert rows == {
        "Kommun": "Åsele (2463)", "Dataår": "2022",
        "Kommuntyp": "SKR:s kommungruppsindelning 2023",
        "Storleksklasser, nedre gräns (invånare)": "0, 6\u202f000, 100\u202f000",
        "Tabell 1: land": "Sverige (SE)",
        "Tabell 1: sektorer": "offentliga sektorn (S13), kommunsektorn (S1313)",
        "Tabell 1: år": "alla år med data"}
    from helpers.reports.agenda2030 import Agenda2030Params

    rows = dict(provenance.parameter_rows(Agenda2030Params, {
        "report": "agenda2030", "kommun": None, "onskad_riktning": {"N00401": "lägre",
                                                                    "N17461": "högre"}}))
    assert rows["Kommun eller region"] == "ingen"
    assert rows["Önskad riktning"] == "högre är önskvärt: N17461; lägre är önskvärt: N00401"


def test_the_closing_source_line_names_each_source_once_with_what_rests_on_it():
    skr = ("Källa: Sveriges Kommuner och Regioner (SKR), Verksamhetsplan med budget 2024, "
           "s. 19.")
    items = [("table", 1, skr), ("table", 2, "Egen kontroll av de publicerade talen. " + skr),
             ("table", 3, "Källa: Kolada (RKA), egna beräkningar. Data avser 2022."),
             ("figure", 1, "Källa: Kolada (RKA), egna beräkningar. Data avser 2022."),
             ("figure", 2, "Källa: Kolada (RKA), egna beräkningar. Data avser 2021.")]
    assert provenance.citation(items) == (
        "Tabell 1–2: Sveriges Kommuner och Regioner (SKR), Verksamhetsplan med budget 2024, "
        "s. 19. Tabell 3 och figur 1–2: Kolada (RKA), egna beräkningar.")
    assert provenance.number_ranges([7, 1, 2, 3, 5, 6]) == "1–3, 5–7"


def test_provenance_rows_are_swedish_without_json_or_a_doubled_source():
    info = provenance.ReportInfo(report="prov", variant="prov", title="Prov",
                                 parameters={"kommun": None, "year": 2022},
                                 provenance={"snapshot": "x", "source": "Kolada (RKA)",
                                             "base_url": "uppspelad av en lokal server"},
                                 command="skr-report run params/prov.yaml")
    rows = dict(info.provenance_rows())
    assert "Parametrar" not in rows
    assert rows["Källhänvisning"] == "Kolada (RKA), egna beräkningar."
    assert rows["Byggs om med"] == "skr-report run params/prov.yaml"
    assert not [v for v in rows.values() if "replay" in v or "{" in v]
