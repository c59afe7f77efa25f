"""What a reader reads in every report `make report` builds (issue 17, text): Swedish throughout,
no raw JSON, command line or parameter name in the reader's text, Swedish typography (en dashes
in ranges, values that never break across lines, one quotation style), and counts in the prose
that equal what the report shows.

The reports are built once (``built`` in conftest: `skr-report report-all`, HTML and PDF); the
HTML is read with BeautifulSoup, the PDF's lines with pdfplumber.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("built_reports")]

REPORTS = {"agenda2030-1267": "agenda2030", "agenda2030_region-0012": "agenda2030",
           "budget_skr": "budget", "valfard": "valfard_i_hela_landet",
           "valfard-2463": "valfard_i_hela_landet"}

ENGLISH = re.compile(
    r"\b(replay|built|selection|sibling|explicitly|inferred|goal|narrative|notebook\w*|"
    r"null|true|false|the|of|and|with|from|which|only|assumed|topic|could|source|params)\b",
    re.IGNORECASE)
"""English words seen in the reports before (the goal map's notes, "replay-server", JSON)."""
FILE_NAMES = re.compile(r"\S+\.(csv|json|gz|yaml|svg|pdf|png|tsv|xlsx)\b|\S+\.se\S*|https?://\S+")
"""File names and addresses, which may be English (kpi.json, values.csv.gz)."""
HYPHEN_RANGE = re.compile(r"\b\d{1,3}-\d{1,3}\s*år\b|\bF-9\b")


@cache
def html_parts(path: Path) -> tuple[str, str]:
    """The visible text of a report's HTML: (the report itself, its "Om rapporten")."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for hidden in soup(["script", "style", "head"]):
        hidden.decompose()
    about = soup.find(id="om-rapporten")
    about_text = about.get_text(" ") if about else ""
    if about:
        about.decompose()
    return _seen(soup.get_text(" ")), _seen(about_text)


def _seen(text: str) -> str:
    """Text as a reader sees it: without the invisible word joiners that keep ranges together."""
    return text.replace("\u2060", "")


@cache
def pdf_lines(path: Path) -> list[str]:
    """The PDF's text lines, page by page."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [_seen(line) for page in pdf.pages
                for line in (page.extract_text() or "").splitlines()]


def report_files(built: Path, variant: str) -> tuple[Path, Path]:
    folder = built / variant
    return folder / f"{REPORTS[variant]}.html", folder / f"{REPORTS[variant]}.pdf"


def prose(text: str) -> str:
    return FILE_NAMES.sub(" ", text)


@pytest.mark.parametrize("variant", REPORTS)
def test_no_english_in_what_a_reader_sees(built, variant):
    html, pdf = report_files(built, variant)
    body, about = html_parts(html)
    for where, text in (("HTML", body), ("Om rapporten", about),
                        ("PDF", "\n".join(pdf_lines(pdf)))):
        found = sorted({m.group(0) for m in ENGLISH.finditer(prose(text))})
        assert not found, f"{where}: {found}"


def test_the_csv_behind_the_agenda_selection_is_swedish(built):
    for variant in ("agenda2030-1267", "agenda2030_region-0012"):
        table = pd.read_csv(built / variant / "tables" / "agenda2030_urval.csv", dtype=str)
        notes = table["kalla_malkarta"].fillna("").map(
            lambda s: re.sub(r"'[^']*'", " ", prose(s)))  # quoted code stays as quoted
        english = [n for n in notes if ENGLISH.search(n)]
        assert not english, english[:3]
        assert set(table["konfidens"].dropna()) <= {"hög", "medel", "låg", "hög (omstridd)"}


@pytest.mark.parametrize("variant", REPORTS)
def test_om_rapporten_shows_parameters_as_a_swedish_table_without_json(built, variant):
    html, pdf = report_files(built, variant)
    _, about = html_parts(html)
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    table = soup.select_one("#om-rapporten table.parameters")
    assert table is not None and table.caption.get_text(strip=True) == "Parametrar"
    labels = [th.get_text(strip=True) for th in table.select("tbody th")]
    assert labels and not [label for label in labels if "_" in label]  # no parameter names
    assert not re.search(r"[{}]|\bnull\b|\"\w+\":", about), about
    assert "Källa: Källa" not in about and "Källhänvisning Källa:" not in " ".join(about.split())
    pdf_text = "\n".join(pdf_lines(pdf))
    assert "Parametrar" in pdf_text and not re.search(r"[{}]|\bnull\b", pdf_text)


