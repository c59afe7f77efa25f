"""The parameter model: YAML reading (the octal trap), kommun names and codes, unknown keys,
KPI ids and years, checked against the catalogue served by the replay server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import Field

from helpers.build.parameters import load_params, validate_params
from helpers.datasets import catalogue_for, fetch_for
from helpers.params import (
    KOMMUN,
    REGION,
    KommunCode,
    KpiId,
    ParamsError,
    ReportParams,
    check_year,
    format_years,
    normalize_kommun,
    normalize_unit,
    read_yaml,
    register_report,
)
from helpers.sources.kolada import KoladaClient


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


@pytest.mark.parametrize("value", [114, "114", "0114", "Upplands Väsby", "upplands väsby",
                                   "Upplands Väsby kommun", " UPPLANDS VÄSBY "])
def test_kommun_forms_resolve_to_0114(value, catalogue):
    assert normalize_kommun(value, catalogue) == "0114"


@pytest.mark.parametrize(("value", "code"), [(180, "0180"), ("Stockholms kommun", "0180"),
                                             ("Göteborg", "1480"), (1280, "1280"),
                                             ("Malmö kommun", "1280"), ("2425", "2425")])
def test_other_kommuner(value, code, catalogue):
    assert normalize_kommun(value, catalogue) == code


def test_a_name_in_decomposed_unicode_is_found(catalogue):
    import unicodedata

    assert normalize_kommun(unicodedata.normalize("NFD", "Malmö"), catalogue) == "1280"
    assert normalize_kommun(unicodedata.normalize("NFD", "Åsele kommun"), catalogue) == "2463"


@pytest.mark.parametrize("text", ["kommun: 114", "kommun: 0114", "kommun: '0114'",
                                  'kommun: "0114"', "kommun: Upplands Väsby"])
def test_kommun_in_yaml_resolves_to_0114(text, tmp_path, catalogue):
    path = write(tmp_path, f"report: testrapport\n{text}\n")
    params = load_params(path, catalogue)
    assert params.kommun == "0114"
    assert params.model_dump(mode="json")["kommun"] == "0114"


@pytest.mark.parametrize("text", ["kommun: 76", "kommun: '76'", "kommun: 0076"])
def test_kommun_76_is_an_unknown_kommun_not_octal_0114(text, tmp_path, catalogue):
    """A plain integer is read as written: 76 is no kommun (the octal reading of 0114 is never
    applied to a number the user wrote in decimal)."""
    path = write(tmp_path, f"report: testrapport\n{text}\n")
    with pytest.raises(ParamsError) as error:
        load_params(path, catalogue)
    message = str(error.value)
    assert "unknown kommun" in message and "Closest matches" in message
    assert "'kommun'" in message


@pytest.mark.parametrize(("text", "value"), [
    ("kommun: 0x72", "0x72"), ("kommun: 1:54", "1:54"), ("kommun: 0o162", "0o162"),
    ("kommun: 0b1110010", "0b1110010"), ("kommun: 0162", "0162"), ("geo: NO", "NO"),
    ("flag: off", "off"), ("flag: Yes", "Yes")])
def test_yaml_1_1_re_readings_are_kept_as_written(text, value, tmp_path):
    """Hex, base 60, octal, binary and yes/no/on/off scalars stay the text the user wrote."""
    assert read_yaml(write(tmp_path, text + "\n")) == {text.split(":")[0]: value}


def test_plain_decimals_and_true_false_keep_their_types(tmp_path):
    path = write(tmp_path, "a: 2022\nb: 6_000\nc: -7\nd: 0\ne: true\nf: False\ng: 2.5\n")
    assert read_yaml(path) == {"a": 2022, "b": 6000, "c": -7, "d": 0, "e": True, "f": False,
                               "g": 2.5}


@pytest.mark.parametrize(("text", "expected"), [
    ("kommun: 0x72", "unknown kommun '0x72'"),
    ("kommun: yes", "unknown kommun 'yes'"),
    ("kommun: true", "yes/no value true"),
    ("kommun: ''", "the kommun is empty"),
    ("kommun: [0114, 0180]", "expected one kommun code or name"),
    ("kommun: '0114,0180'", "skr-report batch --kommuner 0114,0180"),
    ("kommun: 114.0", "got the number 114.0"),
])
def test_kommun_values_that_are_no_kommun(text, expected, tmp_path, catalogue):
    with pytest.raises(ParamsError, match="'kommun'") as error:
        load_params(write(tmp_path, f"report: testrapport\n{text}\n"), catalogue)
    assert expected in str(error.value)
    assert "Fix" in str(error.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("year: 1800", "1800 is before Kolada's first data year"),
    ("year: 2100", "2100 is in the future"),
    ("year: 33:42", "expected a year such as 2022, got '33:42'"),
    ("year: 2021.5", "expected a whole year"),
    ("year: true", "expected a year such as 2022, got True"),
    ("year: last", "expected a year such as 2022, got 'last'"),
    ("year: [2021, 2022]", "expected a year such as 2022"),
])
def test_years_that_cannot_have_data_are_rejected_before_fetching(text, expected, tmp_path):
    with pytest.raises(ParamsError, match="'year'") as error:
        load_params(write(tmp_path, f"report: testrapport\n{text}\n"))
    assert expected in str(error.value)


def test_year_as_written_in_other_forms_loads(tmp_path):
    for text in ("year: 2021", "year: '2021'", "year: 2021.0"):
        assert load_params(write(tmp_path, f"report: testrapport\n{text}\n")).year == 2021


def test_a_year_override_names_the_option(tmp_path):
    with pytest.raises(ParamsError, match=r"key 'year' \(from --year\): 1800"):
        load_params(write(tmp_path, "report: testrapport\n"), year=1800)


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
    with pytest.raises(ParamsError, match="got a list"):
        load_params(write(tmp_path, "- report\n"))
    with pytest.raises(ParamsError, match="got a single text"):
        load_params(write(tmp_path, "just words\n"))
    with pytest.raises(ParamsError, match="no such parameter file"):
        load_params(tmp_path / "absent.yaml")
    assert issubclass(ParamsError, ValueError)


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "the parameter file is empty"),
    (b"  \n\n", "the parameter file is empty"),
    (b"# only a comment\n", "holds only comments"),
    (b"report: x\nkommun: caf\xe9\n", "not UTF-8 text (byte 0xe9 on line 2"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    (b"report: budget\nyear: 2022\nyear: 2021\n",
     "line 3, column 1: not valid YAML (key 'year' is given twice (first on line 2))"),
    (b"report: budget\n  kommun: 0114\n", "line 2, column 9: not valid YAML"),
    (b"report: budget\nkommun: \"0114\n", "it started on line 2, column 9). Fix: close the quote"),
    (b"report: budget\n\tyear: 2022\n", "line 2, column 1: not valid YAML (while scanning for "
                                         "the next token: found character '\\t'"),
    (b"report: !!python/object:os.system x\n", "remove the '!' tag"),
    (b"report: a\n---\nreport: b\n", "not valid YAML"),
    (b"a: &x [1, 2]\nb: [*x, *x]\n", "line 2, column 5: not valid YAML (the alias *x repeats"),
])
def test_files_that_are_no_parameter_file(content, expected, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ParamsError) as error:
        read_yaml(path)
    message = str(error.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "Fix" in message


@pytest.mark.parametrize("value", ["[a, b]", "{a: 1}", "7", "true"])
def test_a_report_that_is_no_name(value, tmp_path):
    with pytest.raises(ParamsError, match="key 'report': expected the name of a report"):
        load_params(write(tmp_path, f"report: {value}\n"))


def test_a_folder_is_no_parameter_file(tmp_path):
    with pytest.raises(ParamsError, match="is a folder, not a parameter file"):
        read_yaml(tmp_path)


def test_utf8_with_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffreport: testrapport\nkommun: Upplands Väsby\n".encode())
    assert read_yaml(path) == {"report": "testrapport", "kommun": "Upplands Väsby"}


def test_messages_do_not_repeat_the_value_or_add_pydantic_noise(tmp_path):
    path = write(tmp_path, "report: testrapport\nkpis: N01951\n")
    with pytest.raises(ParamsError) as error:
        load_params(path)
    message = str(error.value)
    assert message.count("'N01951'") == 1
    assert "Value error" not in message


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
    with pytest.raises(ParamsError) as error:
        fetch_for(params, client, tmp_path / "processed")
    assert not (tmp_path / "processed").exists()  # rejected before anything is written
    years = fetch_for(params.model_copy(update={"year": None}), client,
                      tmp_path / "processed").years_with_data()
    assert 2022 in years
    assert 2005 not in years
    with pytest.raises(ParamsError) as again:
        check_year(params, years)
    assert str(again.value) == str(error.value)
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


def test_empty_storleksklasser_says_what_is_expected(tmp_path):
    path = write(tmp_path, "report: valfard_i_hela_landet\nstorleksklasser: []\n")
    with pytest.raises(ParamsError, match=r"storleksklasser is empty; .* e.g. \[0, 6000"):
        load_params(path)


def test_storleksklasser_message_names_the_value_once(tmp_path):
    path = write(tmp_path, "report: valfard_i_hela_landet\nstorleksklasser: [0, 10000, 6000]\n")
    with pytest.raises(ParamsError) as error:
        load_params(path)
    message = str(error.value)
    assert "strictly increasing" in message
    assert message.count("[0, 10000, 6000]") == 1


def test_a_models_own_error_is_shown_without_the_whole_input(tmp_path):
    with pytest.raises(ParamsError) as error:
        load_params(write(tmp_path, "report: budget\n"))
    message = str(error.value)
    assert "medlemsavgift_skanes_kr_per_invanare is required" in message
    assert "{'report'" not in message and "key '-'" not in message


def test_precheck_finds_everything_but_names_without_the_catalogue(tmp_path):
    from helpers.build.parameters import read_params

    named = write(tmp_path, "report: testrapport\nkommun: Upplands Väsby\nyear: 2021\n")
    read_params(named)  # the name is left for the catalogue
    with pytest.raises(ParamsError, match="the kommun is empty"):
        read_params(named, kommun=" ")
    with pytest.raises(ParamsError) as error:
        read_params(named, year=1800)
    assert "1800 is before" in str(error.value) and "Upplands" not in str(error.value)
    with pytest.raises(ParamsError, match="unknown key"):
        read_params(write(tmp_path, "report: testrapport\nkommun: Upsala\nyeer: 2021\n"))
