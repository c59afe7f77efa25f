"""helpers.rendering.excel: a report's table as .xlsx, read back with openpyxl."""

from __future__ import annotations

import math
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers.datasets import load_kommuner
from helpers.formatting import MINUS, format_number
from helpers.rendering.excel import (
    HEADER_ROW,
    number_format,
    parse_swedish_number,
    table_workbook,
    write_table_xlsx,
)
from helpers.reports import budget, valfard

NBSP, THIN = "\u00a0", "\u202f"


def write(table, tmp_path: Path, **kwargs) -> Path:
    """``table`` (a report's ``Table``) as the notebook would write it."""
    return write_table_xlsx(tmp_path / f"{table.file_name}.xlsx", table.shown,
                            number=table.number, title=table.title, source=table.source,
                            csv=f"tables/{table.file_name}.csv", index=table.index, **kwargs)


def body(sheet) -> list[list]:
    """The table's cells below the header row, up to the first empty row."""
    rows = []
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1):
        if all(c.value is None for c in row):
            break
        rows.append(list(row))
    return rows


# --- Swedish numbers in, numbers out -------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("563", (563, 0)),
    (f"1{THIN}158", (1158, 0)),
    (f"{MINUS}1{THIN}253", (-1253, 0)),
    ("0,13", (0.13, 2)),
    (f"{MINUS}0,09", (-0.09, 2)),
    (f"3{THIN}170{THIN}475", (3170475, 0)),
    ("4,4", (4.4, 1)),
])
def test_what_format_number_writes_is_read_back(text, expected):
    assert parse_swedish_number(text) == expected


@pytest.mark.parametrize("text", [
    "0180", "012", "2022", "1260", "-5", f"{MINUS}0", "1 158", "1,5 %", "saknas", "saknas i data",
    "–", "199 av 286", "N15001", "", f"1{THIN}15",
])
def test_what_the_reports_never_write_as_a_number_stays_text(text):
    assert parse_swedish_number(text) is None


def test_round_trip_over_magnitudes_and_decimals():
    for value in (0.004, -0.126, 9.995, 12.35, -999.5, 1234.5, -98765.4321, 1e7 + 0.5):
        for decimals in (0, 1, 2, 3):
            text = format_number(value, decimals)
            number, places = parse_swedish_number(text)
            assert places == decimals and format_number(number, decimals) == text


def test_number_format_is_locale_independent_with_a_real_minus():
    assert number_format(0) == f'#,##0;"{MINUS}"#,##0'
    assert number_format(2) == f'#,##0.00;"{MINUS}"#,##0.00'
    assert number_format(1, grouped=False) == f'0.0;"{MINUS}"0.0'


# --- real report tables ------------------------------------------------------------------------


def test_published_budget_table_numbers_are_the_published_numbers(tmp_path):
    """Förbundets resultaträkning (transcribed, committed): every number cell is a number equal
    to the table's data, heading rows stay empty, caption and source are in the sheet."""
    table = budget.published_table(budget.load_resultatrakning())
    sheet = load_workbook(write(table, tmp_path)).active

    assert sheet.title == "Tabell 1"
    assert sheet["A1"].value == "Tabell 1: Förbundets resultaträkning (mkr)"
    assert [c.value for c in sheet[HEADER_ROW]] == list(table.shown.columns)
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    rows = body(sheet)
    # the headings without amounts are the "Del" column (row groups in HTML and PDF)
    amounts = table.data[table.data.drop(columns="Rad").notna().any(axis=1)]
    assert len(rows) == len(amounts)
    assert ["Del", *table.data.columns] == list(table.shown.columns)
    for cells, (label, *data) in zip(rows, amounts.itertuples(index=False), strict=True):
        assert cells[1].value == label and cells[1].data_type == "s"
        for cell, value in zip(cells[2:], data, strict=True):
            assert cell.data_type == "n" and cell.value == value
    minus = next(c for row in rows for c in row[2:] if isinstance(c.value, int) and c.value < 0)
    assert minus.number_format == number_format(0)
    footer = [sheet.cell(HEADER_ROW + len(rows) + 2 + i, 1).value for i in range(2)]
    assert footer == [table.source, "Oavrundade värden: tables/budget_skr.csv"]
    assert "Verksamhetsplan med budget 2024" in footer[0]