@pytest.mark.parametrize("variant", REPORTS)
def test_the_command_line_and_parameter_names_only_in_the_colophon(built, variant):
    html, pdf = report_files(built, variant)
    body, about = html_parts(html)
    assert "skr-report" not in body and "`" not in body
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", prose(body)), re.findall(r"\b[a-z]+_[a-z_]+\b",
                                                                      prose(body))
    assert "skr-report run params/" in about
    lines = pdf_lines(pdf)
    about_at = max(i for i, line in enumerate(lines) if line.startswith("Om rapporten"))
    assert not [line for line in lines[:about_at] if "skr-report" in line]


def test_budget_names_its_sources_in_the_closing_line(built):
    _, about = html_parts(report_files(built, "budget_skr")[0])
    citation = " ".join(about.split()).split("Källhänvisning", 1)[1]
    assert "Tabell 1–2: Sveriges Kommuner och Regioner (SKR), Verksamhetsplan med budget 2024" \
        in citation
    assert "Tabell 3: Kolada (RKA), egna beräkningar" in citation


@pytest.mark.parametrize("variant", REPORTS)
def test_swedish_typography(built, variant):
    html, pdf = report_files(built, variant)
    body, _ = html_parts(html)
    assert not HYPHEN_RANGE.search(body), HYPHEN_RANGE.findall(body)
    assert '"' not in body  # one quotation style: ”…”
    assert not re.search(r"\bn = \d|\d %", body)  # no-break spaces inside values
    lines = pdf_lines(pdf)
    text = "\n".join(lines)
    assert not HYPHEN_RANGE.search(text), HYPHEN_RANGE.findall(text)
    assert '"' not in text
    broken = [(a, b) for a, b in itertools.pairwise(lines)
              if re.search(r"\bn =?$|[\dF]–$", a) or re.match(r"^(= \d|%|kr\b)", b)]
    assert not broken, broken[:3]


def _counted(pattern: str, text: str) -> int:
    found = re.search(pattern, " ".join(text.split()))
    assert found, pattern
    words = {"elva": 11, "tolv": 12, "tio": 10}
    return int(words.get(found.group(1), found.group(1)))


@pytest.mark.parametrize("variant", ["agenda2030-1267", "agenda2030_region-0012"])
def test_agenda_counts_in_the_prose_are_the_tables(built, variant):
    html, _ = report_files(built, variant)
    body, _ = html_parts(html)
    selection = pd.read_csv(built / variant / "tables" / "agenda2030_urval.csv", dtype=str)
    assert _counted(r"(\d+) nyckeltal i Kolada-gruppen", body) == len(selection)
    assert _counted(r"(\d+) av dem är könsuppdelade", body) == (
        selection["konsuppdelad"] == "ja").sum()
    assert "ett femtiotal" not in body
    units = "regioner" if "region" in variant else "kommuner"
    assert "kommuner (regioner)" not in body and f"mellan alla {units}" in body
    group = re.search(r"Liknande (?:kommuner|regioner)[^.;(]*?, (\d{4})", body)
    years = selection["senaste_ar"].dropna().astype(int)
    if group and int(group.group(1)) > years.max():
        assert f"RKA:s indelning från {group.group(1)}" in body


def test_budget_counts_in_the_prose_are_the_tables(built):
    body, _ = html_parts(report_files(built, "budget_skr")[0])
    fees = pd.read_csv(built / "budget_skr" / "tables" / "medlemsavgift_familjen_helsingborg.csv")
    members = (fees["kommunnamn"] != "Summa").sum()
    assert _counted(r"de (\w+) medlemskommunerna", body) == members


@pytest.mark.parametrize("variant", ["valfard", "valfard-2463"])
def test_valfard_rows_are_named_by_what_they_show(built, variant):
    body, _ = html_parts(report_files(built, variant)[0])
    table = pd.read_csv(built / variant / "tables" / "tabell2.csv", dtype=str)
    unemployment = table[table["rad_kpi"] == "N03932"]
    if (unemployment["rad_data"] == "N03920").all():
        assert set(unemployment["rad"]) == {"Arbetslöshet 18–65 år"}
        assert "Arbetslöshet 16–65 år" not in body and "Arbetslöshet 18–65 år" in body
