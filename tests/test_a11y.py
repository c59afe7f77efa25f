"""fixtures.a11y on a tiny HTML page and tiny tagged PDFs: each rule fails on a figure or table
that breaks it and passes on one made as issue 20 asks."""

from __future__ import annotations

from fixtures.a11y import html_findings, pdf_findings
from fixtures.typst_doc import typst_pdf

from helpers.rendering import pdf_tags

LONG = "Staplarna visar medelvärdet per kommungrupp och år för varje nyckeltal i urvalet. " * 4

GOOD_HTML = """<!doctype html><html lang="sv"><head><title>Prov</title></head><body><main>
<figure id="figur-1"><img alt="Stapeldiagram: förskolan har högst kvalitetsindex." src="f.png">
<figcaption>Figur 1: Kvalitetsindex per kommungrupp</figcaption></figure>
<p>Förskolan har högst medelvärde, 62,7 i C6 Mindre stad/tätort (n = 27).</p>
<table><caption>Tabell 1: Invånare per kommun</caption>
<thead><tr><th scope="col">Kommun</th><th scope="col">Invånare</th></tr></thead>
<tbody><tr><th scope="row">Åsele</th><td>2 782</td></tr>
<tr><th scope="row">Höör</th><td>16 920</td></tr></tbody></table>
<h2 id="t2">Tabell 2: Namngiven med aria-labelledby</h2>
<table aria-labelledby="t2"><tr><th scope="col">Mål</th></tr><tr><td>1</td></tr></table>
</main></body></html>"""

BAD_HTML = f"""<!doctype html><html lang="sv"><head><title>Prov</title></head><body>
<figure><img src="a.png"><figcaption>Figur 1: Utan alt</figcaption></figure>
<figure><img alt="{LONG}" src="b.png"><figcaption>Figur 2: Lång alt</figcaption></figure>
<figure><img alt="Figur 3: Samma som bildtexten" src="c.png">
<figcaption>Figur 3: Samma som bildtexten</figcaption></figure>
<figure><img alt="Figur 4. Förskolan har högst medelvärde i gruppen C6 Mindre stad." src="d.png">
<figcaption>Figur 4: Upprepad</figcaption></figure>
<ul><li>Förskolan har högst medelvärde i gruppen C6 Mindre stad.</li></ul>
<p>Tabell 5: Rubriken står i ett stycke före tabellen</p>
<table><thead><tr><th></th><th>Nyckeltal</th></tr></thead>
<tbody><tr><th scope="col">Invånare</th><td>N01951</td></tr>
<tr><td>Tätortsgrad</td><td>N00954</td></tr></tbody></table>
<table><caption>Tabell 6: Utan radrubriker</caption>
<tr><th scope="col">Kommun</th><th scope="col">Invånare</th></tr>
<tr><td>Åsele</td><td>2 782</td></tr></table>
</body></html>"""


def _rules(findings) -> list[tuple[str, str]]:
    return [(f.rule, f.element) for f in findings]


def test_html_figures_and_tables_made_for_a_screen_reader_pass(tmp_path):
    page = tmp_path / "good.html"
    page.write_text(GOOD_HTML, encoding="utf-8")
    assert html_findings(page) == []


def test_html_findings_name_each_broken_rule_and_element(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(BAD_HTML, encoding="utf-8")
    found = html_findings(page)
    assert _rules(found) == [
        ("alt-missing", "Figur 1"),
        ("alt-too-long", "Figur 2"),
        ("alt-same-as-text", "Figur 3"),
        ("alt-repeats-text", "Figur 4"),
        ("table-unnamed", "table 1"),
        ("th-empty", "table 1 th (row 1, column 1)"),
        ("th-no-scope", "table 1 th (row 1, column 1)"),
        ("th-no-scope", "table 1 th (row 1, column 2)"),
        ("th-scope-wrong", "table 1 th (row 2, column 1)"),
        ("row-header-not-th", "table 1 row 2"),
        ("row-header-not-th", "Tabell 6"),
    ]
    assert "327 characters" in found[1].detail
    assert "1 of 1 sentences" in found[3].detail


GOOD_PDF = """
#figure(box-image(80pt), caption: [Kvalitetsindex per kommungrupp])
Förskolan har högst medelvärde.
#figure(table(columns: 2, table.header([Kommun], [Invånare]), [Åsele], [2 782]),
  caption: [Invånare per kommun])
"""

BAD_PDF = """
#figure(box-image(40pt, alt: "Lång beskrivning. " * 20
  + "Förskolan har högst medelvärde i gruppen C6 Mindre stad."), caption: [Lång alt])

Förskolan har högst medelvärde i gruppen C6 Mindre stad.

#table(columns: 2, table.header([], [Invånare]), [Åsele], [2 782])
"""


def _tagged(path):
    """The PDF with its one table's row headers tagged as the reports' are
    (:mod:`helpers.rendering.pdf_tags`: Typst alone cannot)."""
    shape = pdf_tags.TableShape("Tabell 1", 2, 1, ((False, -1),))
    path.write_bytes(pdf_tags.tag_row_headers(path.read_bytes(), [shape]))
    return path


def test_pdf_figures_and_tables_made_for_a_screen_reader_pass(tmp_path):
    assert pdf_findings(_tagged(typst_pdf(tmp_path, GOOD_PDF))) == []


def test_pdf_tables_without_row_headers_are_found(tmp_path):
    """Typst alone tags every body cell TD: "Åsele" is no row header."""
    found = pdf_findings(typst_pdf(tmp_path, GOOD_PDF))
    assert _rules(found) == [("row-header-not-th", "Tabell 1")]
    assert "'Åsele'" in found[0].detail


def test_pdf_findings_name_each_broken_rule_and_element(tmp_path):
    found = pdf_findings(typst_pdf(tmp_path, BAD_PDF))
    assert sorted(_rules(found)) == [
        ("alt-repeats-text", "Figur 1"),
        ("alt-too-long", "Figur 1"),
        ("row-header-not-th", "Table 1"),
        ("table-unnamed", "Table 1"),
        ("th-empty", "Table 1 TH (row 1, column 1)"),
    ]
    assert all(f.page == 1 for f in found)


def test_pdf_header_cells_without_scope_are_found(tmp_path):
    import pikepdf

    path = _tagged(typst_pdf(tmp_path, GOOD_PDF))
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for node in pdf.objects:
            if isinstance(node, pikepdf.Dictionary) and node.get("/S") == "/TH":
                del node["/A"]
        pdf.save(path)
    assert _rules(pdf_findings(path)) == [
        ("row-header-not-th", "Tabell 1"),  # "Åsele" without /Scope /Row
        ("th-no-scope", "Tabell 1 TH (row 1, column 1)"),
        ("th-no-scope", "Tabell 1 TH (row 1, column 2)"),
        ("th-no-scope", "Tabell 1 TH (row 2, column 1)")]
