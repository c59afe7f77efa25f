"""A variant's name says what distinguishes it, and a published variant is never replaced by
one built from another parameter file with other parameters without --force (issue 19)."""

from __future__ import annotations

import json

import pytest

from helpers.build.parameters import read_params
from helpers.build.publish import VariantConflict, check_replaces, parameter_difference
from helpers.reports.valfard import ValfardParams


@pytest.fixture
def valfard_yaml(tmp_path):
    path = tmp_path / "valfard.yaml"
    path.write_text("report: valfard_i_hela_landet\n", encoding="utf-8")
    return path


def test_the_year_is_in_the_name_only_when_it_is_not_the_default(valfard_yaml, tmp_path):
    assert read_params(valfard_yaml).name_year(2022) is None
    assert read_params(valfard_yaml, year=2021).name_year(2022) == 2021
    assert read_params(valfard_yaml, year=2022).name_year(2022) is None  # the default, said
    fixed = tmp_path / "valfard_2020.yaml"
    fixed.write_text("report: valfard_i_hela_landet\nyear: 2020\n", encoding="utf-8")
    assert read_params(fixed).name_year(2022) is None  # the file's own year is its default
    assert read_params(fixed, year=2020).name_year(2022) is None
    assert read_params(fixed, year=2022).name_year(2022) == 2022

    params = ValfardParams(report="valfard_i_hela_landet", kommun="2463", year=2021)
    assert params.variant_name("valfard", 2021) == "valfard-2463-2021"
    assert params.variant_name("valfard-2463", 2021) == "valfard-2463-2021"
    assert params.variant_name("valfard") == "valfard-2463"


def _publish(folder, params_file, parameters, status="ok"):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(
        {"status": status, "params_file": params_file, "parameters": parameters}))


def test_replacing_what_another_file_built_needs_force(tmp_path):
    target = tmp_path / "valfard-2463"
    _publish(target, "params/valfard-2463.yaml", {"kommun": "2463", "year": 2022})
    same = {"kommun": "2463", "year": 2022}
    assert check_replaces(target, "params/valfard.yaml", same) is None  # the same variant
    other = {"kommun": "2463", "year": 2022, "kommungruppering": 2017}
    with pytest.raises(VariantConflict, match="--force") as err:
        check_replaces(target, "params/valfard.yaml", other)
    assert "built from params/valfard-2463.yaml" in str(err.value)
    assert "kommungruppering null → 2017" in str(err.value)
    note = check_replaces(target, "params/valfard.yaml", other, force=True)
    assert note.startswith("replaces reports/valfard-2463/ built with other parameters")
    # the file that built it, edited since: its variant follows it, and the run says so
    assert "kommungruppering" in check_replaces(target, "params/valfard-2463.yaml", other)
    assert check_replaces(tmp_path / "never-built", "params/x.yaml", other) is None


def test_parameter_difference_names_each_changed_value():
    assert parameter_difference({"year": 2022, "a": [1]}, {"year": 2021, "a": [1]}) == \
        "year 2022 → 2021"
    assert parameter_difference({"a": 1}, {"a": 1}) == ""
