"""Bad input at the command line, run as a user runs it (a subprocess with its own environment):
every case ends with a one-paragraph message naming the problem and the fix, a distinct exit
code, no traceback, and nothing written or published."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SKR_REPORT = Path(sys.executable).with_name("skr-report")

EXIT_PARAMS = 1


def skr_report(*args: str, env: dict[str, str], umask: int | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([str(SKR_REPORT), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False, preexec_fn=preexec)


@pytest.fixture
def user_env(kolada_server, tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KOLADA_BASE_URL=kolada_server.base_url, SKR_DATA_DIR=str(tmp_path / "data"),
               SKR_REPORTS_DIR=str(tmp_path / "reports"))
    return env


def write(tmp_path: Path, text: str, name: str = "valfard.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_message(result: subprocess.CompletedProcess, code: int, *texts: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    for text in texts:
        assert text in result.stderr, result.stderr


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
