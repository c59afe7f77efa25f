"""The one place that defines where the project's files live.

Everything else derives its paths from here, notebooks their output folder too
(:func:`output_dir`). Environment variables move them:

- ``SKR_DATA_DIR``: the generated data (``raw/``, ``processed/``), default ``<checkout>/data``;
- ``SKR_REPORTS_DIR``: the published reports, default ``<checkout>/reports``;
- ``SKR_SHARED_DIR``: the shared folder (recorded Kolada snapshot, Eurostat recording,
  reference tables), default ``../shared`` beside the checkout;
- ``SKR_PROJ_ROOT``: the checkout itself (``params/``, ``notebooks/``), default the folder that
  holds ``src/``; a copy of the project elsewhere sets it.

Tests point them at temporary folders; report kernels inherit them.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJ_ROOT = Path(os.environ.get("SKR_PROJ_ROOT", Path(__file__).resolve().parents[2]))

DATA_DIR = Path(os.environ.get("SKR_DATA_DIR", PROJ_ROOT / "data"))
RAW_DIR = DATA_DIR / "raw"
KOLADA_RAW_DIR = RAW_DIR / "kolada"
EUROSTAT_RAW_DIR = RAW_DIR / "eurostat"
# SKR figures transcribed from published documents are committed, so they live in the checkout.
SKR_RAW_DIR = PROJ_ROOT / "data" / "raw" / "skr"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = Path(os.environ.get("SKR_REPORTS_DIR", PROJ_ROOT / "reports"))
INTERACTIVE_DIR = REPORTS_DIR / "_interactive"
"""Scratch output of notebooks run outside ``skr-report`` (JupyterLab, papermill, nbclient)."""
RUN_OUTPUT_ENV = "SKR_RUN_OUTPUT_DIR"
"""Set by ``skr-report`` inside the report kernel: the staging folder of the variant it builds."""
PARAMS_DIR = PROJ_ROOT / "params"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parent / "rendering" / "templates"
"""The nbconvert templates (HTML, Typst) and the index page's template, shipped in the package."""

SHARED_DIR = Path(os.environ.get("SKR_SHARED_DIR", PROJ_ROOT.parent / "shared"))
SNAPSHOT_DIR = SHARED_DIR / "kolada"
EUROSTAT_RECORDING_DIR = SHARED_DIR / "eurostat"
REFERENCE_DIR = SHARED_DIR / "reference"
AGENDA2030_SHARED_DIR = SHARED_DIR / "agenda2030"


def output_dir(report: str) -> tuple[Path, bool]:
    """Where a report notebook writes its tables and figures, and whether that is the
    interactive scratch folder: the staging folder of the variant ``skr-report`` is building
    (``$SKR_RUN_OUTPUT_DIR``, set in its kernel), else ``<REPORTS_DIR>/_interactive/<report>/``.
    Never the working directory, never a published variant's folder."""
    run = os.environ.get(RUN_OUTPUT_ENV)
    if run:
        return Path(run), False
    return INTERACTIVE_DIR / report, True
