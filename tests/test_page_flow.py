"""helpers.rendering.page_flow: tables and figures grouped with their heading, intro and note,
and what that does to real PDFs (a heading never left behind at the foot of a page or on a
portrait page when its table turns to landscape; a table's note and source line stay with it)."""

from __future__ import annotations

import pandas as pd
import pytest
from fixtures.pdf_checks import pdf_facts
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.rendering import captions, export, provenance, table_data
from helpers.rendering.page_flow import (
    LEAD_MAX_CHARS,
    Group,
    Piece,
    body_markup,
    flow,
    split_at_headings,
)


def text(markup: str, cell: int, heading: bool = False) -> Piece:
    return Piece("text", markup, cell, heading, len(markup))


def element(n: int, cell: int) -> Piece:
    return Piece("element", f"items.at({n})", cell)


def test_markdown_is_cut_before_each_heading_but_not_inside_code():
    source = "Inledning.\n\n## Första\n\nText.\n\n```\n## inte en rubrik\n```\n### Andra\nMer."
    assert split_at_headings(source) == [
        "Inledning.", "## Första\n\nText.\n\n```\n## inte en rubrik\n```", "### Andra\nMer."]
    assert split_at_headings("## Bara rubrik") == ["## Bara rubrik"]


def test_a_heading_and_its_intro_lead_the_table_and_the_text_after_it_is_its_note():
    pieces = [text("Fri inledning.", 0), text("= Rubrik\n\nIntro.", 1, heading=True),
              element(0, 2), text("Not.", 2), text("Annan text.", 3),
              text("= Nästa\n\nIntro 2.", 4, heading=True), element(1, 5), element(2, 6)]
    assert flow(pieces) == [
        "Fri inledning.",
        [Group("items.at(0)", "= Rubrik\n\nIntro.", True, "Not.")],
        "Annan text.",
        [Group("items.at(1)", "= Nästa\n\nIntro 2.", True), Group("items.at(2)")],
    ]


def test_text_without_a_heading_leads_with_its_last_piece_and_a_long_intro_does_not_lead():
    pieces = [text("= Rubrik", 0, heading=True), text("Första stycket.", 1),
              text("Andra stycket.", 1), element(0, 2)]
    assert flow(pieces)[-1] == [Group("items.at(0)", "= Rubrik\n\nFörsta stycket.\n\n"
                                                     "Andra stycket.", True)]
    long = "x" * (LEAD_MAX_CHARS + 1)
    pieces = [text("= Rubrik", 0, heading=True), text(long, 0), element(0, 1)]
    assert flow(pieces) == ["= Rubrik", long, [Group("items.at(0)")]]
    pieces = [text("Stycke ett.", 0), text("Stycke två.", 1), element(0, 2)]
    assert flow(pieces) == ["Stycke ett.", [Group("items.at(0)", "Stycke två.")]]


def test_a_run_is_one_typst_call_with_content_blocks():
    markup = body_markup([text("= Rubrik \\[x\\]", 0, heading=True), element(0, 1),
                          text("Not.", 1)])
    assert markup == ("#skr-run((\n  (item: items.at(0), lead: [\n= Rubrik \\[x\\]\n], "
                      "lead-heading: true, note: [\nNot.\n]),\n))\n")


# --- real PDFs ---------------------------------------------------------------------------------


def _table_output(number: int, columns: int, rows: int, words: int) -> dict:
    frame = pd.DataFrame({f"Kolumn {c}": [" ".join(["ord"] * words) + f" {r}"
                                          for r in range(rows)] for c in range(columns)})
    return new_output("display_data", data={
        "text/html": frame.to_html(index=False), "text/plain": "t",
        table_data.TABLE_MIME: table_data.table_data(frame)},
        metadata=captions.table_metadata(number, f"Tabell nummer {number}",
                                         source="Källa: Prov.", csv=f"tables/t{number}.csv"))


def _pdf(tmp_path, cells) -> object:
    info = provenance.ReportInfo(report="prov", variant="prov", title="Provrapport",
                                 provenance={"fetched_at": "2024-08-23T10:00:00+00:00"})
    path = tmp_path / "prov.pdf"
    path.write_bytes(export.Exporter().to_pdf(new_notebook(cells=cells), info))
    return pdf_facts(path)


def _page_of(facts, needle: str) -> int:
    pages = [i + 1 for i, page in enumerate(facts.page_texts) if needle in " ".join(page.split())]
    assert pages, needle
    return pages[0]


FILLER = "\n\n".join(["Ett stycke text som fyller sidan med ord och åter ord. " * 6] * 9)


@pytest.mark.slow
def test_a_landscape_table_takes_its_heading_intro_and_note_onto_its_turned_page(tmp_path):
    facts = _pdf(tmp_path, [
        new_markdown_cell(FILLER),
        new_markdown_cell("## Den breda tabellen\n\nIntrot som presenterar tabellen."),
        new_code_cell("", outputs=[_table_output(1, 9, 12, 4),
                                   new_output("display_data", data={
                                       "text/markdown": "Noten under tabellen.",
                                       "text/plain": "n"})]),
        new_markdown_cell("## Efteråt\n\nVanlig text igen."),
    ])
    heading = _page_of(facts, "Den breda tabellen Introt")
    assert heading in facts.landscape_pages
    assert _page_of(facts, "Kolumn 0") == heading  # the table (its caption is in the contents)
    assert _page_of(facts, "Noten under tabellen.") in facts.landscape_pages
    assert _page_of(facts, "Efteråt") not in facts.landscape_pages


@pytest.mark.slow
@pytest.mark.parametrize("rows", [40, 10])
def test_a_heading_and_intro_at_a_page_foot_move_with_their_table(tmp_path, rows):
    """38 lines of text leave room for the heading, the intro and the caption at the foot of
    page 1 but not for three rows (a long table) or the whole table (a short one)."""
    lines = "\\\n".join(f"Rad {i}." for i in range(38))
    facts = _pdf(tmp_path, [new_markdown_cell(lines),
                            new_markdown_cell("## Rubriken\n\nIntrot till den smala tabellen."),
                            new_code_cell("", outputs=[_table_output(1, 3, rows, 1)])])
    heading = _page_of(facts, "Rubriken Introt")
    assert heading == 2
    assert _page_of(facts, "ord 0 ord 0 ord 0") == heading  # the first rows under their intro
    assert _page_of(facts, "ord 2 ord 2 ord 2") == heading
    last = _page_of(facts, f"ord {rows - 1} ord {rows - 1} ord {rows - 1}")
    assert _page_of(facts, "Källa: Prov.") == last
    if rows == 10:  # half a page at most: not broken
        assert last == heading
