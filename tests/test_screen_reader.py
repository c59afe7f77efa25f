"""fixtures.screen_reader: what Chromium's accessibility tree gives a screen reader for a figure
and a table on a tiny page."""

from __future__ import annotations

import pytest
from fixtures.chromium import requires_chromium
from fixtures.screen_reader import announce

pytestmark = [pytest.mark.browser, requires_chromium]

PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Prov</title></head>
<body><main>
<figure id="figur-1" aria-labelledby="bildtext">
<img alt="Stapeldiagram: förskolan har högst kvalitetsindex."
  src="data:image/png;base64,iVBORw0KGgo=" aria-describedby="beskrivning">
<figcaption id="bildtext">Figur 1: Kvalitetsindex per kommungrupp</figcaption></figure>
<figure><img alt="Karta." src="data:image/png;base64,iVBORw0KGgo="><figcaption>Figur 2: Utan
namn</figcaption></figure>
<p id="beskrivning">Högst i C6 Mindre stad/tätort. <a href="f.csv">Data (CSV)</a></p>
<table><caption>Tabell 1: Invånare</caption>
<thead><tr><th scope="col">Kommun</th><th scope="col">Invånare</th></tr></thead>
<tbody><tr><th scope="row">Åsele</th><td>2 782</td></tr></tbody></table>
<table><tr><th></th><th>Värde</th></tr><tr><td>a</td><td>1</td></tr></table>
</main></body></html>"""


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    path = tmp_path_factory.mktemp("screen-reader") / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    browser.navigate(path.as_uri())
    return browser


def test_a_figure_is_announced_with_its_caption_alt_and_description(page):
    assert announce(page, "figure") == [
        "figure, Figur 1: Kvalitetsindex per kommungrupp",
        "image, Stapeldiagram: förskolan har högst kvalitetsindex., "
        "Högst i C6 Mindre stad/tätort. Data (CSV)",
        "Figur 1: Kvalitetsindex per kommungrupp"]


def test_chromium_names_a_figure_from_its_figcaption_only_through_aria_labelledby(page):
    assert announce(page, "figure:nth-of-type(2)") == ["figure", "image, Karta.",
                                                       "Figur 2: Utan namn"]


def test_a_link_is_announced_once_by_its_name(page):
    assert announce(page, "#beskrivning") == [
        "paragraph", "Högst i C6 Mindre stad/tätort.", "link, Data (CSV)"]


def test_a_table_is_announced_with_its_name_size_and_cells(page):
    assert announce(page, "table") == [
        "table, Tabell 1: Invånare, 2 rows, 2 columns",
        "row 1: columnheader 'Kommun' | columnheader 'Invånare'",
        "row 2: rowheader 'Åsele' | cell '2 782'"]


def test_an_unnamed_table_is_announced_without_a_name(page):
    lines = announce(page, "table:nth-of-type(2)")
    assert lines[0] == "table, 2 rows, 2 columns"
    assert lines[1] == "row 1: columnheader '' | columnheader 'Värde'"
    assert announce(page, "#nothing") == []
