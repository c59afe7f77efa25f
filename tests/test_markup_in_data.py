"""Text from Kolada with markup in it (a kommun name, KPI titles) is shown exactly as written
in the built reports: run as a user runs them (the CLI against a replay server whose snapshot
has hostile names), HTML read as a browser's DOM, PDF read as text."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import paths

pytestmark = pytest.mark.slow

SKR_REPORT = Path(sys.executable).with_name("skr-report")
NAME = "<b>Åsele</b> *fet* _kursiv_ #1 $x$ [länk](http://example.org) `kod` & co"
"""Kommun 2463's name in the hostile snapshot."""
REGION_NAME = "Region <i>Skåne</i> **2**"
"""Region 0012's name (the Agenda 2030 region report's unit)."""
SKANE_KOMMUN = "Höör <em>x</em> & *Co* [a](b) $1 000"
"""Kommun 1267's name (a row in the budget's fee table for Skånes Kommuner)."""
KPI_TITLE = "Utsläpp <sup>2</sup> *per* invånare_totalt_ #CO2 `ton`"
"""KPI N00401's title (a row of the Agenda 2030 selection)."""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """A replay server over the recorded snapshot with markup in unit names."""
    if not (paths.SNAPSHOT_DIR / "municipality.json").is_file():
        pytest.skip(f"Kolada snapshot missing at {paths.SNAPSHOT_DIR}")
    from helpers.sources.replay.server import ReplayServer

    folder = tmp_path_factory.mktemp("hostile_snapshot")
    renamed = {"2463": NAME, "0012": REGION_NAME, "1267": SKANE_KOMMUN, "N00401": KPI_TITLE}
    rewritten = {"municipality.json": ("id", "title"), "kpi.json": ("id", "title"),
                 "kpi_groups.json": ("member_id", "member_title")}
    for source in paths.SNAPSHOT_DIR.iterdir():
        if source.name not in rewritten:
            (folder / source.name).symlink_to(source)
    for name, (key, title) in rewritten.items():
        body = json.loads((paths.SNAPSHOT_DIR / name).read_text(encoding="utf-8"))
        for entry in body["values"]:
            for item in [entry, *entry.get("members", [])]:
                if item.get(key) in renamed:
                    item[title] = renamed[item[key]]
        (folder / name).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    with ReplayServer(folder) as server:
        yield server


def build(server, tmp_path: Path, params: str, name: str, formats: str = "html,pdf") -> Path:
    env = dict(os.environ, KOLADA_BASE_URL=server.base_url,
               EUROSTAT_BASE_URL=server.eurostat_base_url, SKR_DATA_DIR=str(tmp_path / "data"),
               SKR_REPORTS_DIR=str(tmp_path / "reports"))
    path = tmp_path / f"{name}.yaml"
    path.write_text(params, encoding="utf-8")
    result = subprocess.run([str(SKR_REPORT), "run", str(path), "--format", formats],
                            capture_output=True, text=True, env=env, timeout=900, check=False,
                            preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp_path / "reports"


def visible_text(html_file: Path) -> tuple[str, object]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "lxml")
    for hidden in soup(["style", "script", "title", "head"]):
        hidden.decompose()
    return " ".join(soup.get_text(" ").split()), soup


def assert_shown_literally(html_file: Path, text: str, at_least: int) -> None:
    shown, soup = visible_text(html_file)
    assert shown.count(text) >= at_least, (text, shown[:3000])
    # none of the name's markup was taken as markup
    assert not soup.find("a", href="http://example.org")
    assert not [b for b in soup.find_all(["b", "strong"]) if b.get_text() in ("Åsele", "2")]
    assert not [i for i in soup.find_all(["i", "em"]) if i.get_text() in ("fet", "kursiv",
                                                                           "Skåne")]
    assert not [c for c in soup.find_all("code") if c.get_text() == "kod"]
    assert "\\<" not in shown and "\\*" not in shown  # no escape shows through


def pdf_text(pdf_file: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf_file), "-"],
                         capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def test_a_kommun_name_with_markup_is_shown_as_written_in_valfard(hostile_server, tmp_path):
    reports = build(hostile_server, tmp_path,
                    "report: valfard_i_hela_landet\nkommun: '2463'\n", "valfard")
    out = reports / "valfard-2463"
    # title block, the kommun's own sentences under figures 1–4, table columns
    assert_shown_literally(out / "valfard_i_hela_landet.html", NAME, at_least=6)
    shown_pdf = pdf_text(out / "valfard_i_hela_landet.pdf")
    assert " ".join(NAME.split()) in shown_pdf, shown_pdf[:2000]
    # what a web server or a colleague reads: the index, the report folder and its files
    modes = {p.relative_to(reports).as_posix(): oct(stat.S_IMODE(p.stat().st_mode))
             for p in [reports / "index.html", out, *out.rglob("*")]}
    assert {m for p, m in modes.items() if (reports / p).is_file()} == {"0o644"}, modes
    assert {m for p, m in modes.items() if (reports / p).is_dir()} == {"0o755"}, modes


def test_a_region_name_with_markup_is_shown_as_written_in_agenda2030(hostile_server, tmp_path):
    reports = build(hostile_server, tmp_path,
                    "report: agenda2030\nlevel: region\nkommun: '0012'\n", "agenda", "html")
    out = reports / "agenda-0012"
    assert_shown_literally(out / "agenda2030.html", REGION_NAME, at_least=3)
    shown = visible_text(out / "agenda2030.html")[0]
    assert f"senaste värde för {REGION_NAME}, Riket (0000)" in shown  # a Markdown sentence
    assert f"Figur 1: Nuläge per mål för {REGION_NAME}:" in shown  # a caption
    assert KPI_TITLE in shown  # a table cell from the catalogue
    assert not soup_has_tag(out / "agenda2030.html", "sup")


def soup_has_tag(html_file: Path, tag: str) -> bool:
    return visible_text(html_file)[1].find(tag) is not None


def test_kommun_names_in_the_budget_fee_table_are_shown_as_written(hostile_server, tmp_path):
    reports = build(hostile_server, tmp_path,
                    "report: budget\nkommun: '1267'\nmedlemsavgift_skanes_kr_per_invanare: 10\n",
                    "budget", "html")
    html_file = reports / "budget-1267" / "budget.html"
    shown, soup = visible_text(html_file)
    assert f"{SKANE_KOMMUN} ◀" in shown  # the marked row of the fee table
    assert not soup.find("em", string="x") and not soup.find("a", href="b")