def test_correlation_table_on_snapshot(processed_data, tmp_path):
    """Tabell 2 for Åsele: the row labels (index) lead, KPI ids are text, correlations are
    numbers shown with the report's two decimals, "saknas" stays text."""
    data = valfard.load_data(
        valfard.ValfardParams(report="valfard_i_hela_landet", kommun="2463"), processed_data)
    table = valfard.table(data, 2)
    sheet = load_workbook(write(table, tmp_path)).active

    header = [c.value for c in sheet[HEADER_ROW]]
    assert header == [table.shown.index.name, *table.shown.columns]
    rows = body(sheet)
    assert [r[0].value for r in rows] == list(table.shown.index)
    long = table.data[table.data["typ"] == "korrelation"]
    numbers = 0
    for cells in rows:
        assert cells[1].data_type == "s"  # "N15001", "N03920 (ersätter N03932)"
        for cell, column in zip(cells[2:5], header[2:5], strict=True):
            shown = table.shown.loc[cells[0].value, column]
            if shown == "saknas":
                assert cell.value == "saknas"
                continue
            raw = long[(long["rad"] == cells[0].value) & (long["kolumn"] == column)]["varde"]
            assert cell.data_type == "n" and cell.number_format == number_format(2)
            assert cell.value == pytest.approx(raw.item(), abs=0.005 + 1e-12)
            numbers += 1
    assert numbers >= 30
    assert sheet.cell(HEADER_ROW + len(rows) + 2, 1).value == table.source


def test_own_values_table_numbers_keep_their_decimals(processed_data, tmp_path):
    """Tabell 5 for Åsele: the kommun's own values are numbers with the decimals shown (one;
    counts and kronor none), their units text beside them."""
    data = valfard.load_data(
        valfard.ValfardParams(report="valfard_i_hela_landet", kommun="2463"), processed_data)
    table = valfard.own_values(data)[-1]
    rows = body(load_workbook(write(table, tmp_path)).active)
    own = {r[0].value: r for r in rows}
    assert own["Invånare"][2].value == "antal"
    assert own["Invånare"][3].value == 2782 and own["Invånare"][3].number_format == number_format(0)
    assert own["Inpendling"][3].number_format == number_format(1)


def test_fee_table_codes_are_text_and_population_numbers(processed_data, tmp_path):
    """Familjen Helsingborg's fee table: "Kod" 1260 … stays text (a code, not a number),
    population and fee are numbers equal to the data."""
    kommuner = load_kommuner(2022, processed_dir=processed_data)
    members = budget.familjen_helsingborg_members(kommuner)
    shown, data = budget.fee_table(kommuner, members, 21, None, 2022)
    path = write_table_xlsx(tmp_path / "avgift.xlsx", shown, number=3, title="Medlemsavgift",
                            source="Källa: Kolada (RKA), egna beräkningar.")
    rows = body(load_workbook(path).active)
    assert len(rows) == len(members) + 1  # and the Summa row
    for cells, (_, expected) in zip(rows, data.iterrows(), strict=True):
        code, population, fee = cells[1], cells[2], cells[3]
        if expected["kommunnamn"] == "Summa":
            assert code.value is None
        else:
            assert code.value == expected["kommun"] and code.data_type == "s"
            assert code.number_format == "@"
        assert population.data_type == "n" and population.value == expected["befolkning"]
        assert fee.value == pytest.approx(expected["avgift_kr"], abs=0.5)
    assert {r[1].value for r in rows[:-1]} == set(members)


# --- frames of raw numbers (a figure's data) -----------------------------------------------------


def test_raw_frame_codes_years_booleans_and_decimals():
    frame = pd.DataFrame({
        "ar": [2022, 2022, 2021],
        "kommun": ["0180", "1280", "2463"],
        "lan": ["01", "12", "24"],
        "kpi": ["N01951", "U11404", "N15001"],
        "varde": [30.49648957, -7.760198190211588e-05, 1234.5],
        "n": [290, 12, 3],
        "vald_kommun": [True, False, False],
        "grupp": ["A1 Storstäder", "<6\u202f000", None],
    })
    sheet = table_workbook(frame, number=1, title="Underlag", kind="Figur",
                           decimals={"n": 0}).active
    assert sheet.title == "Figur 1" and sheet["A1"].value == "Figur 1: Underlag"
    rows = body(sheet)
    ar, kommun, lan, kpi, varde, n, vald, grupp = zip(*rows, strict=True)
    assert [c.value for c in ar] == [2022, 2022, 2021] and ar[0].number_format == "0"
    assert [c.value for c in kommun] == ["0180", "1280", "2463"]
    assert all(c.number_format == "@" for c in kommun + lan + kpi)
    assert [c.value for c in lan] == ["01", "12", "24"]  # "12" too: the column is a code
    assert [c.value for c in varde] == [30.49648957, -7.760198190211588e-05, 1234.5]
    assert [c.number_format for c in varde] == [number_format(1), number_format(2),
                                                number_format(0)]
    assert [c.value for c in n] == [290, 12, 3]
    assert [c.value for c in vald] == ["ja", "nej", "nej"]
    assert grupp[2].value is None


