"""reports/index.html for people (issue 19, with issues 17 and 20's rules for it): only what is
published, grouped by report, kommuner by län, Swedish link words to the PDF, the web page and
a page of figures and tables; named tables with scoped headers; 0 axe violations and no sideways
scrolling at 400, 800 and 1280 px; a search box that narrows the list."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import require_shared
from fixtures import axe
from fixtures.a11y import html_findings

from helpers import paths
from helpers.build.index import CONTENTS_PAGE, index_entries, write_index
from helpers.build.publish import record_failure

SCREENSHOTS = Path(__file__).resolve().parents[1] / "reports" / "_screenshots"
"""Where the browser test leaves its screenshots of the index (not committed)."""


def _kommuner() -> list[dict[str, str]]:
    require_shared("reference/kommuner_lan.csv")
    with open(paths.REFERENCE_DIR / "kommuner_lan.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def publish(reports: Path, variant: str, *, report: str, title: str, place=None, year=2022,
            params_file="params/x.yaml", formats=("html", "pdf"), status="ok",
            figures=7) -> Path:
    """A published variant folder as `skr-report` leaves it (files are stand-ins)."""
    folder = reports / variant
    (folder / "tables").mkdir(parents=True)
    outputs = {}
    for name in [*(f"{report}.{fmt}" for fmt in formats), CONTENTS_PAGE,
                 "tables/tabell1.xlsx", "tables/tabell1.csv"]:
        (folder / name).write_text(f"{variant} {name}\n", encoding="utf-8")
        outputs[name] = "0" * 64
    manifest = {"variant": variant, "report": report, "title": title, "status": status,
                "subtitle": (place or {}).get("label", "Hela landet"), "place": place,
                "params_file": params_file, "data": {"years": [year]}, "outputs": outputs,
                "contents": {"page": CONTENTS_PAGE, "figures": figures, "tables": 4}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """290 Välfärd kommun variants, the national one, budget, Agenda 2030 for Höör and Region
    Skåne; an ad-hoc run and two failures."""
    root = tmp_path_factory.mktemp("reports")
    valfard = {"report": "valfard_i_hela_landet", "title": "Välfärd i hela landet"}
    for row in _kommuner():
        name = row["municipality_name_short"]
        place = {"code": row["municipality_code"], "name": name, "kind": "kommun",
                 "label": f"{name} ({row['municipality_code']})", "lan": row["county_code"],
                 "lansnamn": row["county_name"]}
        publish(root, f"valfard-{place['code']}", place=place, formats=("html",),
                params_file="params/valfard.yaml", **valfard)
    publish(root, "valfard", params_file="params/valfard.yaml", **valfard)
    publish(root, "valfard-2463-2021", year=2021, params_file="params/valfard.yaml",
            place={"code": "2463", "name": "Åsele", "label": "Åsele (2463)", "kind": "kommun",
                   "lan": "24", "lansnamn": "Västerbottens län"}, **valfard)
    publish(root, "budget_skr", report="budget", title="Budgettabeller",
            params_file="params/budget_skr.yaml")
    agenda = {"report": "agenda2030", "title": "Agenda 2030: lokala nyckeltal"}
    publish(root, "agenda2030-1267", params_file="params/agenda2030.yaml", figures=1,
            place={"code": "1267", "name": "Höör", "label": "Höör (1267)", "kind": "kommun",
                   "lan": "12", "lansnamn": "Skåne län"}, **agenda)
    publish(root, "agenda2030_region-0012", params_file="params/agenda2030_region.yaml",
            place={"code": "0012", "name": "Region Skåne", "label": "Region Skåne (0012)",
                   "kind": "region", "lan": None, "lansnamn": None}, **agenda)
    publish(root, "mitt_test-0180", params_file="/tmp/mitt_test.yaml", **valfard)
    publish(root, "valfard_gammal-0180", params_file=None, **valfard)  # an older manifest
    older = publish(root, "valfard_2021-2481", params_file="params/valfard.yaml", **valfard)
    manifest = json.loads((older / "manifest.json").read_text(encoding="utf-8"))
    del manifest["place"]  # an older version's kommun variant: not "Hela landet"
    manifest["parameters"] = {"kommun": "2481"}
    (older / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    record_failure(root, "valfard-0180", "valfard-0180: figur 1 failed — ValueError")
    record_failure(root, "valfard-9999", "valfard-9999: no such kommun")
    from helpers.build.index import write_contents_page

    nb = {"cells": [{"outputs": [{"metadata": {"skr": {
        "kind": "figure", "number": 1, "title": "Kvalitetsindex per kommungrupp",
        "files": ["figures/figur1.svg", "figures/figur1.pdf", "figures/figur1.png"],
        "csv": "tables/figur1.csv"}}}, {"metadata": {"skr": {
        "kind": "table", "number": 2, "title": "Korrelationer", "xlsx": "tables/tabell1.xlsx",
        "csv": "tables/tabell1.csv"}}}]}]}
    write_contents_page(root / "valfard-2463", nb, title="Välfärd i hela landet",
                        subtitle="Åsele (2463) · data för 2022")
    write_index(root)
    return root


@pytest.fixture(scope="module")
def page(reports) -> BeautifulSoup:
    return BeautifulSoup((reports / "index.html").read_text(encoding="utf-8"), "lxml")


def test_grouped_by_report_and_kommuner_by_lan(reports, page):
    entries = index_entries(reports)
    titles = [r.title for r in entries.reports]
    assert titles == ["Agenda 2030: lokala nyckeltal", "Budgettabeller", "Välfärd i hela landet"]
    valfard = entries.reports[-1]
    assert len(valfard.lans) == 21 and valfard.count == 292
    assert [len(g.rows) for g in valfard.whole] == [1]
    assert not any(g.open for g in valfard.lans)  # 291 kommun variants: closed until searched
    vasterbotten = next(g for g in valfard.lans if g.title == "Västerbottens län")
    assert [(r.label, r.year) for r in vasterbotten.rows[-3:]] == [
        ("Vännäs (2460)", "2022"), ("Åsele (2463)", "2021"), ("Åsele (2463)", "2022")]
    agenda = entries.reports[0]
    assert [g.title for g in agenda.lans] == ["Skåne län"] and agenda.lans[0].open
    assert [r.label for g in agenda.regions for r in g.rows] == ["Region Skåne (0012)"]
    headings = [h.get_text(" ", strip=True) for h in page.find_all("h2")]
    assert headings[:3] == ["Agenda 2030: lokala nyckeltal (2)", "Budgettabeller (1)",
                            "Välfärd i hela landet (292)"]


def test_only_what_is_published_with_swedish_links_that_resolve(reports, page):
    main = page.find("main")
    links = main.find_all("a")
    assert len(links) == 292 * 3 + 1 * 3 + 2 * 3 - 290  # kommun variants: no PDF built
    for link in links:
        assert (reports / link["href"]).is_file(), link["href"]
    words = {link.find(string=True, recursive=False) for link in links}
    assert words == {"Rapport (PDF)", "Webbsida (HTML)",
                     "Figurer och tabeller (7 figurer, 4 tabeller)",
                     "Figurer och tabeller (1 figur, 4 tabeller)"}
    text = main.get_text(" ")
    lead = " ".join(page.find("p", class_="lead").get_text(" ").split())
    assert lead.startswith("295 publicerade rapporter ur 3 rapportserier.")
    assert "som webbsida, och som PDF där en PDF har byggts" in lead  # kommun variants: no PDF
    assert "IPYNB" not in text and "manifest" not in text
    assert "mitt_test" not in text and "valfard-0180" not in text  # ad-hoc run, failure
    footer = page.find("footer").get_text(" ")
    assert "valfard-0180 (den förra versionen finns kvar)" in footer
    assert "valfard-9999 (ingen version publicerad)" in footer
    assert "1 variant byggd från en parameterfil utanför params/" in footer
    assert "mitt_test-0180" in footer
    assert "2 varianter byggda av en äldre version av skr-report" in " ".join(footer.split())
    assert "valfard_2021-2481" in footer


def test_tables_are_named_with_scoped_headers(reports):
    assert html_findings(reports / "index.html") == []


def test_the_contents_page_lists_figures_and_tables_with_their_files(tmp_path):
    from helpers.build.index import contents_of, write_contents_page

    nb = {"cells": [{"outputs": [
        {"metadata": {"skr": {"kind": "figure", "number": 1, "title": "Kvalitet",
                              "files": ["figures/figur1.svg", "figures/figur1.png"],
                              "csv": "tables/figur1.csv"}}},
        {"metadata": {"skr": {"kind": "table", "number": 2, "title": "Korrelationer",
                              "xlsx": "tables/tabell2.xlsx", "csv": "tables/tabell2.csv"}}},
        {"metadata": {"skr": {"kind": "description", "number": 1}}},  # figure 1's, not a table
        {"metadata": {}}]}]}
    found = contents_of(nb)
    assert found["figures"][0]["files"] == [("figures/figur1.svg", "Vektorbild (SVG)"),
                                            ("figures/figur1.png", "Bild (PNG)"),
                                            ("tables/figur1.csv", "Data (CSV)")]
    assert found["tables"][0]["files"] == [("tables/tabell2.xlsx", "Tabell för Excel (XLSX)"),
                                           ("tables/tabell2.csv", "Data (CSV)")]
    said = write_contents_page(tmp_path, nb, title="Välfärd i hela landet",
                               subtitle="Åsele (2463) · data för 2022")
    assert said == {"page": CONTENTS_PAGE, "figures": 1, "tables": 1}
    soup = BeautifulSoup((tmp_path / CONTENTS_PAGE).read_text(encoding="utf-8"), "lxml")
    assert soup.html["lang"] == "sv" and soup.find("a")["href"] == "../index.html"
    assert [h.get_text() for h in soup.find_all("h2")] == ["Figurer", "Tabeller"]
    assert "Tabell 2: Korrelationer" in " ".join(soup.get_text(" ").split())
    assert write_contents_page(tmp_path / "none", {"cells": []}, title="x", subtitle="") is None


def _visible_rows(browser) -> list[str]:
    return browser.evaluate("[...document.querySelectorAll('tr[data-search]')]"
                            ".filter(r => !r.closest('[hidden]'))"
                            ".map(r => r.querySelector('th').textContent)")


def _screenshot(browser, name: str) -> None:
    shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / name).write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not axe.AXE_JS.is_file(), reason=axe.MISSING)
def test_usable_at_every_width_and_searchable(reports, browser):
    url = (reports / "index.html").as_uri()
    assert axe.axe_violations(browser, url, tags=axe.WCAG21_AA + axe.BEST_PRACTICE) == []
    assert axe.overflow_violations(browser, url) == []
    contents = (reports / "valfard-2463" / CONTENTS_PAGE).as_uri()
    assert axe.axe_violations(browser, contents, tags=axe.WCAG21_AA + axe.BEST_PRACTICE) == []
    assert axe.overflow_violations(browser, contents) == []
    browser.navigate(url)
    for width in (1280, 400):
        browser.set_width(width)
        _screenshot(browser, f"index-{width}.png")
    assert len(_visible_rows(browser)) == 295  # no script needed to see every row
    browser.evaluate("""(() => { const box = document.getElementById('sok');
        box.value = 'asele'; box.dispatchEvent(new Event('input')); })()""")
    assert _visible_rows(browser) == ["Åsele (2463)", "Åsele (2463)"]
    said = browser.evaluate("document.getElementById('sok-resultat').textContent")
    assert said == "2 rapporter matchar."
    open_groups = browser.evaluate(
        "[...document.querySelectorAll('details[data-group]')].filter(d => d.open && !d.hidden)"
        ".map(d => d.querySelector('summary').textContent)")
    assert open_groups == ["Västerbottens län (16)"]
    assert browser.evaluate("document.documentElement.scrollWidth") <= 400
    _screenshot(browser, "index-400-sok.png")
    browser.set_width(1280)
    _screenshot(browser, "index-1280-sok.png")
