"""helpers.reports.budget: the published resultaträkning, its sum check, the fee tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.build.parameters import validate_params
from helpers.params import ParamsError
from helpers.rendering.notebook import ReportNotebook
from helpers.reports import budget

# REPORT_SPEC §2, as published in seeds/000 (row, Budget 2023, Prognos T2 2023, Budget 2024).
PUBLISHED = [
    ("Intäkter", None, None, None),
    ("Förbundsavgifter", 563, 563, 580),
    ("Avgiftsfinansierad verksamhet", 75, 81, 63),
    ("Externfinansierade projekt", 519, 595, 533),
    ("Summa intäkter", 1158, 1239, 1177),
    ("Kostnader", None, None, None),
    ("Den politiska organisationen", -64, -61, -50),
    ("Avdelningarnas bruttokostnader", -489, -491, -494),
    ("Externfinansierade projekt", -519, -595, -533),
    ("Lokaler och internservice", -93, -91, -96),
    ("Övriga centrala kostnader", -81, -88, -73),
    ("Bidrag och medlemsavgifter", -8, -8, -8),
    ("Summa kostnader", -1253, -1334, -1254),
    ("Rörelseresultat", -96, -96, -77),
    ("Gottgörelse (från Pensionsstiftelsen)", 45, 0, 28),
    ("Centrala pensionskostnader", -38, -56, -68),
    ("Finansförvaltning (inkl koncernbidrag)", 89, 151, 117),
    ("Summa finansiella poster", 96, 96, 77),
    ("Resultat efter finansiella poster", 0, 0, 0),
]
HEADINGS = ["Budget 2023", "Prognos T2 2023", "Budget 2024"]
# Which published rows (0-based positions in PUBLISHED) each sum adds up.
SUMS = {4: [1, 2, 3], 12: [6, 7, 8, 9, 10, 11], 13: [4, 12], 17: [14, 15, 16], 18: [13, 17]}


@pytest.fixture(scope="module")
def rr() -> pd.DataFrame:
    return budget.load_resultatrakning()


def test_table_equals_the_published_one_cell_for_cell(rr):
    table = budget.resultatrakning_table(rr)
    assert list(table.columns) == ["Rad", *HEADINGS, budget.CHANGE_COLUMN]
    assert len(table) == len(PUBLISHED)
    for i, (rad, *values) in enumerate(PUBLISHED):
        assert table.at[i, "Rad"] == rad
        for heading, value in zip(HEADINGS, values, strict=True):
            cell = table.at[i, heading]
            assert (pd.isna(cell) if value is None else cell == value), (rad, heading, cell)


def test_change_budget_2023_to_2024_per_row(rr):
    table = budget.resultatrakning_table(rr)
    for i, (rad, b23, _, b24) in enumerate(PUBLISHED):
        change = table.at[i, budget.CHANGE_COLUMN]
        assert (pd.isna(change) if b23 is None else change == b24 - b23), rad


def test_rounding_differences_are_exactly_those_in_the_published_figures(rr):
    expected = {}
    for row, parts in SUMS.items():
        for k, heading in enumerate(HEADINGS):
            published = PUBLISHED[row][k + 1]
            difference = published - sum(PUBLISHED[p][k + 1] for p in parts)
            expected[(PUBLISHED[row][0], heading)] = difference
    check = budget.sum_check(rr)
    found = {(r.Rad, r.Kolumn): r.Differens for r in check.itertuples()}
    assert found == expected
    differences = budget.rounding_differences(check)
    assert {(r.Rad, r.Kolumn): r.Differens for r in differences.itertuples()} == {
        key: d for key, d in expected.items() if d != 0}
    assert len(differences) == 6  # e.g. Summa intäkter Budget 2023: 563 + 75 + 519 = 1 157
    assert set(differences["Bedömning"]) == {"avrundningsdifferens"}
    # never corrected: the published sums stay in the table
    assert budget.resultatrakning_table(rr).at[4, "Budget 2023"] == 1158


def test_kontroll_text_names_every_difference(rr):
    text = budget.sum_check_text(rr)
    assert text.startswith("6 publicerade summor")
    assert "avrundningsdifferenser" in text and "rätt" not in text.replace("rättelser", "")


def test_parts_written_with_a_real_minus_sign(rr):
    check = budget.sum_check(rr)
    row = check[(check["Rad"] == "Summa kostnader") & (check["Kolumn"] == "Budget 2023")]
    parts = row["Delar"].item()
    assert "(Den politiska organisationen \u221264)" in parts
    assert "-" not in parts.replace("Den politiska", "")


def test_title_block_says_what_the_report_is_built_from():
    params = budget.BudgetParams(report="budget", medlemsavgift_skanes_kr_per_invanare=None)
    subtitle, dateline = params.title_block("Hela landet", 2022, "Kolada, hämtade 1 maj 2024")
    assert subtitle == "SKR:s budget 2023–2024 och medlemsavgifter · befolkning 2022"
    assert dateline.startswith("Underlag: SKR:s resultaträkning (Budget 2023, Prognos T2 2023, "
                               "Budget 2024) ur SKR:s verksamhetsplan med budget 2024")
    assert dateline.endswith("befolkningen (N01951) i medlemsavgiftstabellerna: Kolada, "
                             "hämtade 1 maj 2024")
    assert budget.RESULTATRAKNING_DOCUMENT.removeprefix("SKR:s v") in \
        budget.resultatrakning_source().lower()


def test_source_names_document_and_page(rr):
    assert "Verksamhetsplan med budget 2024" in rr.attrs["source"]
    assert "s. 19" in rr.attrs["source"]


def test_written_csvs(rr, tmp_path):
    table = budget.published_table(rr)
    display = table.shown
    assert display.at[3, "Budget 2023"] == "1\u202f158"
    assert display.at[10, "Budget 2023"] == "\u22121\u202f253"
    # the headings without amounts head row groups that run to their sum, not blank rows
    assert "Intäkter" not in set(display["Rad"]) and table.group == "Del"
    assert list(display["Del"]) == ["Intäkter"] * 4 + ["Kostnader"] * 7 + [""] * 6
    assert table.source == rr.attrs["source"]  # SKR's document, not Kolada
    ReportNotebook(None, tmp_path).show(table, budget.check_table(rr))
    written = pd.read_csv(tmp_path / "tables" / "budget_skr.csv")
    assert written["Budget 2024"].tolist()[1:5] == [580, 63, 533, 1177]
    check = pd.read_csv(tmp_path / "tables" / "budget_skr_kontroll.csv")
    assert (check["Differens"] != 0).sum() == 6


# --- medlemsavgift ------------------------------------------------------------------------------


def _kommuner() -> pd.DataFrame:
    return pd.DataFrame({"kommun": ["1260", "1283", "1214", "0114"],
                         "kommunnamn": ["Bjuv", "Helsingborg", "Svalöv", "Upplands Väsby"],
                         "lan": ["12", "12", "12", "01"],
                         "befolkning": [16062.0, 150975.0, np.nan, 48000.0]})


def test_fee_table_total_is_fee_times_population():
    table = budget.medlemsavgift(_kommuner(), ["1260", "1283"], 21.0)
    assert table["avgift_kr"].sum() == pytest.approx(21.0 * (16062 + 150975))
    assert table["andel_procent"].sum() == pytest.approx(100)
    assert table.attrs["kr_per_invanare_indexerad"] == 21.0


def test_fee_indexed_and_missing_population_kept_missing():
    table = budget.medlemsavgift(_kommuner(), ["1260", "1214"], 20.0, index_procent=2.5)
    assert table.attrs["kr_per_invanare_indexerad"] == pytest.approx(20.5)
    assert table.at[0, "avgift_kr"] == pytest.approx(16062 * 20.5)
    assert math.isnan(table.at[1, "avgift_kr"])
    assert table.attrs["saknar_befolkning"] == 1
    assert "1 kommuner saknar befolkning" in budget.medlemsavgift_text(table, "X", 2022)


def test_no_fee_no_table():
    with pytest.raises(ValueError, match="required"):
        budget.medlemsavgift(_kommuner(), ["1260"], None)


def test_skanes_fee_key_required_but_may_be_null():
    with pytest.raises(ParamsError, match="medlemsavgift_skanes_kr_per_invanare is required"):
        validate_params({"report": "budget"})
    params = validate_params({"report": "budget", "medlemsavgift_skanes_kr_per_invanare": None})
    assert params.medlemsavgift_skanes_kr_per_invanare is None
    assert params.medlemsavgift_familjen_helsingborg_kr_per_invanare == 21.0
    assert params.required_kpis() == ["N01951"]
    with pytest.raises(ParamsError, match="greater than 0"):
        validate_params({"report": "budget", "medlemsavgift_skanes_kr_per_invanare": -3})


def test_params_file_runs_without_skanes_fee():
    from helpers.build.parameters import load_params
    from helpers.paths import PARAMS_DIR

    params = load_params(PARAMS_DIR / "budget_skr.yaml")
    assert params.report == "budget" and params.medlemsavgift_skanes_kr_per_invanare is None


# --- through the pipeline: replay server → client → processed data ------------------------------


@pytest.fixture(scope="module")
def processed(kolada_server, tmp_path_factory):
    from helpers.datasets import fetch_for
    from helpers.sources.kolada import KoladaClient

    root = tmp_path_factory.mktemp("budget_data")
    client = KoladaClient(base_url=kolada_server.base_url, cache_dir=root / "raw")
    params = budget.BudgetParams(report="budget", medlemsavgift_skanes_kr_per_invanare=None)
    return fetch_for(params, client, root / "processed")


def test_medlemsavgift_on_snapshot(processed, tmp_path):
    from helpers.datasets import load_kommuner, load_values

    values = load_values(["N01951"], processed.processed_dir)
    year = budget.population_year(values)
    assert year == 2022
    kommuner = load_kommuner(year, processed_dir=processed.processed_dir)
    skane = budget.skanes_kommuner_members(kommuner)
    assert len(skane) == 33 and all(code.startswith("12") for code in skane)
    family = budget.familjen_helsingborg_members(kommuner)
    assert len(family) == 11

    population = values[(values["period"] == year) & (values["gender"] == "T")].set_index(
        "municipality")["value"]
    params = budget.BudgetParams(report="budget", kommun="1283",
                                 medlemsavgift_skanes_kr_per_invanare=12.5,
                                 medlemsavgift_skanes_index_procent=3.0)
    parts = budget.fee_section(params, kommuner, year, budget.SKANES_KOMMUNER)
    ReportNotebook(params, tmp_path).show(parts)
    csv = pd.read_csv(tmp_path / "tables" / "medlemsavgift_skanes_kommuner.csv",
                      dtype={"kommun": str})
    members = csv[csv["kommunnamn"] != "Summa"]
    assert len(members) == 33
    total = csv.loc[csv["kommunnamn"] == "Summa", "avgift_kr"].item()
    assert total == pytest.approx(12.5 * 1.03 * population[skane].sum())
    assert csv["avgift_per_invanare_kr"].tolist() == pytest.approx([12.875] * 34)
    assert parts[0].startswith("Avgift per invånare × befolkning (N01951) i var och en av de "
                               "33 kommunerna i Skåne län")  # counted from the members
    assert "12,50 kr per invånare" in parts[1] and "3,0 %" in parts[1]
    assert parts[2].number == 3

    parts = budget.fee_section(params, kommuner, year, budget.FAMILJEN_HELSINGBORG)
    ReportNotebook(params, tmp_path).show(parts)
    csv = pd.read_csv(tmp_path / "tables" / "medlemsavgift_familjen_helsingborg.csv",
                      dtype={"kommun": str})
    total = csv.loc[csv["kommunnamn"] == "Summa", "avgift_kr"].item()
    assert total == pytest.approx(21 * population[family].sum())
    assert "de elva medlemskommunerna" in parts[0]
    assert "21,00 kr per invånare (2025)" in parts[1]
    assert parts[2].shown["Kommun"].str.endswith("◀").sum() == 1  # Helsingborg marked
    assert parts[2].number == 4


def test_a_kommun_in_neither_fee_table_is_said_to_be_no_member(processed):
    """Kiruna (2584) is in neither table: each says so; Helsingborg (1283) is marked, not
    named (walk 15)."""
    from helpers.datasets import load_kommuner

    kommuner = load_kommuner(2022, processed_dir=processed.processed_dir)
    fees = {"medlemsavgift_skanes_kr_per_invanare": 12.5}
    kiruna = budget.BudgetParams(report="budget", kommun="2584", **fees)
    for organisation in budget.FEE_ORGANISATIONS:
        _, text, table = budget.fee_section(kiruna, kommuner, 2022, organisation)
        assert text.endswith(f"Kiruna (2584) är inte medlem i {organisation.name}; ingen rad i "
                             "tabellen är markerad.")
        assert not table.shown["Kommun"].str.endswith("◀").any()
    helsingborg = budget.BudgetParams(report="budget", kommun="1283", **fees)
    _, text, table = budget.fee_section(helsingborg, kommuner, 2022, budget.FAMILJEN_HELSINGBORG)
    assert "inte medlem" not in text and table.shown["Kommun"].str.endswith("◀").sum() == 1


def test_skanes_without_fee_says_so(processed, tmp_path):
    from helpers.datasets import load_kommuner

    kommuner = load_kommuner(2022, processed_dir=processed.processed_dir)
    params = budget.BudgetParams(report="budget", medlemsavgift_skanes_kr_per_invanare=None)
    parts = budget.fee_section(params, kommuner, 2022, budget.SKANES_KOMMUNER)
    assert parts[1:] == [budget.NO_SKANES_FEE_TEXT] and "Ingen avgift angiven" in parts[1]
    assert "medlemsavgift_" not in " ".join(parts)  # no parameter name for the reader
    family = budget.fee_section(params, kommuner, 2022, budget.FAMILJEN_HELSINGBORG)
    assert family[2].number == 3  # no gap in the numbering