def test_text_columns_and_code_like_cells_keep_the_column_text():
    frame = pd.DataFrame({"Mål": ["1", "13"], "Område": ["0114", "114"], "Antal": ["5", "12"]})
    rows = body(table_workbook(frame, number=1, title="t", text_columns={"Mål"}).active)
    assert [r[0].value for r in rows] == ["1", "13"]
    assert [r[1].value for r in rows] == ["0114", "114"]  # one leading zero: the column is codes
    assert [r[2].value for r in rows] == [5, 12]


def test_years_in_a_year_column_are_numbers_without_thousands_gap():
    frame = pd.DataFrame({"Senaste år": ["2022", "2018"], "Kod": ["2022", "2018"]})
    rows = body(table_workbook(frame, number=1, title="t").active)
    assert [(r[0].value, r[0].number_format) for r in rows] == [(2022, "0"), (2018, "0")]
    assert [r[1].value for r in rows] == ["2022", "2018"]


# --- the file ----------------------------------------------------------------------------------


def test_same_table_same_bytes_and_no_date_of_writing(tmp_path):
    table = budget.check_table(budget.load_resultatrakning())
    vintage = datetime(2024, 5, 17, 8, 30, tzinfo=UTC)
    first = write(table, tmp_path / "a", created=vintage).read_bytes()
    second = write(table, tmp_path / "b", created=vintage).read_bytes()
    assert first == second
    path = tmp_path / "a" / "budget_skr_kontroll.xlsx"
    with zipfile.ZipFile(path) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    properties = load_workbook(path).properties
    assert properties.created == properties.modified == datetime(2024, 5, 17, 8, 30)
    assert properties.creator == "SKR-rapporter" and properties.language == "sv-SE"
    assert properties.title == "Tabell 2: Kontroll av summorna"


def test_nothing_english_in_what_a_reader_sees(tmp_path):
    frame = pd.DataFrame({"Kommun": ["Åsele"], "Vald": [True], "Värde": [math.nan]})
    path = write_table_xlsx(tmp_path / "t.xlsx", frame, number=5, title="Åsele")
    with zipfile.ZipFile(path) as archive:
        texts = " ".join(archive.read(name).decode("utf-8") for name in archive.namelist()
                         if name.startswith("xl/") and name.endswith(".xml"))
    for english in ("True", "False", "Sheet", "nan", "NaN", "None"):
        assert f">{english}<" not in texts and f'"{english}"' not in texts


def test_widths_fit_the_text_and_long_text_wraps(tmp_path):
    table = budget.check_table(budget.load_resultatrakning())
    sheet = load_workbook(write(table, tmp_path)).active
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFG"}
    assert widths["G"] == 60  # "Delar": long formulas, capped and wrapped
    assert widths["A"] >= len("Resultat efter finansiella poster")
    assert widths["C"] < 20  # "Publicerad summa" over short numbers
    wrapped = sheet.cell(HEADER_ROW + 4, 7)
    assert wrapped.alignment.wrap_text and sheet.row_dimensions[HEADER_ROW + 4].height > 15


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_a_swedish_spreadsheet_shows_swedish_numbers_from_the_same_file(tmp_path):
    """The format codes are locale-independent: LibreOffice in sv_SE shows 1 158 and 0,13, in
    en_US 1,158 and 0.13 - from the same bytes."""
    frame = pd.DataFrame({"Kod": ["0180"], "Summa": [f"1{THIN}158"], "r": [f"{MINUS}0,09"]})
    path = write_table_xlsx(tmp_path / "t.xlsx", frame, number=1, title="t")
    shown = {}
    for locale in ("sv_SE", "en_US"):
        out = tmp_path / locale
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": f"{locale}.UTF-8",
               "LC_ALL": f"{locale}.UTF-8"}
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{out}/profile",
                        "--convert-to", "csv:Text - txt - csv (StarCalc):59,34,76,1",
                        "--outdir", str(out), str(path)], env=env, check=True,
                       capture_output=True, timeout=180)
        shown[locale] = (out / "t.csv").read_text(encoding="utf-8").splitlines()[HEADER_ROW]
    assert shown["sv_SE"] == f'"0180";1{NBSP}158;{MINUS}0,09'  # quoted: a text cell
    assert shown["en_US"] == f'"0180";1,158;{MINUS}0.09'
