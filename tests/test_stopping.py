"""A build stops when asked (issue 18): one Ctrl-C (SIGINT to the process group) or one SIGTERM
to the command ends the whole tree - command, workers, kernels - within a few seconds, publishes
nothing half-built, leaves no staging folder, keeps every published manifest valid, says how many
variants were built, and exits 130 / 143. Workers end by themselves when the command is killed.

Each test runs the real ``skr-report`` in its own session against the replay server and watches
its process tree with psutil while it runs (kernels lead sessions of their own, so the tree is
collected by parentage, not by process group).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from conftest import SKR_REPORT

pytestmark = pytest.mark.xdist_group("stopping")
BATCH = ("batch", "params/valfard.yaml", "--kommuner", "lan:25", "--format", "html",
         "--jobs", "2")
"""14 Välfärd variants (Norrbottens län) on two workers."""
GONE_WITHIN = 10.0


class Running:
    """``skr-report`` started in a session of its own, its tree collected while it runs."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str], log: Path):
        self.reports = Path(env["SKR_REPORTS_DIR"])
        self.log = log
        self.handle = open(log, "w")  # noqa: SIM115 - closed in finish()
        self.proc = subprocess.Popen([str(SKR_REPORT), *args], env=env, stdout=self.handle,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=Path(__file__).parents[1])
        self.root = psutil.Process(self.proc.pid)
        self.tree: dict[int, psutil.Process] = {}

    def collect(self) -> None:
        try:
            for process in [self.root, *self.root.children(recursive=True)]:
                self.tree.setdefault(process.pid, process)
        except psutil.NoSuchProcess:
            pass

    def published(self) -> list[Path]:
        return sorted(p.parent for p in self.reports.glob("*/manifest.json")
                      if not p.parent.name.startswith((".", "_")))

    def staging(self) -> list[Path]:
        return sorted((self.reports / ".staging").glob("*"))

    def wait_until(self, condition, timeout: float = 400) -> None:
        started = time.monotonic()
        while not condition():
            assert self.proc.poll() is None, f"ended early:\n{self.output()}"
            assert time.monotonic() - started < timeout, f"timed out:\n{self.output()}"
            self.collect()
            time.sleep(0.2)
        self.collect()

    def alive(self) -> list[str]:
        found = []
        for process in self.tree.values():
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(f"{process.pid} {' '.join(process.cmdline())[:100]}")
            except psutil.NoSuchProcess:
                continue
        return found

    def wait_for_the_tree(self) -> float:
        """Seconds until no process of the tree is left (fails after GONE_WITHIN)."""
        started = time.monotonic()
        while self.alive() and time.monotonic() - started < GONE_WITHIN:
            time.sleep(0.1)
        assert not self.alive(), f"left running: {self.alive()}\n{self.output()}"
        return time.monotonic() - started

    def output(self) -> str:
        self.handle.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def finish(self) -> None:
        for process in self.tree.values():  # whatever a failed test left, by pid
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.proc.wait(10)
        self.handle.close()


@pytest.fixture
def started(user_env, tmp_path):
    runs: list[Running] = []

    def start(*args: str) -> Running:
        run = Running(args, user_env, tmp_path / f"log{len(runs)}.txt")
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish()


def assert_published_intact(run: Running) -> None:
    for folder in run.published():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for name, digest in manifest["outputs"].items():
            path = folder / name
            assert path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest, \
                f"{folder.name}/{name} does not match its manifest"


def assert_no_kernel_folders(run: Running) -> None:
    left = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("skr-kernel-*")
            if any(p.name.startswith(f"skr-kernel-{pid}-") for pid in run.tree)]
    assert not left, f"kernel folders left: {left}"


def stopped_batch(started, how: str) -> tuple[Running, int | None]:
    run = started(*BATCH)
    run.wait_until(lambda: len(run.published()) >= 2)
    before = {p.name: (p / "manifest.json").read_bytes() for p in run.published()}
    assert len(run.tree) >= 5, "command, two workers and their kernels"
    if how == "SIGINT":  # Ctrl-C in a terminal: the whole foreground process group
        os.killpg(os.getpgid(run.proc.pid), signal.SIGINT)
    elif how == "SIGTERM":  # timeout, systemctl stop, a scheduler: the command only
        run.proc.send_signal(signal.SIGTERM)
    else:
        run.proc.send_signal(signal.SIGKILL)
    try:
        code = run.proc.wait(GONE_WITHIN)
    except subprocess.TimeoutExpired:
        code = None
    run.wait_for_the_tree()
    for name, manifest in before.items():  # what was published before is as it was
        assert (run.reports / name / "manifest.json").read_bytes() == manifest
    assert not run.staging(), f"staging folders left: {run.staging()}"
    assert_published_intact(run)
    assert_no_kernel_folders(run)
    return run, code


@pytest.mark.slow
@pytest.mark.parametrize(("how", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_one_signal_stops_a_batch_and_its_whole_tree(started, how, code):
    run, exit_code = stopped_batch(started, how)
    output = run.output()
    assert exit_code == code, output
    built = len(run.published())
    assert f"Stopped by {how}: {built} of 14 variants built, {14 - built} not built" in output
    assert "Traceback" not in output and "Aborted" not in output
    assert built < 14


@pytest.mark.slow
def test_workers_end_by_themselves_when_the_command_is_killed(started):
    _run, exit_code = stopped_batch(started, "SIGKILL")
    assert exit_code == -signal.SIGKILL


@pytest.mark.slow
def test_run_stopped_while_the_notebook_runs(started):
    run = started("run", "params/valfard.yaml", "--kommun", "2463", "--format", "html")
    run.wait_until(lambda: bool(run.staging()) and len(run.tree) >= 2)  # the kernel runs
    time.sleep(1.0)
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(GONE_WITHIN) == 143, run.output()
    run.wait_for_the_tree()
    assert not run.staging() and not run.published()
    assert_no_kernel_folders(run)
    assert "Stopped by SIGTERM: 0 of 1 variant built, 1 not built" in run.output()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_publishing_waits_until_the_swap_is_done(how):
    from helpers.build.stopping import Stopped, not_interrupted, stop_on_signals

    steps, previous = [], signal.getsignal(how)
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        with not_interrupted("valfard-0114"):
            os.kill(os.getpid(), how)
            time.sleep(0.05)  # the handler has run: the signal is held back
            steps.append("swapped")
        steps.append("after")  # not reached
    assert steps == ["swapped"]
    assert stopped.value.published == "valfard-0114"
    assert stopped.value.exit_code == 128 + how
    assert signal.getsignal(how) is previous  # the handler is restored


@pytest.mark.slow
def test_report_all_stopped_while_planning_on_the_recordings(started, user_env):
    """No API answers: report-all plans on the recordings through its own replay server, and
    one SIGTERM then ends it (the server with it) before any variant is built."""
    user_env.update(KOLADA_BASE_URL="http://127.0.0.1:9/v3",
                    EUROSTAT_BASE_URL="http://127.0.0.1:9/eurostat/api/dissemination")
    run = started("report-all", "--format", "html")
    run.wait_until(lambda: "using the recording in" in run.output(), timeout=120)
    time.sleep(0.5)
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(GONE_WITHIN) == 143, run.output()
    run.wait_for_the_tree()
    assert not run.staging() and not run.published()
    assert "Stopped by SIGTERM: no variant was built" in run.output()
