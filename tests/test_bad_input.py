"""Bad input at the command line, run as a user runs it (a subprocess with its own environment):
every case ends with a one-paragraph message naming the problem and the fix, a distinct exit
code, no traceback, and nothing written or published."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import skr_report

from helpers.build.variant import VariantFailed
from helpers.cli import EXIT_BUILD, EXIT_FILES, EXIT_OPTION, EXIT_PARAMS, EXIT_SOURCE

VALFARD = "report: valfard_i_hela_landet\n"


def write(tmp_path: Path, text: str, name: str = "valfard.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_message(result: subprocess.CompletedProcess, code: int, *texts: str) -> None:
    """The exit code, an ``Error:`` message with ``texts``, and no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "Error:" in result.stderr, result.stderr
    for text in texts:
        assert text in result.stderr, result.stderr


def assert_nothing_published(tmp_path: Path) -> None:
    assert not files_under(tmp_path / "reports"), files_under(tmp_path / "reports")


# --- the parameter file itself -----------------------------------------------------------------


@pytest.mark.parametrize(("content", "expected"), [
    (bytes(range(256)) * 4, "not a text file"),
    ("report: valfard_i_hela_landet\n# Åsele\n".encode("latin-1"),
     "not UTF-8 text (byte 0xc5 on line 2"),
    (b"", "the parameter file is empty"),
    (b"- report: valfard_i_hela_landet\n", "expected a mapping of keys to values, got a list"),
    (b"report: valfard_i_hela_landet\nkommun: [0114\n", "line 3, column 1: not valid YAML"),
    (b"report: valfard_i_hela_landet\nyear: 2021\nyear: 2022\n", "is given twice"),
    (b"report: valfard\n", "unknown report 'valfard'"),
    (b"report: valfard_i_hela_landet\nkomun: '0114'\n", "unknown key(s) komun"),
    (b"report: valfard_i_hela_landet\nkommungruppering: two\n", "key 'kommungruppering'"),
    (b"report: valfard_i_hela_landet\nstorleksklasser: 6000\n", "key 'storleksklasser'"),
])
@pytest.mark.parametrize("command", ["fetch", "run", "batch"])
def test_a_bad_parameter_file_is_a_message(user_env, tmp_path, content, expected, command):
    params = tmp_path / "params.yaml"
    params.write_bytes(content)
    result = skr_report(command, str(params), env=user_env)
    assert_message(result, EXIT_PARAMS, str(params), expected, "Fix")
    assert not files_under(tmp_path / "data")
    assert_nothing_published(tmp_path)


@pytest.mark.parametrize(("path", "expected"), [("absent.yaml", "does not exist"),
                                                (".", "is a directory")])
def test_a_missing_file_or_a_folder_is_a_usage_error(user_env, tmp_path, path, expected):
    result = skr_report("run", str(tmp_path / path), env=user_env)
    assert_message(result, EXIT_OPTION, expected)


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["--kommuner", ""], "'--kommuner': '': no kommun given"),
    (["--kommuner", " , "], "'--kommuner'"),
    (["--kommuner", "lan:abc"], "'abc' is no län code"),
    (["--jobs", "0"], "'--jobs' / '-j': 0 is not in the range x>=1"),
    (["--jobs", "-1"], "'--jobs' / '-j': -1 is not in the range x>=1"),
    (["--jobs", "two"], "'--jobs' / '-j': 'two' is not a valid integer"),
    (["--format", "docx"], "'--format': unknown format(s) docx: use html, pdf or html,pdf"),
    (["--format", ","], "'--format'"),
    (["--year", "last"], "'--year': 'last' is not a valid integer"),
])
def test_batch_options_are_checked_before_any_work(user_env, tmp_path, args, expected):
    params = write(tmp_path, VALFARD)
    result = skr_report("batch", str(params), *args, env=user_env)
    assert_message(result, EXIT_OPTION, expected)
    assert "all, lan:NN" in result.stderr if "kommuner" in expected else True
    assert not files_under(tmp_path / "data")
    assert_nothing_published(tmp_path)


