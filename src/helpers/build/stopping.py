"""Stopping a build when asked: Ctrl-C (SIGINT to the terminal's process group) or SIGTERM
(what ``timeout``, ``systemctl stop`` and schedulers send to the command).

One signal ends the whole tree within a few seconds and publishes nothing half-built:

- **the command** (:func:`stop_on_signals` around ``run``, ``batch``, ``update``,
  ``report-all``): the first SIGINT or SIGTERM raises :class:`Stopped` in the main thread (a
  ``BaseException``, so no ``except Exception`` swallows it); the batch then ends its workers
  (:func:`end_processes`) and the command says how many variants were built and exits 130
  (SIGINT) or 143 (SIGTERM). A second signal while stopping kills the workers at once.
- **a worker** (:func:`worker_signals`): ignores SIGINT (the command coordinates; the terminal
  sends Ctrl-C to the whole group), and on SIGTERM stops its variant (whose staging folder is
  removed on the way out) and ends with its kernel. It ends by itself when its parent dies,
  ``kill -9`` included: ``PR_SET_PDEATHSIG`` on Linux and a thread that watches the parent.
- **publishing** (:func:`not_interrupted`): a signal that arrives while a variant is being
  swapped into place waits until the swap is done, so a variant is published whole or not at
  all, and every variant published before stays as it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from helpers.files import pid_exists

SIGNALS = (signal.SIGINT, signal.SIGTERM)
WATCH_INTERVAL = 0.5
"""Seconds between a worker's checks that its parent is still there."""
_PR_SET_PDEATHSIG = 1


class Stopped(BaseException):
    """The command was asked to stop (SIGINT or SIGTERM). ``built``/``total`` say how far a
    batch got when it knows."""

    def __init__(self, signum: int, *, built: int | None = None, total: int | None = None,
                 published: str | None = None):
        super().__init__(signum)
        self.signum = int(signum)
        self.built = built
        self.total = total
        self.published = published
        """The variant whose publishing the signal waited for (it is published)."""

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """128 + the signal's number: 130 for SIGINT, 143 for SIGTERM (the shell's convention)."""
        return 128 + self.signum

    def summary(self) -> str:
        """What the command says when it stops."""
        if self.total is None:
            done = "no variant was built"
        else:
            built = self.built or 0
            done = (f"{built} of {self.total} variant{'s' if self.total != 1 else ''} built, "
                    f"{self.total - built} not built")
        return (f"Stopped by {self.name}: {done}; nothing half-built was published and every "
                "variant published before is as it was.")


# --- publishing is not interrupted ----------------------------------------------------------

_deferred: dict[str, Any] = {"depth": 0, "pending": None}


@contextlib.contextmanager
def not_interrupted(what: str | None = None) -> Iterator[None]:
    """Hold back :class:`Stopped` while the block runs (publishing ``what``); raise it after
    the block is done, naming ``what`` as published."""
    _deferred["depth"] += 1
    completed = False
    try:
        yield
        completed = True
    finally:
        _deferred["depth"] -= 1
        pending = _deferred["pending"]
        if _deferred["depth"] == 0 and pending is not None:
            _deferred["pending"] = None
            raise Stopped(pending, published=what if completed else None)


def _raise_or_defer(signum: int) -> None:
    if _deferred["depth"]:
        _deferred["pending"] = signum
        return
    raise Stopped(signum)


# --- the command ----------------------------------------------------------------------------

_command: dict[str, Any] = {"stopping": None, "children": set()}


def _on_signal(signum: int, frame: Any) -> None:
    if _command["stopping"] is not None:  # asked again while stopping: no more waiting
        end_processes(_command["children"], grace=0)
        return
    _command["stopping"] = signum
    _raise_or_defer(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Stopped` in this (main) thread for the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNALS}
    _command["stopping"] = None
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def track_children(pids: Iterable[int]) -> None:
    """Worker processes a second signal kills at once."""
    _command["children"] = set(pids)


def end_processes(pids: Iterable[int], grace: float = 5.0) -> list[int]:
    """SIGTERM each process, wait up to ``grace`` seconds, SIGKILL what is left; the pids that
    had to be killed."""
    pids = [pid for pid in pids if _send(pid, signal.SIGTERM if grace else signal.SIGKILL)]
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _running(pid)]
        if pids:
            time.sleep(0.05)
    for pid in pids:
        _send(pid, signal.SIGKILL)
    return pids


def _send(pid: int, signum: int) -> bool:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return pid_exists(pid)
    return state not in ("Z", "X")


# --- a worker -------------------------------------------------------------------------------

_worker: dict[str, Any] = {"busy": False, "on_exit": None, "stopping": False}


def worker_signals(on_exit: Callable[[], None]) -> None:
    """Set up a worker process: SIGINT ignored, SIGTERM stops it (``on_exit`` runs, e.g. its
    kernel is killed, then the process ends with 143), and so does its parent's death."""
    _worker["on_exit"] = on_exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_worker_term)
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="skr-parent-watch").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL)
    os.kill(os.getpid(), signal.SIGTERM)


def _on_worker_term(signum: int, frame: Any) -> None:
    if _worker["stopping"]:  # a second SIGTERM (the parent's death is signalled twice: by
        return  # the kernel and by the watching thread) must not cut the clean-up short
    if _worker["busy"]:
        _worker["stopping"] = True
        _raise_or_defer(signum)  # the variant stops; :func:`variant_work` ends the worker
        return
    worker_exit(signum)


def worker_exit(signum: int) -> None:
    """End this worker now: its ``on_exit`` (the kernel), then ``os._exit(128 + signum)``."""
    on_exit = _worker["on_exit"]
    if on_exit is not None:
        with contextlib.suppress(Exception):
            on_exit()
    os._exit(128 + signum)


@contextlib.contextmanager
def variant_work() -> Iterator[None]:
    """Around one variant in a worker: SIGTERM stops the variant (its ``finally`` clauses run)
    and then ends the worker."""
    _worker["busy"] = True
    try:
        yield
    except Stopped as stopped:
        worker_exit(stopped.signum)
    finally:
        _worker["busy"] = False


__all__ = [
    "Stopped",
    "end_processes",
    "not_interrupted",
    "stop_on_signals",
    "track_children",
    "variant_work",
    "worker_exit",
    "worker_signals",
]
