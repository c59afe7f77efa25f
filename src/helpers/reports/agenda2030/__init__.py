"""RKA's Agenda 2030 indicator selection and the nulägesanalys of one kommun or region.

Kolada serves the selection as flat KPI groups (``G2KPI130255`` kommun, ``G2KPI130290``
region); the goal of each indicator comes from the project's goal map (:mod:`.spec`).

- :mod:`.params`: the parameter model (``params/agenda2030*.yaml``);
- :mod:`.meta`: the Kolada metadata written during ``fetch``/``run`` (notebooks never fetch);
- :mod:`.selection`: the selection per goal;
- :mod:`.nulage`: the nulägesanalys of one unit and what stands out;
- :mod:`.figure`: Figur 1, the nulägesanalys per goal at its printed size;
- :mod:`.pieces`: what the notebook shows (``nb.show(agenda2030.selection_table(rep))``).
"""

from helpers.reports.agenda2030.figure import draw_nulage
from helpers.reports.agenda2030.meta import AgendaMeta, fetch_meta, load_meta, resolve_liknande
from helpers.reports.agenda2030.nulage import build_nulage, standing_out
from helpers.reports.agenda2030.params import Agenda2030Params
from helpers.reports.agenda2030.pieces import (
    NO_NULAGE_TEXT,
    AgendaReport,
    build_report,
    direction_text,
    goal_count_table,
    intro_text,
    liknande_year_text,
    missing_text,
    nulage_figure,
    nulage_table,
    nulage_text,
    selection_table,
    standing_out_intro,
    standing_out_table,
    title_text,
)
from helpers.reports.agenda2030.selection import build_selection, count_per_goal
from helpers.reports.agenda2030.spec import (
    GOAL_NAMES,
    GROUPS,
    STATUS_NO_VALUES,
    STATUS_NOT_IN_CATALOGUE,
    STATUS_SERVED,
    load_goal_map,
)

__all__ = [
    "GOAL_NAMES",
    "GROUPS",
    "NO_NULAGE_TEXT",
    "STATUS_NOT_IN_CATALOGUE",
    "STATUS_NO_VALUES",
    "STATUS_SERVED",
    "Agenda2030Params",
    "AgendaMeta",
    "AgendaReport",
    "build_nulage",
    "build_report",
    "build_selection",
    "count_per_goal",
    "direction_text",
    "draw_nulage",
    "fetch_meta",
    "goal_count_table",
    "intro_text",
    "liknande_year_text",
    "load_goal_map",
    "load_meta",
    "missing_text",
    "nulage_figure",
    "nulage_table",
    "nulage_text",
    "resolve_liknande",
    "selection_table",
    "standing_out",
    "standing_out_intro",
    "standing_out_table",
    "title_text",
]