@pytest.mark.parametrize(("spec", "expected"), [
    ("lan:99", "no kommun in län '99'. Fix: use one of the län codes 01, 03,"),
    ("0114,9999", "unknown kommun '9999'"),
    ("Upsala", "0380 Uppsala"),
])
def test_batch_kommuner_that_name_no_kommun_are_rejected_before_fetching(
        user_env, tmp_path, spec, expected):
    params = write(tmp_path, VALFARD)
    result = skr_report("batch", str(params), "--kommuner", spec, env=user_env)
    assert_message(result, EXIT_OPTION, "--kommuner", expected)
    assert not files_under(tmp_path / "data" / "processed")
    assert_nothing_published(tmp_path)


def test_batch_of_kommuner_for_a_region_report_is_rejected_as_a_whole(user_env, tmp_path):
    params = write(tmp_path, "report: agenda2030\nlevel: region\nkommun: '0012'\n")
    result = skr_report("batch", str(params), "--kommuner", "lan:12", env=user_env)
    assert_message(result, EXIT_OPTION, "none of the 33 kommun variant(s) is valid",
                   "(from --kommuner): 1214 (Svalöv) is not a region")
    assert not files_under(tmp_path / "data" / "processed")
    assert_nothing_published(tmp_path)


@pytest.mark.parametrize(("args", "expected"), [
    (["--kommun", ""], "'--kommun': is empty"),
    (["--kommun", "0114,2463"], "skr-report batch --kommuner 0114,2463"),
    (["--kommun", "Upsala"], "0380 Uppsala"),
])
def test_run_kommun_option(user_env, tmp_path, args, expected):
    params = write(tmp_path, VALFARD)
    result = skr_report("run", str(params), *args, env=user_env)
    code = EXIT_OPTION if args[1] == "" else EXIT_PARAMS
    assert_message(result, code, expected)
    assert not files_under(tmp_path / "data" / "processed")
    assert_nothing_published(tmp_path)


def test_serve_kolada_options_are_checked(user_env):
    for args, expected in ((["--port", "70000"], "0<=x<=65535"),
                           (["--error-rate", "2"], "0<=x<=1"),
                           (["--snapshot", "/nonexistent"], "does not exist")):
        result = skr_report("serve-kolada", *args, env=user_env, timeout=60)
        assert_message(result, EXIT_OPTION, expected)


# --- data source and files ---------------------------------------------------------------------


def test_an_unreachable_source_is_exit_code_4(user_env, tmp_path):
    user_env["KOLADA_BASE_URL"] = "http://127.0.0.1:9/v3"
    # --live-only: without it the recording stands in (tests/test_offline.py)
    result = skr_report("run", str(write(tmp_path, VALFARD)), "--live-only", env=user_env)
    assert_message(result, EXIT_SOURCE, "could not be reached")
    assert_nothing_published(tmp_path)


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder no one may create files in: read-only for a user, sysfs for root."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "data"
    folder = Path("/sys/skr-report-test")
    try:
        folder.mkdir()
    except OSError:
        return folder / "data"
    folder.rmdir()
    pytest.skip("no folder here refuses writes")


def test_a_data_folder_that_cannot_be_written_is_a_message(user_env, tmp_path):
    user_env["SKR_DATA_DIR"] = str(_unwritable_folder(tmp_path))
    result = skr_report("fetch", str(write(tmp_path, VALFARD)), env=user_env)
    assert_message(result, EXIT_FILES, "a file or folder cannot be used", "SKR_DATA_DIR")


def test_exit_codes_are_distinct():
    assert len({EXIT_OPTION, EXIT_PARAMS, EXIT_SOURCE, EXIT_BUILD, EXIT_FILES, 0, 1}) == 7


# --- kommun and year in the parameter file -----------------------------------------------------


