"""fixtures.axe in headless Chromium on tiny pages: axe-core's WCAG 2.1 A/AA (and best-practice)
rules and the reflow check fail on a page that breaks them and pass on one that does not."""

from __future__ import annotations

import pytest
from fixtures import axe
from fixtures.axe import BEST_PRACTICE, WCAG21_AA, axe_violations, overflow_violations
from fixtures.chromium import requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium,
              pytest.mark.skipif(not axe.AXE_JS.is_file(), reason=axe.MISSING)]

HEAD = "<!doctype html><html lang='sv'><head><meta charset='utf-8'><title>Prov</title></head>"
WIDE = "<table style='width: 1000px'><caption>Tabell 1: Bred</caption>" \
       "<tr><th scope='col'>Kommun</th><th scope='col'>Invånare</th></tr>" \
       "<tr><td>Åsele</td><td>2 782</td></tr></table>"
BAD = f"""{HEAD}<body><main><h1>Prov</h1>
<img src="data:image/png;base64,iVBORw0KGgo=">
<div style="overflow-x: auto; width: 300px">{WIDE}</div>
<table><caption>Tabell 2</caption><tr><th></th><th scope="col">Värde</th></tr>
<tr><th scope="row">a</th><td>1</td></tr></table></main></body></html>"""
GOOD = f"""{HEAD}<body><main><h1>Prov</h1>
<img alt="En blå ruta." src="data:image/png;base64,iVBORw0KGgo=">
<div style="overflow-x: auto; width: 300px" tabindex="0" role="region" aria-label="Tabell 1">
{WIDE}</div>
<table><caption>Tabell 2</caption><tr><th scope="col">Rad</th><th scope="col">Värde</th></tr>
<tr><th scope="row">a</th><td>1</td></tr></table></main></body></html>"""


def _page(tmp_path, name: str, html: str) -> str:
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


def test_axe_finds_the_wcag_violations_at_every_width(browser, tmp_path):
    found = axe_violations(browser, _page(tmp_path, "bad", BAD), tags=WCAG21_AA)
    assert {(v.width, v.rule) for v in found} == {
        (width, rule) for width in (400, 800, 1280)
        for rule in ("image-alt", "scrollable-region-focusable")}
    image = next(v for v in found if v.rule == "image-alt")
    assert image.impact == "critical" and image.target == "img"
    assert image.html.startswith("<img src=")


def test_axe_best_practice_rules_are_asked_for_by_tag(browser, tmp_path):
    url = _page(tmp_path, "bad", BAD)
    found = axe_violations(browser, url, widths=(800,), tags=WCAG21_AA + BEST_PRACTICE)
    assert "empty-table-header" in {v.rule for v in found}


def test_a_page_made_accessible_has_no_violations(browser, tmp_path):
    url = _page(tmp_path, "good", GOOD)
    assert axe_violations(browser, url, tags=WCAG21_AA + BEST_PRACTICE) == []
    assert overflow_violations(browser, url) == []


def test_a_wide_table_outside_a_scroll_box_makes_the_page_overflow(browser, tmp_path):
    url = _page(tmp_path, "wide", f"{HEAD}<body><main><h1>Prov</h1>{WIDE}</main></body></html>")
    found = overflow_violations(browser, url)
    assert [(v.width, v.rule, v.target) for v in found] == [
        (400, "page-overflow", "table"), (800, "page-overflow", "table")]
    assert "in a 400 px viewport" in found[0].html
