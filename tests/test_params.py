"""The parameter model: YAML reading (the octal trap), kommun names and codes, unknown keys,
KPI ids and years, checked against the catalogue served by the replay server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import Field

from helpers.datasets import catalogue_for, fetch_for
from helpers.kolada import KoladaClient
from helpers.params import (
    KOMMUN,
    REGION,
    KommunCode,
    KpiId,
    ParamsError,
    ReportParams,
    check_year,
    format_years,
    load_params,
    normalize_kommun,
    normalize_unit,
    read_yaml,
    register_report,
    validate_params,
)


@register_report("testrapport")
class _TestParams(ReportParams):
    """A report with KPIs and a list of comparison kommuner."""

    kpis: list[KpiId] = Field(default_factory=lambda: ["N01951"])
    jamforelse: list[KommunCode] = Field(default_factory=list)

    def required_kpis(self) -> list[str]:
        return list(self.kpis)


@register_report("testrapport_region")
class _LevelParams(ReportParams):
    """A report for kommuner or regions, like the Agenda 2030 model."""

    level: Literal["kommun", "region"] = "kommun"

    @classmethod
    def unit_types(cls, data: Any) -> tuple[str, ...]:
        return (REGION,) if data.get("level") == "region" else (KOMMUN,)


@pytest.fixture(scope="module")
def client(kolada_server, tmp_path_factory) -> KoladaClient:
    return KoladaClient(base_url=kolada_server.base_url,
                        cache_dir=tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def catalogue(client):
    return catalogue_for(client)


def write(tmp_path: Path, text: str, name: str = "test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the octal trap and kommun normalisation ---------------------------------------------------


def test_unquoted_0114_is_read_as_octal_by_plain_pyyaml():
    assert yaml.safe_load("kommun: 0114") == {"kommun": 76}  # the trap this module avoids


def test_unquoted_0114_in_yaml_stays_0114(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport\nkommun: 0114\n")
    assert read_yaml(path) == {"report": "testrapport", "kommun": "0114"}
    assert load_params(path, catalogue).kommun == "0114"


def test_leading_zero_code_that_is_no_valid_octal_and_other_ints_still_load(tmp_path):
    path = write(tmp_path, "report: testrapport\nkommun: 0180\nyear: 2022\nx: 0\ny: -7\n")
    assert read_yaml(path) == {"report": "testrapport", "kommun": "0180", "year": 2022,
                               "x": 0, "y": -7}


@pytest.mark.parametrize("value", [114, "114", "0114", 76, "Upplands Väsby", "upplands väsby",
                                   "Upplands Väsby kommun", " UPPLANDS VÄSBY "])
def test_kommun_forms_resolve_to_0114(value, catalogue):
    assert normalize_kommun(value, catalogue) == "0114"


@pytest.mark.parametrize(("value", "code"), [(180, "0180"), ("Stockholms kommun", "0180"),
                                             ("Göteborg", "1480"), (1280, "1280"),
                                             ("Malmö kommun", "1280"), ("2425", "2425")])
def test_other_kommuner(value, code, catalogue):
    assert normalize_kommun(value, catalogue) == code


@pytest.mark.parametrize("text", ["kommun: 114", "kommun: 0114", "kommun: '0114'",
                                  'kommun: "0114"', "kommun: Upplands Väsby"])
def test_kommun_in_yaml_resolves_to_0114(text, tmp_path, catalogue):
    path = write(tmp_path, f"report: testrapport\n{text}\n")
    params = load_params(path, catalogue)
    assert params.kommun == "0114"
    assert params.model_dump(mode="json")["kommun"] == "0114"


def test_octal_read_int_from_plain_yaml_is_recovered(catalogue):
    data = yaml.safe_load("report: testrapport\nkommun: 0114\njamforelse: [0115, 0117]\n")
    params = validate_params(data, catalogue)
    assert params.kommun == "0114"
    assert params.jamforelse == ["0115", "0117"]


def test_unknown_kommun_names_the_closest_matches(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport\nkommun: Upsala\n")
    with pytest.raises(ParamsError) as error:
        load_params(path, catalogue)
    message = str(error.value)
    assert str(path) in message
    assert "'kommun'" in message
    assert "Upsala" in message
    assert "0380 Uppsala" in message
    assert message.count(";") >= 2  # three matches
    assert "Fix" in message


def test_unknown_kommun_code_names_close_codes(catalogue):
    with pytest.raises(ValueError, match="0114 Upplands Väsby") as error:
        normalize_kommun("0118", catalogue)
    assert "Closest matches" in str(error.value)


def test_region_code_is_rejected_where_only_kommuner_are_allowed(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport\nkommun: '0001'\n")
    with pytest.raises(ParamsError, match=r"Region Stockholm\) is not a kommun"):
        load_params(path, catalogue)


def test_region_codes_are_valid_where_the_model_allows_regions(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport_region\nlevel: region\nkommun: 0001\n")
    assert load_params(path, catalogue).kommun == "0001"
    assert normalize_unit("0000", catalogue, (KOMMUN, REGION)) == "0000"
    assert normalize_unit("Region Skåne", catalogue, (REGION,)) == "0012"
    with pytest.raises(ParamsError, match="not a region"):
        load_params(path, catalogue, kommun="0114")


def test_without_a_catalogue_codes_are_normalised_and_names_refused():
    assert normalize_kommun(114, None) == "0114"
    assert normalize_kommun("0114", None) == "0114"
    with pytest.raises(ValueError, match="catalogue"):
        normalize_kommun("Upplands Väsby", None)


# --- keys, reports, overrides ------------------------------------------------------------------


def test_unknown_key_is_rejected_with_the_allowed_keys(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport\nkommmun: '0114'\n")
    with pytest.raises(ParamsError) as error:
        load_params(path, catalogue)
    message = str(error.value)
    assert str(path) in message
    assert "kommmun" in message
    assert "Allowed keys for this report: report, kommun, year, kpis, jamforelse" in message
    assert "extra" not in message.lower()  # not pydantic's default wording


def test_unknown_report_lists_the_registered_ones(tmp_path):
    with pytest.raises(ParamsError, match="testrapport") as error:
        load_params(write(tmp_path, "report: nosuchreport\n"))
    assert "nosuchreport" in str(error.value)
    with pytest.raises(ParamsError, match="'report' is missing"):
        load_params(write(tmp_path, "kommun: '0114'\n"))


def test_overrides_replace_file_values_and_none_is_ignored(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport\nkommun: '0180'\nyear: 2020\n")
    params = load_params(path, catalogue, kommun="Upplands Väsby", year=None)
    assert (params.kommun, params.year) == ("0114", 2020)
    assert params.source == path


def test_bad_yaml_and_non_mappings_are_params_errors(tmp_path):
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(write(tmp_path, "report: [unclosed\n"))
    with pytest.raises(ParamsError, match="mapping"):
        load_params(write(tmp_path, "- report\n"))
    with pytest.raises(ParamsError, match="no such parameter file"):
        load_params(tmp_path / "absent.yaml")
    assert issubclass(ParamsError, ValueError)


def test_wrong_type_names_the_key(tmp_path):
    with pytest.raises(ParamsError, match="'year'"):
        load_params(write(tmp_path, "report: testrapport\nyear: last\n"))


def test_variant_name_and_required_kpis(catalogue):
    params = validate_params({"report": "testrapport", "kommun": 2463}, catalogue)
    assert params.variant_name("valfard") == "valfard-2463"
    assert params.variant_name("valfard-2463") == "valfard-2463"
    assert validate_params({"report": "testrapport"}).variant_name("valfard") == "valfard"
    assert params.required_kpis() == ["N01951"]
    assert ReportParams(report="x").required_kpis() == []


# --- KPI ids and years -------------------------------------------------------------------------


def test_unknown_kpi_names_the_closest_ids(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport\nkpis: [N01951, N0195]\n")
    with pytest.raises(ParamsError) as error:
        load_params(path, catalogue)
    message = str(error.value)
    assert "'kpis.1'" in message
    assert "N0195" in message
    assert "N01951 Invånare totalt" in message


def test_known_kpis_pass(tmp_path, catalogue):
    path = write(tmp_path, "report: testrapport\nkpis: [n01951, U15401]\n")
    assert load_params(path, catalogue).kpis == ["N01951", "U15401"]


def test_year_without_data_names_the_years_with_data(tmp_path, kolada_server, catalogue):
    path = write(tmp_path, "report: testrapport\nkpis: [U15401]\nyear: 2005\n")
    params = load_params(path, catalogue)
    client = KoladaClient(kolada_server.base_url, cache_dir=tmp_path / "raw")
    result = fetch_for(params, client, tmp_path / "processed")
    years = result.years_with_data()
    assert 2022 in years
    assert 2005 not in years
    with pytest.raises(ParamsError) as error:
        check_year(params, years)
    message = str(error.value)
    assert str(path) in message
    assert "'year'" in message
    assert "2005" in message
    assert format_years(years) in message
    assert "2022" in message


def test_year_with_data_and_default_year():
    params = ReportParams(report="x", year=2021)
    assert check_year(params, [2020, 2021, 2022]) == 2021
    assert check_year(ReportParams(report="x"), [2022, 2020, 2021]) == 2022
    with pytest.raises(ParamsError, match="no year has data"):
        check_year(ReportParams(report="x"), [])


def test_format_years():
    assert format_years([2012, 2010, 2011, 2015, 2017, 2018]) == "2010–2012, 2015, 2017–2018"
    assert format_years([2022]) == "2022"
