"""Kolada's KPI catalogue read for its publications: what ``skr-report status`` compares the
published reports with.

The catalogue (``/v3/kpi``) gives, per KPI, one publication: the period ``publ_period``, the day
``publication_date`` and, for some, a preliminary day ``prel_publication_date``. Read as of
``today``, an entry whose day has come means that its period is published; an entry whose day is
still ahead announces the next publication, so the latest published period is the one before. An
entry with neither period nor day (N03932 since 2024) is a KPI Kolada no longer publishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _period(value: Any) -> int | None:
    try:
        return int(str(value)[:4]) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Publication:
    """One entry of Kolada's KPI catalogue, as far as publication goes."""

    kpi: str
    title: str = ""
    period: int | None = None
    """``publ_period``: the period of the publication the entry is about."""
    day: date | None = None
    """``publication_date``."""
    prel_day: date | None = None
    """``prel_publication_date``: preliminary values of ``period`` come out this day."""

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Publication:
        return cls(kpi=str(entry.get("id")), title=str(entry.get("title") or ""),
                   period=_period(entry.get("publ_period")),
                   day=_day(entry.get("publication_date")),
                   prel_day=_day(entry.get("prel_publication_date")))

    @property
    def gone(self) -> bool:
        """No publication at all: Kolada no longer publishes the KPI."""
        return self.period is None and self.day is None and self.prel_day is None

    def latest(self, today: date) -> int | None:
        """The latest period published as of ``today`` (preliminary values count)."""
        if self.period is None:
            return None
        if any(day is not None and day <= today for day in (self.day, self.prel_day)):
            return self.period
        return self.period - 1

    def last_day(self, today: date) -> date | None:
        """The day of the latest publication on or before ``today`` that the entry names."""
        past = [day for day in (self.day, self.prel_day) if day is not None and day <= today]
        return max(past, default=None)

    def upcoming(self, today: date) -> tuple[date, int, bool] | None:
        """(day, period, preliminary) of the next publication after ``today``, if announced."""
        if self.period is None:
            return None
        ahead = [(day, prel) for day, prel in ((self.prel_day, True), (self.day, False))
                 if day is not None and day > today]
        if not ahead:
            return None
        day, prel = min(ahead)
        return day, self.period, prel


def read_catalogue(entries: Iterable[Mapping[str, Any]]) -> dict[str, Publication]:
    """KPI id → :class:`Publication`, from the ``values`` of ``/v3/kpi`` (or a DataFrame's
    records)."""
    return {str(e.get("id")): Publication.from_entry(e) for e in entries if e.get("id")}


@dataclass(frozen=True)
class SourceCheck:
    """When the data source was last asked for a KPI's values and its last year with data."""

    checked_at: datetime
    last_year: int | None


__all__ = ["Publication", "SourceCheck", "read_catalogue"]