def test_kommun_76_is_unknown_not_upplands_vasby(user_env, tmp_path):
    params = write(tmp_path, "report: valfard_i_hela_landet\nkommun: 76\n")
    result = skr_report("fetch", str(params), env=user_env)
    assert_message(result, EXIT_PARAMS, "unknown kommun 76", "Closest matches")
    assert "0114 Upplands Väsby" not in result.stderr.split("Closest")[0]
    assert not files_under(tmp_path / "data" / "processed")


@pytest.mark.parametrize(("year", "expected"), [("1800", "1800 is before Kolada's first"),
                                                ("2100", "2100 is in the future")])
def test_an_impossible_year_is_rejected_before_anything_is_fetched_or_written(
        user_env, tmp_path, year, expected):
    params = write(tmp_path, "report: valfard_i_hela_landet\n")
    for command in ("fetch", "run"):
        result = skr_report(command, str(params), "--year", year, env=user_env)
        assert_message(result, EXIT_PARAMS, expected, "(from --year)")
    assert not files_under(tmp_path / "data")
    assert not files_under(tmp_path / "reports")


def test_several_files_are_all_checked_before_any_is_fetched(user_env, tmp_path):
    good = write(tmp_path, VALFARD, "good.yaml")
    bad = write(tmp_path, "report: valfard_i_hela_landet\nkommun: 76\n", "bad.yaml")
    result = skr_report("fetch", str(good), str(bad), env=user_env)
    assert_message(result, EXIT_PARAMS, str(bad), "unknown kommun 76")
    assert not files_under(tmp_path / "data" / "processed")


def test_a_year_without_data_writes_no_kommun_table_for_it(user_env, tmp_path):
    params = write(tmp_path, "report: valfard_i_hela_landet\n")
    result = skr_report("fetch", str(params), "--year", "2005", env=user_env)
    assert_message(result, EXIT_PARAMS, "2005 has no data", "Years with data")
    assert not files_under(tmp_path / "data" / "processed")


# --- files others can read ---------------------------------------------------------------------


def test_fetched_files_are_readable_by_others_as_the_umask_allows(user_env, tmp_path):
    params = write(tmp_path, "report: budget\nmedlemsavgift_skanes_kr_per_invanare: null\n")
    result = skr_report("fetch", str(params), env=user_env, umask=0o022)
    assert result.returncode == 0, result.stderr
    written = files_under(tmp_path / "data")
    assert any(p.suffix == ".parquet" for p in written)
    assert any("raw" in p.parts for p in written)
    modes = {p.relative_to(tmp_path).as_posix(): oct(stat.S_IMODE(p.stat().st_mode))
             for p in written if not p.name.endswith(".lock")}
    assert set(modes.values()) == {"0o644"}, modes


@pytest.mark.parametrize(("error", "code", "text"), [
    (lambda: VariantFailed("valfard", "valfard: cell 3 failed. Nothing was published"),
     EXIT_BUILD, "cell 3 failed"),
    (lambda: PermissionError(13, "Permission denied", "/srv/reports/x"), EXIT_FILES,
     "cannot be used (/srv/reports/x): Permission denied"),
    (lambda: OSError(28, "No space left on device"), EXIT_FILES, "No space left"),
])
def test_the_funnel_gives_each_kind_of_user_error_its_code(monkeypatch, tmp_path, error, code,
                                                           text):
    from click.testing import CliRunner

    from helpers.build import runner
    from helpers.cli import main

    def fail(*args, **kwargs):
        raise error()

    monkeypatch.setattr(runner, "prepare_variant", fail)
    result = CliRunner().invoke(main, ["run", str(write(tmp_path, VALFARD))])
    assert result.exit_code == code, result.output
    assert result.output.startswith("Error: ") and text in result.output, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not an exception


def test_a_bug_keeps_its_traceback(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from helpers.build import runner
    from helpers.cli import main

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(runner, "prepare_variant", bug)
    result = CliRunner().invoke(main, ["run", str(write(tmp_path, VALFARD))])
    assert result.exit_code == 1
    assert isinstance(result.exception, ZeroDivisionError)
