"""The README works as written (issue 19): every line of its ```sh blocks runs, in order, in one
fresh bash (an empty environment but PATH, HOME and LANG, as a new terminal) in a fresh copy
of the project (what a clone has, with ../shared beside it), with both APIs unreachable and no
server started by the test.

What the copy shares with this checkout is only what ``make install`` would create again: the
virtual environment (``.venv`` is a link to this one, so ``make`` does not reinstall) with
``SKR_PROJ_ROOT`` naming the copy, as a clone's own editable install would. Three things are
not run literally: ``make test`` runs as ``make -n test`` (it would run this test again), the
port ``8765`` is replaced by a free one (another program may hold 8765), and the two API
variables point at a closed port, so that a machine with internet runs the same recipe as
one without. ``skr-report status`` may also exit 10 ("something is out of date"), as the README
says.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_shared

from helpers import paths

pytestmark = pytest.mark.slow

README = paths.PROJ_ROOT / "README.md"
ALLOWED_EXIT = {"skr-report status": {0, 10}}


def sh_lines(text: str) -> list[str]:
    """The command lines of the README's ```sh blocks, in order (comments and blank lines
    dropped; a trailing comment is kept, bash ignores it)."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines += [line for line in block.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    return lines


def test_the_readme_has_command_lines_for_every_command():
    from helpers.cli import main

    lines = sh_lines(README.read_text(encoding="utf-8"))
    assert lines[0].startswith("make test") and lines[1].startswith("make report")
    assert any(line.startswith("source .venv/bin/activate") for line in lines)
    run = {line.split()[1] for line in lines if line.startswith("skr-report ")}
    missing = set(main.commands) - run - {"serve-kolada"}  # the old name: said in prose
    assert not missing, f"commands without a README line to run: {sorted(missing)}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh_copy(root: Path) -> Path:
    """The checkout's tracked files (as they are in the work tree) in ``root/clone``, the shared
    folder beside it, ``.venv`` linked."""
    copy = root / "clone"
    tracked = subprocess.run(["git", "-C", str(paths.PROJ_ROOT), "ls-files", "-z"],
                             capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = paths.PROJ_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (root / "shared").symlink_to(paths.SHARED_DIR)
    (copy / ".venv").symlink_to(Path(sys.prefix))
    return copy


def _script(lines: list[str], port: int) -> str:
    """One bash script: each line run as written (eval), stopping at the first that fails;
    background jobs (``… &``) waited for until their port answers, stopped at the end."""
    out = ['trap \'kill $(jobs -p) 2>/dev/null\' EXIT',
           "wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) "
           "2>/dev/null && return 0; sleep 0.2; done; return 1; }"]
    for line in lines:
        line = line.replace("8765", str(port))
        command = line.split("#", 1)[0].strip()
        if command == "make test":
            command = "make -n test"
        allowed = next((codes for start, codes in ALLOWED_EXIT.items()
                        if command.startswith(start)), {0})
        out.append(f"echo {shlex.quote('$ ' + line)}")
        if command.endswith("&"):
            out.append(f"{command}\nwait_port {port} || {{ echo 'README line did not start: "
                       f"{line}' >&2; exit 97; }}")
            continue
        codes = " ".join(str(c) for c in sorted(allowed))
        out.append(f"eval {shlex.quote(command)}; rc=$?\n"
                   f"case \" {codes} \" in *\" $rc \"*) ;; *) echo 'README line failed with '$rc': "
                   f"'{shlex.quote(line)} >&2; exit 98;; esac")
    return "\n".join(out) + "\n"


def test_every_readme_line_runs_as_written_in_a_fresh_shell(tmp_path):
    require_shared("kolada/values.csv.gz", "eurostat/gov_10dd_edpt1.tsv.gz")
    stamp = Path(sys.prefix) / ".installed-stamp"
    if not stamp.is_file() or stamp.stat().st_mtime < (paths.PROJ_ROOT / "pyproject.toml").stat(
            ).st_mtime:
        pytest.skip("the environment is older than pyproject.toml: `make install` first (the "
                    "copy's `make report` would otherwise reinstall into this environment)")
    copy = _fresh_copy(tmp_path)
    lines = sh_lines((copy / "README.md").read_text(encoding="utf-8"))
    closed = _free_port()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path / "home"),
           "LANG": "C.UTF-8", "SKR_PROJ_ROOT": str(copy),
           "KOLADA_BASE_URL": f"http://127.0.0.1:{closed}/v3",
           "EUROSTAT_BASE_URL": f"http://127.0.0.1:{closed}/eurostat/api/dissemination"}
    (tmp_path / "home").mkdir()
    script = tmp_path / "readme.sh"
    script.write_text(_script(lines, _free_port()), encoding="utf-8")
    done = subprocess.run(["bash", "--noprofile", "--norc", str(script)], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=2400, check=False)
    said = done.stdout[-4000:] + "\n--- stderr ---\n" + done.stderr[-4000:]
    assert done.returncode == 0, said
    assert "Traceback" not in done.stderr, said
    reports = copy / "reports"
    for variant in ("valfard", "valfard-2463", "valfard-2463-2021", "valfard-0180",
                    "budget_skr", "agenda2030-1267", "agenda2030_region-0012"):
        assert (reports / variant / "manifest.json").is_file(), variant
    assert (reports / "index.html").is_file()
    assert not os.path.exists(paths.PROJ_ROOT / "clone")
