"""What the Agenda 2030 report reproduces: RKA's KPI groups per level, the goals and their
Swedish names, and the project's goal map (``params/agenda2030_goal_map*.csv``, adopted from
``../shared/agenda2030`` keeping each row's source and confidence)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from helpers import paths

GROUPS = {"kommun": "G2KPI130255", "region": "G2KPI130290"}
"""Kolada KPI group of RKA's Agenda 2030 selection per level."""


GOAL_MAP_FILES = {
    "kommun": paths.PARAMS_DIR / "agenda2030_goal_map.csv",
    "region": paths.PARAMS_DIR / "agenda2030_goal_map_region.csv",
}


GOAL_NAMES = {
    1: "Ingen fattigdom",
    2: "Ingen hunger",
    3: "God hälsa och välbefinnande",
    4: "God utbildning för alla",
    5: "Jämställdhet",
    6: "Rent vatten och sanitet för alla",
    7: "Hållbar energi för alla",
    8: "Anständiga arbetsvillkor och ekonomisk tillväxt",
    9: "Hållbar industri, innovationer och infrastruktur",
    10: "Minskad ojämlikhet",
    11: "Hållbara städer och samhällen",
    12: "Hållbar konsumtion och produktion",
    13: "Bekämpa klimatförändringarna",
    14: "Hav och marina resurser",
    15: "Ekosystem och biologisk mångfald",
    16: "Fredliga och inkluderande samhällen",
    17: "Genomförande och globalt partnerskap",
}
"""The 17 global goals by their Swedish names (globalamalen.se)."""


RIKET = "0000"


TREND_YEARS = 5
TREND_MIN_VALUES = 3
"""A trend needs at least this many values in its years."""


LIKNANDE_PREFIX = {"kommun": "Liknande kommuner", "region": "Liknande regioner"}


STATUS_SERVED = "i Kolada"


STATUS_NOT_IN_CATALOGUE = "finns inte längre i Kolada (saknas i katalogen)"


STATUS_NO_VALUES = "inga värden i Kolada"


STATUS_NOT_FETCHED = "inte hämtad"


META_DIR = "agenda2030"


def load_goal_map(level: str = "kommun", path: str | Path | None = None) -> pd.DataFrame:
    """The adopted goal map: ``kpi_id, title, goal, malnamn, confidence, source``."""
    path = Path(path) if path is not None else GOAL_MAP_FILES[level]
    table = pd.read_csv(path, dtype={"kpi_id": str, "title": str, "confidence": str,
                                     "source": str, "malnamn": str})
    table["goal"] = table["goal"].astype(int)
    return table


GROUP_ID = re.compile(r"^G\d+$")
"""A Kolada group id (``G37411``), as opposed to a Liknande theme."""
BETTER, WORSE = "bättre", "sämre"
"""The judgement of a deviation where the parameters state the desired direction."""
