"""The one place that defines where the project's files live.

Everything else derives its paths from here. ``SKR_DATA_DIR`` and ``SKR_REPORTS_DIR`` move the
generated data and outputs (tests point them at temporary folders; notebook kernels inherit
them). ``SKR_SHARED_DIR`` points at the shared folder (recorded Kolada snapshot, reference
tables, seeds); by default it sits beside the checkout.
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
EUROSTAT_PROCESSED_DIR = PROCESSED_DIR / "eurostat"
REPORTS_DIR = Path(os.environ.get("SKR_REPORTS_DIR", PROJ_ROOT / "reports"))
PARAMS_DIR = PROJ_ROOT / "params"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"

SHARED_DIR = Path(os.environ.get("SKR_SHARED_DIR", PROJ_ROOT.parent / "shared"))
SNAPSHOT_DIR = SHARED_DIR / "kolada"
EUROSTAT_RECORDING_DIR = SHARED_DIR / "eurostat"
REFERENCE_DIR = SHARED_DIR / "reference"
SEEDS_DIR = SHARED_DIR / "seeds"
AGENDA2030_SHARED_DIR = SHARED_DIR / "agenda2030"
