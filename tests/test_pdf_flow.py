"""fixtures.pdf_flow on small tagged PDFs compiled with Typst: each rule fails on a page that
breaks it and passes on the same content laid out well."""

from __future__ import annotations

import pytest
from fixtures.pdf_flow import flow_findings
from fixtures.typst_doc import typst_pdf

TABLE = "#figure(table(columns: 2, table.header([Nr], [Text]), ..rows({n})), caption: [Siffror])"
SOURCE = "Källa: Kolada. Data bakom tabellen (CSV): tables/t.csv"

CASES = {
    # rule: (markup that breaks it, the same content laid out well, page and element named)
    "heading-at-page-foot": (
        "#v(640pt)\n= Rubrik längst ner\n#lorem(300)",
        "= Rubrik längst ner\n#lorem(300)",
        (1, "H1 'Rubrik längst ner'")),
    "intro-without-its-element": (
        "#v(300pt)\n= Rubrik\n#lorem(80)\n#figure(box-image(380pt), caption: [Hög figur])",
        "#v(100pt)\n= Rubrik\n#lorem(80)\n#figure(box-image(380pt), caption: [Hög figur])",
        (1, "H1 'Rubrik'")),
    "page-underfilled": (
        "#lorem(30)\n#pagebreak()\n#lorem(30)",
        "#lorem(30)\n#figure(box-image(650pt), caption: [Hög figur])",  # cannot fit on p. 1
        (1, "p. 1")),
    "table-row-split": (
        "#v(420pt)\n#table(columns: 2, table.header([Nr], [Text]),"
        " ..rows(13, cell: i => if i == 6 { lorem(150) } else { lorem(3) }))",
        "#table(columns: 2, table.header([Nr], [Text]),"
        " ..rows(13, cell: i => if i == 6 { lorem(150) } else { lorem(3) }))",
        (1, "row 7")),
    "table-rows-alone": (
        "#v(100pt)\n#table(columns: 2, rows: 20pt, table.header([Nr], [Text]), ..rows(31))",
        "#v(100pt)\n#table(columns: 2, rows: 20pt, table.header([Nr], [Text]), ..rows(40))",
        (2, "Table 'Nr Text 1")),
    "caption-separated": (
        f"#lorem(200)\n{TABLE.format(n=5)}\n#pagebreak()\n{SOURCE}",
        f"#lorem(200)\n{TABLE.format(n=5)}\n{SOURCE}",
        (2, "Tabell 1")),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_flow_rule_fails_on_a_bad_page_and_passes_on_a_good_one(rule, tmp_path):
    bad, good, (page, element) = CASES[rule]
    found = flow_findings(typst_pdf(tmp_path, bad, "bad"))
    assert [f.rule for f in found] == [rule], [str(f) for f in found]
    assert found[0].page == page and element in found[0].element, str(found[0])
    assert flow_findings(typst_pdf(tmp_path, good, "good")) == []


def test_a_table_caption_left_at_the_foot_of_a_page_is_separated_from_its_rows(tmp_path):
    found = flow_findings(typst_pdf(tmp_path, f"#v(655pt)\n{TABLE.format(n=30)}"))
    assert [(f.page, f.rule, f.element) for f in found] == [(1, "caption-separated", "Tabell 1")]
    assert "first row on p. 2" in found[0].detail


def test_a_note_pushed_to_the_next_page_although_it_fits_is_separated(tmp_path):
    body = (f"#lorem(200)\n{TABLE.format(n=5)}\n{SOURCE}\n#pagebreak()\n"
            "Anmärkning: två rader saknas.")
    found = flow_findings(typst_pdf(tmp_path, body))
    assert [(f.page, f.rule) for f in found] == [(2, "caption-separated")]
    assert "its note 'Anmärkning" in found[0].detail


def test_a_landscape_table_that_cannot_fit_on_the_portrait_page_excuses_it(tmp_path):
    body = ("#lorem(30)\n#page(flipped: true)[#table(columns: 12, table.header(..range(12)"
            ".map(i => [Kolumn #i])), ..range(48).map(i => [#i]))]")
    assert flow_findings(typst_pdf(tmp_path, body)) == []
