"""Jupyter kernels for report notebooks: one kernel kept alive and reused across notebooks
(papermill executes on it through a small engine, ``skr-warm``), talking over IPC (Unix sockets
in a private temporary folder), not TCP. Between variants the setup cell clears the user
namespace (like ``%reset -f``), closes figures and restores matplotlib's rcParams."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

from helpers import paths
from helpers.build.stopping import Stopped
from helpers.build.variant import CELL_TIMEOUT, KERNEL_NAME
from helpers.rendering.provenance import epoch_of

KERNEL_DIR_PREFIX = "skr-kernel-"
"""Kernel folders are ``<tmp>/skr-kernel-<pid of the process that started it>-XXXX``: a batch
removes those of workers it had to kill."""


SETUP_SOURCE = """\
_skr_ip = get_ipython()  # like %reset -f, without its full gc.collect() (0.1-0.2 s)
for _skr_name in [n for n in _skr_ip.user_ns
                  if not n.startswith("_") and n not in _skr_ip.user_ns_hidden]:
    del _skr_ip.user_ns[_skr_name]
_skr_ip.history_manager.output_hist.clear()
del _skr_ip
import os as _skr_os
_skr_os.chdir({staging!r})
_skr_os.environ["SKR_RUN_OUTPUT_DIR"] = {staging!r}
import matplotlib as _skr_mpl
import matplotlib.pyplot as _skr_plt
_skr_plt.close("all")
if not hasattr(_skr_mpl, "_skr_rc"):
    _skr_mpl._skr_rc = _skr_mpl.rcParams.copy()
_skr_mpl.rcParams.update(_skr_mpl._skr_rc)
_skr_mpl.rcParams["svg.hashsalt"] = "skr-report"
from helpers.rendering.table_data import enable_table_data as _skr_table_data
_skr_table_data()  # DataFrames also go out as data (cells) for the PDF's tables
del _skr_os, _skr_mpl, _skr_plt, _skr_table_data
"""


def _register_engine() -> str:
    """Register the papermill engine that runs notebooks on an already started kernel."""

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            session: KernelSession = kwargs["session"]
            client = PapermillNotebookClient(
                nb_man, km=session.km, kernel_name=kernel_name, timeout=execution_timeout,
                startup_timeout=start_timeout, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file)
            client.kc = session.kc
            return client.execute()

    papermill_engines.register("skr-warm", WarmKernelEngine)
    return "skr-warm"


class KernelSession:
    """One Jupyter kernel kept alive and reused across notebooks (papermill executes on it)."""

    def __init__(self, kernel_name: str = KERNEL_NAME, env: Mapping[str, str] | None = None,
                 startup_timeout: int = 120):
        self.kernel_name = kernel_name
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self._boot: Any = None
        self.km: Any = None
        self.kc: Any = None

    def start(self) -> KernelSession:

        env = {**os.environ, "PYTHONHASHSEED": "0", "TZ": "UTC", **self.env}
        self._boot = NotebookClient(nbformat.v4.new_notebook(), kernel_name=self.kernel_name,
                                    startup_timeout=self.startup_timeout)
        self.km = self._boot.create_kernel_manager()
        use_ipc_transport(self.km)
        self._boot.start_new_kernel(env=env, cwd=str(paths.PROJ_ROOT))
        self.kc = self._boot.start_new_kernel_client()
        return self

    @property
    def alive(self) -> bool:
        if self.km is None:
            return False

        async def check() -> bool:
            return bool(await ensure_async(self.km.is_alive()))

        return run_sync(check)()

    def kill_now(self) -> None:
        """End the kernel at once (SIGKILL to its process group) and remove its folder: when a
        build is stopped there is no time for a polite shutdown."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)  # the kernel leads its own session
            with contextlib.suppress(OSError):
                process.kill()
        if self.km is not None:
            shutil.rmtree(Path(self.km.connection_file).parent, ignore_errors=True)
        self._boot = self.km = self.kc = None

    def close(self) -> None:
        if self._boot is not None:
            with contextlib.suppress(Exception):
                self._boot._cleanup_kernel()
        if self.km is not None:
            shutil.rmtree(Path(self.km.connection_file).parent, ignore_errors=True)
        self._boot = self.km = self.kc = None

    def __enter__(self) -> KernelSession:
        return self.start() if self.km is None else self

    def __exit__(self, kind: type | None, *exc: object) -> None:
        if kind is not None and issubclass(kind, Stopped):
            self.kill_now()
        else:
            self.close()

    def execute(self, nb: Any, parameters: Mapping[str, Any], staging: Path,
                timeout: int = CELL_TIMEOUT) -> Any:
        """Execute ``nb`` with ``parameters`` in ``staging``; papermill's error on failure."""
        if not self.alive:
            self.close()
            self.start()
        nb = nbformat.from_dict(nb)
        setup = nbformat.v4.new_code_cell(SETUP_SOURCE.format(staging=str(staging)),
                                          metadata={"tags": ["skr-setup"]})
        nb.cells.insert(0, setup)
        return papermill.execute_notebook(
            nb, None, parameters=dict(parameters), kernel_name=self.kernel_name,
            engine_name=_engine_name(), progress_bar=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, session=self)


def use_ipc_transport(km: Any) -> None:
    """Let a kernel manager talk to its kernel over Unix sockets in a private folder.

    Over TCP every local user could connect to the kernel's ports, and ipykernel warns
    ("Kernel is running over TCP without encryption") on every start; IPC sockets live in a
    0700 folder of this process only (removed by :meth:`KernelSession.close`).
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{KERNEL_DIR_PREFIX}{os.getpid()}-"))
    km.transport = "ipc"
    km.connection_file = str(folder / "kernel.json")
    km.ip = str(folder / "kernel-ipc")


@cache
def _engine_name() -> str:
    return _register_engine()


def kernel_env(source: Mapping[str, Any]) -> dict[str, str]:
    """Environment of report kernels: fixed hash seed and SOURCE_DATE_EPOCH from the vintage."""
    return {"PYTHONHASHSEED": "0", "TZ": "UTC",
            "SOURCE_DATE_EPOCH": str(epoch_of(source.get("fetched_at")))}
