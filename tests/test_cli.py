"""The `skr-report` command line, run as a user runs it: a subprocess with its own environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import skr_report

from helpers import paths
from helpers.cli import EXIT_PARAMS, EXIT_SOURCE, main


@pytest.fixture
def valfard_params(tmp_path) -> Path:
    path = tmp_path / "valfard.yaml"
    path.write_text("report: valfard_i_hela_landet\nkommun: 0114\n", encoding="utf-8")
    return path


def test_readme_documents_every_command():
    readme = (paths.PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    undocumented = [name for name in main.commands if f"skr-report {name}" not in readme]
    assert not undocumented, f"commands missing from README.md: {undocumented}"


def test_fetch_fills_processed_data_and_second_run_makes_no_request(user_env, valfard_params,
                                                                     tmp_path):
    first = skr_report("fetch", str(valfard_params), env=user_env)
    assert first.returncode == 0, first.stderr
    assert "saknas i data" in first.stdout and "N01721" in first.stdout
    requests = int(re.search(r"(\d+) HTTP requests", first.stdout).group(1))
    assert requests > 0
    processed = tmp_path / "data" / "processed"
    assert (processed / "values" / "U20404.parquet").exists()
    assert (processed / "kommuner_2022.parquet").exists()
    assert (processed / "eurostat" / "gov_10dd_edpt1.parquet").exists()
    assert "Eurostat gov_10dd_edpt1" in first.stdout
    second = skr_report("fetch", str(valfard_params), env=user_env)
    assert second.returncode == 0, second.stderr
    assert re.search(r"\b0 HTTP requests", second.stdout)


def test_fetch_offline_without_recordings_names_what_is_missing(user_env, valfard_params,
                                                                 tmp_path):
    user_env["SKR_SHARED_DIR"] = str(tmp_path / "no-shared")
    result = skr_report("fetch", str(valfard_params), "--offline", env=user_env)
    assert result.returncode == EXIT_SOURCE
    assert "--offline was given, and there is no recording" in result.stderr
    assert "SKR_SHARED_DIR" in result.stderr and "Traceback" not in result.stderr


def test_offline_and_live_only_exclude_each_other(user_env, valfard_params):
    result = skr_report("fetch", str(valfard_params), "--offline", "--live-only", env=user_env)
    assert result.returncode == 2
    assert "--offline and --live-only exclude each other" in result.stderr


def test_fetch_live_only_with_eurostat_unreachable_says_so(user_env, valfard_params):
    user_env["EUROSTAT_BASE_URL"] = "http://127.0.0.1:9/eurostat/api/dissemination"
    result = skr_report("fetch", str(valfard_params), "--live-only", env=user_env)
    assert result.returncode == EXIT_SOURCE
    assert "Eurostat could not be reached at http://127.0.0.1:9" in result.stderr
    assert "--live-only forbids its recording" in result.stderr
    assert "EUROSTAT_BASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_fetch_live_only_with_unreachable_kolada_names_the_variable(user_env, valfard_params):
    user_env["KOLADA_BASE_URL"] = "http://127.0.0.1:9/v3"
    result = skr_report("fetch", str(valfard_params), "--live-only", env=user_env)
    assert result.returncode == EXIT_SOURCE
    assert "could not be reached at http://127.0.0.1:9/v3" in result.stderr
    assert "KOLADA_BASE_URL" in result.stderr and "leave out --live-only" in result.stderr
    assert "Traceback" not in result.stderr


def test_fetch_rejects_a_year_without_data_naming_the_years(user_env, valfard_params):
    result = skr_report("fetch", str(valfard_params), "--year", "2005", env=user_env)
    assert result.returncode == EXIT_PARAMS
    assert "2005 has no data" in result.stderr and "Years with data" in result.stderr


def test_fetch_rejects_an_unknown_kommun_with_closest_matches(user_env, valfard_params):
    result = skr_report("fetch", str(valfard_params), "--kommun", "Upsala", env=user_env)
    assert result.returncode == EXIT_PARAMS
    assert "0380 Uppsala" in result.stderr
