"""data/processed: the kommun table, the values table, size classes, the catalogue."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from helpers import domain, paths
from helpers.datasets import (
    DEFAULT_SIZE_LIMITS,
    KOMMUN_COLUMNS,
    build_kommuner,
    catalogue_for,
    fetch_for,
    load_kommuner,
    load_source,
    load_values,
    size_class,
    size_class_labels,
)
from helpers.formatting import THOUSANDS_SEP
from helpers.params import ReportParams
from helpers.sources.kolada import KoladaClient

NNBSP = "\u202f"
GROUP_CODES = ["A1", "A2", "B3", "B4", "B5", "C6", "C7", "C8", "C9"]


class _Kpis(ReportParams):
    """A minimal parameter model needing one KPI (plus N01951, which fetch_for always adds)."""

    def required_kpis(self) -> list[str]:
        return ["U15401"]


@pytest.fixture(scope="module")
def client(kolada_server, tmp_path_factory) -> KoladaClient:
    return KoladaClient(base_url=kolada_server.base_url,
                        cache_dir=tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def kommuner(processed_data) -> pd.DataFrame:
    return load_kommuner(2022, processed_dir=processed_data)


# --- size classes ------------------------------------------------------------------------------


def test_default_size_class_labels():
    assert THOUSANDS_SEP == NNBSP
    assert size_class_labels(DEFAULT_SIZE_LIMITS) == [
        f"<6{NNBSP}000",
        f"6{NNBSP}000–9{NNBSP}999",
        f"10{NNBSP}000–19{NNBSP}999",
        f"20{NNBSP}000–49{NNBSP}999",
        f"50{NNBSP}000–99{NNBSP}999",
        f"≥100{NNBSP}000",
    ]


def test_other_size_class_limits():
    assert size_class_labels([0, 15000, 1_000_000]) == [
        f"<15{NNBSP}000", f"15{NNBSP}000–999{NNBSP}999", f"≥1{NNBSP}000{NNBSP}000"]
    assert size_class_labels([0, 500]) == ["<500", "≥500"]


@pytest.mark.parametrize("limits", [[6000, 10000], [0, 10000, 6000], [0, 6000, 6000], [],
                                    [0, 6000.5]])
def test_invalid_size_class_limits_are_rejected(limits):
    with pytest.raises(ValueError, match="storleksklasser"):
        size_class_labels(limits)


def test_size_class_boundaries_and_missing_population():
    classes = size_class(pd.Series([5999, 6000, 9999, 10000, 99999, 100000, None]))
    assert classes.cat.ordered
    assert list(classes.iloc[:6]) == [f"<6{NNBSP}000", f"6{NNBSP}000–9{NNBSP}999",
                                      f"6{NNBSP}000–9{NNBSP}999", f"10{NNBSP}000–19{NNBSP}999",
                                      f"50{NNBSP}000–99{NNBSP}999", f"≥100{NNBSP}000"]
    assert pd.isna(classes.iloc[6])
    assert classes.iloc[0] < classes.iloc[5]


# --- the kommun table --------------------------------------------------------------------------


def test_kommun_table_has_290_kommuner_and_the_contract_columns(kommuner):
    assert list(kommuner.columns) == KOMMUN_COLUMNS
    assert len(kommuner) == 290
    assert kommuner["kommun"].is_unique
    assert kommuner["kommun"].str.fullmatch(r"\d{4}").all()
    assert (kommuner["lan"] == kommuner["kommun"].str[:2]).all()
    assert kommuner["lansnamn"].notna().all()


def test_kommungrupp_2023_sizes_and_names(kommuner):
    sizes = kommuner["kommungrupp_2023_kod"].value_counts()
    assert [sizes[code] for code in GROUP_CODES] == [3, 43, 23, 63, 24, 27, 51, 35, 21]
    names = dict(zip(kommuner["kommungrupp_2023_kod"], kommuner["kommungrupp_2023"],
                     strict=True))
    assert names["A1"] == "Storstäder"
    assert names["C7"] == "Pendlingskommun nära mindre tätort"
    assert names["C8"] == "Landsbygdskommun"
    assert not any("ovägt" in name for name in names.values())


def test_kommungrupp_2017_sizes(kommuner):
    sizes = kommuner["kommungrupp_2017_kod"].value_counts()
    assert [sizes[code] for code in GROUP_CODES] == [3, 43, 21, 52, 35, 29, 52, 40, 15]


def test_stockholm_population_2022(kommuner):
    stockholm = kommuner.set_index("kommun").loc["0180"]
    assert stockholm["befolkning"] == 984_748
    assert stockholm["kommunnamn"] == "Stockholm"
    assert (stockholm["lan"], stockholm["lansnamn"]) == ("01", "Stockholms län")
    assert stockholm["kommungrupp_2023_kod"] == "A1"
    assert stockholm["storleksklass"] == f"≥100{NNBSP}000"


def test_size_classes_cover_every_kommun_with_a_population(kommuner):
    assert kommuner["befolkning"].notna().all()
    assert kommuner["storleksklass"].notna().all()
    assert list(kommuner["storleksklass"].cat.categories) == size_class_labels(
        DEFAULT_SIZE_LIMITS)
    assert (kommuner["storleksklass"] == f"<6{NNBSP}000").sum() == (
        kommuner["befolkning"] < 6000).sum()


def test_load_kommuner_recomputes_size_classes_for_other_limits(processed_data):
    table = load_kommuner(2022, size_limits=[0, 50000], processed_dir=processed_data)
    assert list(table["storleksklass"].cat.categories) == [f"<50{NNBSP}000", f"≥50{NNBSP}000"]
    assert (table["storleksklass"] == f"≥50{NNBSP}000").sum() == (
        table["befolkning"] >= 50000).sum()


def test_load_kommuner_for_another_year_takes_that_years_population(processed_data):
    table = load_kommuner(2021, processed_dir=processed_data).set_index("kommun")
    population = load_values(["N01951"], processed_dir=processed_data)
    expected = population.query("municipality == '0180' and period == 2021 and gender == 'T'")
    assert table.loc["0180", "befolkning"] == expected["value"].item()
    assert table.loc["0180", "befolkning"] != 984_748


def test_missing_reference_file_leaves_2017_columns_out_and_logs_why(client, tmp_path, caplog):
    population = client.values("N01951", years=2022)
    with caplog.at_level(logging.WARNING, logger="helpers.datasets"):
        table = build_kommuner(client, population, 2022, reference_dir=tmp_path)
    assert "kommungrupp_2017_kod" not in table.columns
    assert "kommungrupp_2017" not in table.columns
    assert len(table) == 290
    assert "kommungrupp_2023_kod" in table.columns
    assert any("kommungrupp_2017" in r.getMessage() and str(tmp_path) in r.getMessage()
               for r in caplog.records)
    # Without kommuner_lan.csv the län names come from Kolada's region units.
    assert table.set_index("kommun").loc["0180", "lansnamn"] == "Region Stockholm"


def test_missing_reference_dir_via_paths(client, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(paths, "REFERENCE_DIR", tmp_path / "nowhere")
    population = client.values("N01951", years=2022)
    with caplog.at_level(logging.WARNING, logger="helpers.datasets"):
        table = build_kommuner(client, population, 2022)
    assert "kommungrupp_2017" not in table.columns
    assert "not found" in caplog.text


def test_kommun_without_population_keeps_nan_and_is_counted(client, caplog):
    population = client.values("N01951", years=2022)
    population = population[~population["municipality"].isin(["2425", "0180"])]
    with caplog.at_level(logging.WARNING, logger="helpers.datasets"):
        table = build_kommuner(client, population, 2022).set_index("kommun")
    assert pd.isna(table.loc["2425", "befolkning"])
    assert pd.isna(table.loc["2425", "storleksklass"])
    assert table["befolkning"].isna().sum() == 2
    assert "2 of 290 kommuner have no population" in caplog.text


# --- values and fetch_for ----------------------------------------------------------------------


def test_fetch_reports_kpis_without_values_as_missing(processed_fetch, processed_data):
    assert sorted(processed_fetch.missing_kpis) == ["N01721", "N02937", "N03932"]
    assert processed_fetch.year == 2022
    missing = load_values(["N01721"], processed_dir=processed_data)
    assert missing.empty
    assert tuple(missing.columns) == domain.VALUE_COLUMNS


def test_values_table_has_the_client_columns_and_every_unit(processed_data):
    values = load_values(["U15401", "N01951"], processed_dir=processed_data)
    assert tuple(values.columns) == domain.VALUE_COLUMNS
    assert set(values["kpi"]) == {"U15401", "N01951"}
    units_2022 = values.query("kpi == 'N01951' and period == 2022 and gender == 'T'")
    assert units_2022["municipality"].nunique() == 290 + 21 + 1  # kommuner, regions, Riket
    assert values["period"].dtype == "int64"
    riket = units_2022.set_index("municipality").loc["0000", "value"]
    assert riket == pytest.approx(units_2022.query("municipality.str.len() == 4 and "
                                                   "not municipality.str.startswith('00')")
                                  ["value"].sum())


def test_load_values_of_a_kpi_never_fetched_names_the_fix(processed_data):
    with pytest.raises(FileNotFoundError, match="skr-report fetch"):
        load_values(["N99999"], processed_dir=processed_data)


def test_years_with_data(processed_fetch):
    years = processed_fetch.years_with_data()
    assert years[-1] == 2022
    assert set(years) <= set(processed_fetch.years_with_data(how="any"))
    assert 1998 not in years
    assert 1998 in processed_fetch.years_with_data(["N01951"])


def test_source_json_names_the_snapshot(processed_data, kolada_server):
    source = load_source(processed_data)
    assert source["base_url"] == kolada_server.base_url
    assert source["snapshot"] is True and source["live_api"] is False
    assert '"recorded":"2024-08"' in source["snapshot_vintage"]
    assert source["fetched_at"]
    assert "U15401" in source["kpis"]


def test_second_fetch_makes_no_requests_and_writes_the_same_data(kolada_server, tmp_path):
    params = _Kpis(report="test", year=2021)
    first = fetch_for(params, KoladaClient(kolada_server.base_url, cache_dir=tmp_path / "raw"),
                      tmp_path / "processed")
    before = load_values(processed_dir=tmp_path / "processed")
    again = fetch_for(params, KoladaClient(kolada_server.base_url, cache_dir=tmp_path / "raw"),
                      tmp_path / "processed")
    assert first.requests > 0
    assert again.requests == 0
    pd.testing.assert_frame_equal(before, load_values(processed_dir=tmp_path / "processed"))
    assert (tmp_path / "processed" / "kommuner_2021.parquet").is_file()
    leftovers = [p.name for p in (tmp_path / "processed").rglob("*.tmp")]
    assert leftovers == []
    assert json.loads((tmp_path / "processed" / "source.json").read_text())["kpis"] == [
        "N01951", "U15401"]


def test_fetch_with_years_fetches_only_those_years(kolada_server, tmp_path):
    class Recent(_Kpis):
        def required_years(self) -> list[int]:
            return [2021, 2022]

    result = fetch_for(Recent(report="test"),
                       KoladaClient(kolada_server.base_url, cache_dir=tmp_path / "raw"),
                       tmp_path / "processed")
    values = load_values(processed_dir=tmp_path / "processed")
    assert set(values["period"]) == {2021, 2022}
    assert result.year == 2022


# --- the catalogue -----------------------------------------------------------------------------


def test_catalogue_is_built_once_per_client(client):
    catalogue = catalogue_for(client)
    requests = client.stats.requests + client.stats.cache_hits
    assert catalogue_for(client) is catalogue
    assert client.stats.requests + client.stats.cache_hits == requests
    assert len(catalogue.kommuner) == 290
    assert catalogue.kommuner["0114"] == "Upplands Väsby"
    assert catalogue.regions["0000"] == "Riket"
    assert len(catalogue.regions) == 22
    assert catalogue.kpis["N01951"].startswith("Invånare totalt")
    assert catalogue.is_divided_by_gender("N01951")
    assert not catalogue.is_divided_by_gender("N00097")
    assert catalogue.unit_name("0001") == "Region Stockholm"
