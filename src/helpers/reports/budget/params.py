"""The budget report's parameter model (``params/budget*.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from helpers.domain import POPULATION_KPI
from helpers.formatting import format_number
from helpers.params import ReportParams, register_report
from helpers.reports.budget.accounts import RESULTATRAKNING_DOCUMENT

FAMILJEN_HELSINGBORG_KR_2025 = 21.0
""""2025 uppgår avgiften till 21 kronor per invånare" (seeds/003)."""
PositiveKr = Annotated[float, Field(gt=0)]
IndexProcent = Annotated[float, Field(gt=-100, le=100)]


@register_report("budget")
class BudgetParams(ReportParams):
    """Parameters of the budget report.

    ``medlemsavgift_skanes_kr_per_invanare`` must be written in the parameter file: the source
    publishes no fee for Skånes Kommuner, so there is no default figure. ``null`` means "no fee
    given": the report then says so and leaves the Skånes Kommuner table out.
    """

    title: ClassVar[str] = "Budgettabeller"
    parameter_labels: ClassVar[dict[str, str]] = {
        **ReportParams.parameter_labels,
        "kommun": "Kommun (markerad i avgiftstabellerna)",
        "year": "Befolkningsår",
        "medlemsavgift_skanes_kr_per_invanare": "Skånes Kommuner: avgift per invånare",
        "medlemsavgift_skanes_index_procent": "Skånes Kommuner: indexering",
        "medlemsavgift_skanes_ar": "Skånes Kommuner: avgiftsår",
        "medlemsavgift_familjen_helsingborg_kr_per_invanare":
            "Familjen Helsingborg: avgift per invånare",
        "medlemsavgift_familjen_helsingborg_index_procent": "Familjen Helsingborg: indexering",
        "medlemsavgift_familjen_helsingborg_ar": "Familjen Helsingborg: avgiftsår",
    }
    parameter_unset: ClassVar[dict[str, str]] = {
        **ReportParams.parameter_unset, "kommun": "ingen",
        "medlemsavgift_skanes_kr_per_invanare": "inte angiven (tabellen tas inte fram)",
        "medlemsavgift_skanes_index_procent": "ingen",
        "medlemsavgift_familjen_helsingborg_index_procent": "ingen",
        "medlemsavgift_skanes_ar": "inte angivet",
        "medlemsavgift_familjen_helsingborg_ar": "inte angivet"}

    medlemsavgift_skanes_kr_per_invanare: PositiveKr | None
    medlemsavgift_skanes_index_procent: IndexProcent | None = None
    medlemsavgift_skanes_ar: int | None = None
    """The year the fee applies to (shown in the table's text); None: not stated."""
    medlemsavgift_familjen_helsingborg_kr_per_invanare: PositiveKr = FAMILJEN_HELSINGBORG_KR_2025
    medlemsavgift_familjen_helsingborg_index_procent: IndexProcent | None = None
    medlemsavgift_familjen_helsingborg_ar: int | None = 2025

    @model_validator(mode="before")
    @classmethod
    def _fee_key_required(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "medlemsavgift_skanes_kr_per_invanare" not in data:
            raise PydanticCustomError(
                "fee_required",
                "medlemsavgift_skanes_kr_per_invanare is required: the source publishes no fee "
                "for Skånes Kommuner, so none is assumed. Fix: give the fee in kr per invånare, "
                "or write `medlemsavgift_skanes_kr_per_invanare: null` to leave that table out.")
        return data

    @classmethod
    def parameter_text(cls, key: str, value: Any) -> str | None:
        if value is not None and key.endswith("_kr_per_invanare"):
            return f"{format_number(value, 2)}\u00a0kr"
        if value is not None and key.endswith("_index_procent"):
            return f"{format_number(value, 1)}\u00a0%"
        return None

    def required_kpis(self) -> list[str]:
        return [POPULATION_KPI]

    def title_block(self, place: str, year: int | None, kolada: str) -> tuple[str, str]:
        """The main table is SKR's own budget from the published document; Kolada gives only
        the population of the fee tables."""
        subtitle = "SKR:s budget 2023–2024 och medlemsavgifter"
        if self.kommun is not None:
            subtitle += f" · {place}"
        if year is not None:
            subtitle += f" · befolkning {year}"
        return subtitle, (f"Underlag: SKR:s resultaträkning (Budget 2023, Prognos T2 2023, "
                          f"Budget 2024) ur {RESULTATRAKNING_DOCUMENT}; befolkningen (N01951) "
                          f"i medlemsavgiftstabellerna: {kolada}")
