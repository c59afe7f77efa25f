"""The checks of issues 17 and 20 on every report `make report` builds: `skr-report report-all`
(HTML and PDF) against the replay server, then each PDF's page flow and structure tree, each
HTML page's figures and tables, axe-core (WCAG 2.1 A/AA and best practice) and reflow at 400, 800
and 1280 px, the index page included.

The full list of findings: ``python -m fixtures.report_findings`` from tests/. What still fails
is marked ``xfail(strict=True)`` (today only the index page, issue 19): when a fix makes it
pass, its mark must go, and from then on the test guards it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import axe
from fixtures.a11y import html_findings, pdf_findings
from fixtures.axe import BEST_PRACTICE, WCAG21_AA, axe_violations, overflow_violations
from fixtures.pdf_flow import flow_findings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("built_reports")]

REPORTS = {"agenda2030-1267": "agenda2030", "agenda2030_region-0012": "agenda2030",
           "budget_skr": "budget", "valfard": "valfard_i_hela_landet",
           "valfard-2463": "valfard_i_hela_landet"}
"""The variant folders of params/*.yaml and the report file name in each."""
PAGES = [*REPORTS, "index"]



def report_file(built: Path, page: str, suffix: str) -> Path:
    if page == "index":
        return built / "index.html"
    return built / page / f"{REPORTS[page]}{suffix}"


def test_make_report_builds_the_reports_checked_here(built):
    folders = sorted(p.name for p in built.iterdir() if (p / "manifest.json").is_file())
    assert folders == sorted(REPORTS)
    assert all(report_file(built, page, ".pdf").is_file() for page in REPORTS)


@pytest.mark.parametrize("page", list(REPORTS))
def test_pdf_pages_flow_like_a_publication(built, page):
    found = flow_findings(report_file(built, page, ".pdf"))
    assert found == [], "\n".join(map(str, found))


@pytest.mark.parametrize("page", REPORTS)
def test_pdf_figures_and_tables_are_usable_with_a_screen_reader(built, page):
    found = pdf_findings(report_file(built, page, ".pdf"))
    assert found == [], "\n".join(map(str, found))


@pytest.mark.parametrize("page", PAGES)
def test_html_figures_and_tables_are_usable_with_a_screen_reader(built, page):
    found = html_findings(report_file(built, page, ".html"))
    assert found == [], "\n".join(map(str, found))


@pytest.mark.browser
@pytest.mark.skipif(not axe.AXE_JS.is_file(), reason=axe.MISSING)
@pytest.mark.parametrize("page", PAGES)
def test_html_has_no_axe_violations_at_any_width(built, browser, page):
    url = report_file(built, page, ".html").as_uri()
    found = axe_violations(browser, url, tags=WCAG21_AA + BEST_PRACTICE)
    assert found == [], "\n".join(map(str, found))


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_html_reflows_to_a_phone_width(built, browser, page):
    found = overflow_violations(browser, report_file(built, page, ".html").as_uri())
    assert found == [], "\n".join(map(str, found))
