"""Where a report's data came from, in Swedish: the title block's dateline and the provenance
section ("Om rapporten") of every report, and the notices when a recording stood in for an API."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from helpers import __version__, paths
from helpers.domain import EUROSTAT_SOURCE_LINE, KOLADA_SOURCE_LINE
from helpers.formatting import MONTHS_SV, format_number, swedish_date

_MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december")


def _stated_vintage(vintage: str | None) -> dict | None:
    """The replay's machine-readable vintage (JSON, first of several joined by " | ")."""
    for part in (vintage or "").split(" | "):
        try:
            data = json.loads(part)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def _swedish_month_or_date(text: str | None) -> str:
    """``"2024-08"`` → ``"augusti 2024"``; ``"2026-03-23"`` → ``"23 mars 2026"``."""
    if not text:
        return ""
    found = re.fullmatch(r"(\d{4})-(\d{2})", str(text))
    if found:
        return f"{MONTHS_SV[int(found.group(2)) - 1]} {found.group(1)}"
    try:
        return swedish_date(str(text))
    except ValueError:
        return str(text)


def snapshot_values_vintage(vintage: str | None) -> str:
    """When the recorded snapshot's values were recorded, in Swedish: from the replay's
    ``snapshot.json`` vintage (``values.recorded`` ``"2024-08"`` → ``"augusti 2024"``) or an
    older text (``"… values.csv.gz scraped from the Kolada API, August 2024"``)."""
    stated = _stated_vintage(vintage)
    if stated is not None:
        values = stated.get("values") or {}
        return values.get("recorded_sv") or _swedish_month_or_date(values.get("recorded"))
    entry = next((part for part in (vintage or "").split(";") if "values" in part), "")
    found = re.search(r"([A-Za-z]+) (\d{4})", entry)
    if found and found.group(1).lower() in _MONTHS_EN:
        return f"{MONTHS_SV[_MONTHS_EN.index(found.group(1).lower())]} {found.group(2)}"
    dated = re.search(r"\d{4}-\d{2}-\d{2}", entry)
    return swedish_date(dated.group(0)) if dated else ""


def kolada_snapshot_text(vintage: str | None) -> str:
    """The recorded Kolada snapshot's vintage in Swedish, for the provenance block: "värden
    (values.csv.gz) inspelade augusti 2024, år 1994–2022; metadata inspelad 23 mars 2026
    (kpi.json, …) och 15 januari 2024 (kpi_groups.json)"."""
    stated = _stated_vintage(vintage)
    if stated is None:
        recorded = snapshot_values_vintage(vintage)
        return f"värden inspelade {recorded}" if recorded else "årgång anges inte"
    values = stated.get("values") or {}
    parts = []
    if values:
        text = f"värden ({values.get('file', 'values.csv.gz')}) inspelade " \
               f"{snapshot_values_vintage(vintage) or 'okänt datum'}"
        years = values.get("years") or []
        if len(years) == 2:
            text += f", år {years[0]}–{years[1]}"
        parts.append(text)
    by_date: dict[str, list[str]] = {}
    for item in stated.get("metadata") or []:
        by_date.setdefault(str(item.get("recorded")), []).append(str(item.get("file")))
    if by_date:
        dated = [f"{_swedish_month_or_date(date)} ({', '.join(files)})"
                 for date, files in sorted(by_date.items(), reverse=True)]
        parts.append("metadata inspelad " + " och ".join(dated))
    return "; ".join(parts)


def eurostat_recording_text(vintage: str | None) -> str:
    """The Eurostat replay's recording in Swedish: "inspelad kopia av Eurostats fil
    gov_10dd_edpt1.tsv.gz, värden 1995–2024; filen anger inget utgivningsdatum"."""
    stated = _stated_vintage(vintage) or {}
    text = "inspelad kopia av Eurostats fil " + str(stated.get("file") or "(okänd fil)")
    years = stated.get("years") or []
    if len(years) == 2 and all(years):
        text += f", värden {years[0]}–{years[1]}"
    released = stated.get("release_date")
    text += (f", utgiven {swedish_date(released)}" if released
             else "; filen anger inget utgivningsdatum")
    return text


def epoch_of(moment: datetime | str | None, default: int = 0) -> int:
    """Seconds since 1970 of an ISO time (UTC when naive); ``default`` when missing/unreadable."""
    if not moment:
        return default
    try:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    except (TypeError, ValueError):
        return default


@cache
def git_commit(root: Path = paths.PROJ_ROOT) -> str:
    """The checkout's commit (12 hex digits), or "okänd" outside a git checkout."""
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "okänd"
    return result.stdout.strip() or "okänd"


def _format_value(value: Any) -> str:
    """A value in Swedish: lists joined by commas, ja/nej, decimal comma, "–" for none."""
    if isinstance(value, list | tuple):
        return ", ".join(_format_value(v) for v in value) or "–"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_format_value(v)}" for k, v in value.items()) or "–"
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, float):
        return format_number(value, 0 if value.is_integer() else 2)
    return str(value)


def parameter_rows(model: Any, parameters: Mapping[str, Any],
                   place: str | None = None) -> list[tuple[str, str]]:
    """The parameters of a report as the reader sees them: (Swedish name, Swedish value), in
    the model's order; ``place`` names the kommun or region ("Åsele (2463)")."""
    labels = getattr(model, "parameter_labels", {}) or {}
    unset = getattr(model, "parameter_unset", {}) or {}
    fields = list(getattr(model, "model_fields", {}) or parameters)
    rows = []
    for key in [k for k in fields if k in parameters and k != "report"]:
        value = parameters[key]
        if key == "kommun" and value is not None and place:
            text = place
        elif value is None:
            text = unset.get(key, "inte angiven")
        else:
            custom = model.parameter_text(key, value) if hasattr(model, "parameter_text") else None
            text = custom if custom is not None else _format_value(value)
        rows.append((labels.get(key, key), text))
    return rows


_SOURCE = re.compile(r"Källa: (.*)$", re.DOTALL)
_DATA_YEAR = re.compile(r"\s*Data avser [^.]*\.")


def citation(items: Sequence[tuple[str, int, str]]) -> str:
    """The closing source line of a report from its figures' and tables' source lines
    ((kind "figure"/"table", number, source)): each source once, with what rests on it
    ("Tabell 1–2: Sveriges Kommuner och Regioner (SKR), … Tabell 3: Kolada (RKA), egna
    beräkningar. …"); the data year is left out (it is in each caption)."""
    by_source: dict[str, dict[str, list[int]]] = {}
    for kind, number, source in items:
        found = _SOURCE.search(source or "")
        text = _DATA_YEAR.sub("", found.group(1) if found else (source or "")).strip()
        if text:
            by_source.setdefault(text, {}).setdefault(kind, []).append(int(number))
    parts = []
    for text, kinds in by_source.items():
        what = [f"{'figur' if kind == 'figure' else 'tabell'} {number_ranges(numbers)}"
                for kind, numbers in sorted(kinds.items(), key=lambda k: k[0] != "table")]
        label = " och ".join(what)
        parts.append(f"{label[0].upper()}{label[1:]}: {text}")
    return " ".join(parts)


def number_ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5, 7, 8]`` → ``"1–3, 5, 7–8"`` (en dashes)."""
    ordered = sorted(set(numbers))
    runs: list[list[int]] = []
    for n in ordered:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


@dataclass
class ReportInfo:
    """What the export templates show besides the notebook: title block and provenance.

    ``provenance`` keys: ``source`` (text), ``base_url``, ``snapshot`` (snapshot name, when the
    data came from the recorded snapshot), ``fetched_at`` (ISO time: the data vintage), ``kpis``,
    ``years``, ``package_version``, ``git_commit``, ``notice`` (shown highlighted).
    """

    report: str
    variant: str
    title: str
    subtitle: str = ""
    dateline: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    csv_files: list[str] = field(default_factory=list)
    parameter_rows: list[tuple[str, str]] = field(default_factory=list)
    """The parameters in Swedish (:func:`parameter_rows`); "Om rapporten" shows them as a table."""
    command: str = ""
    """The command that builds the variant again (the colophon's last line)."""
    citation: str = ""
    """The closing source line (:func:`citation`, from the notebook's captions at export)."""

    @property
    def source_date_epoch(self) -> int:
        """The data vintage as SOURCE_DATE_EPOCH (the report's only date)."""
        return epoch_of(self.provenance.get("fetched_at"))

    def provenance_rows(self) -> list[tuple[str, str]]:
        p = self.provenance
        source = p.get("source") or "Kolada (RKA)"
        if p.get("base_url"):
            source += f", {p['base_url']}"
        rows = [("Datakälla", source)]
        if p.get("snapshot"):
            rows.append(("Ögonblicksbild", str(p["snapshot"])))
        if p.get("fetched_at"):
            rows.append(("Dataårgång (hämtad)", f"{swedish_date(p['fetched_at'])} "
                                                 f"({p['fetched_at']})"))
        eurostat = p.get("eurostat")
        if eurostat:
            rows.append(("Datakälla, tabell 1", eurostat["source"]))
            rows.append(("Eurostats dataårgång", eurostat["vintage"]))
        rows.append(("Nyckeltal (KPI)", _format_value(p.get("kpis") or [])))
        if p.get("years"):
            rows.append(("År", _format_value(p["years"])))
        rows.append(("Variant", self.variant))
        rows.append(("Programversion", f"skr-report {p.get('package_version', __version__)}, "
                                       f"git {p.get('git_commit') or git_commit()}"))
        rows.append(("Källhänvisning", self.citation or _source_text(KOLADA_SOURCE_LINE) + (
            f" Tabell 1: {_source_text(EUROSTAT_SOURCE_LINE)}" if eurostat else "")))
        if self.command:
            rows.append(("Byggs om med", self.command))
        return rows

    def pdf_meta(self) -> dict[str, Any]:
        """Title block and provenance as data for the PDF (``skr.json``, see :mod:`.pdf`)."""
        rows = [[label, value] for label, value in self.provenance_rows()]
        if self.csv_files:
            rows.append(["Data bakom figurer och tabeller", ", ".join(self.csv_files)])
        document_title = self.title + (f" – {self.subtitle}" if self.subtitle else "")
        return {"title": self.title, "subtitle": self.subtitle or "",
                "dateline": self.dateline or "", "document_title": document_title,
                "notice": str(self.provenance.get("notice") or ""), "provenance": rows,
                "parameters": [[label, value] for label, value in self.parameter_rows]}

    def resources(self) -> dict[str, Any]:
        return {"title": self.title, "subtitle": self.subtitle, "dateline": self.dateline,
                "report": self.report, "variant": self.variant, "provenance": self.provenance,
                "provenance_rows": self.provenance_rows(), "csv_files": list(self.csv_files),
                "parameter_rows": list(self.parameter_rows)}


def _source_text(line: str) -> str:
    """A source line without its "Källa: " (the provenance row is called Källhänvisning)."""
    return line.removeprefix("Källa: ")


def kolada_text(source: Mapping[str, Any]) -> str:
    """The Kolada data named for the title block: "Kolada, hämtade 23 augusti 2024", or the
    recorded snapshot and when its values were recorded."""
    vintage = swedish_date(source.get("fetched_at"))
    if source.get("snapshot"):
        recorded = snapshot_values_vintage(source.get("snapshot_vintage"))
        return ("inspelad ögonblicksbild av Kolada"
                + (f" (värden från {recorded})" if recorded else "")
                + (f", läst {vintage}" if vintage else ""))
    if source.get("live_api", True):
        return "Kolada" + (f", hämtade {vintage}" if vintage else "")
    # neither the live API nor a replay server that names its snapshot
    return f"Kolada via {source.get('base_url')}" + (f", hämtade {vintage}" if vintage else "")


def _notice(source: Mapping[str, Any], eurostat: Mapping[str, Any] | None,
            fallback: str | None) -> str | None:
    notices = [fallback] if fallback else []
    if source.get("snapshot") and not fallback:
        notices.append("Data kommer från en inspelad ögonblicksbild av Kolada (uppspelad av en "
                       "lokal server), inte direkt från api.kolada.se. Ögonblicksbildens "
                       "dataårgång anges nedan.")
    if eurostat and eurostat["snapshot"]:
        notices.append("Tabell 1 bygger på inspelade Eurostat-data (../shared/eurostat), "
                       "uppspelade av en lokal server, inte på Eurostats API; inspelningens "
                       "årgång anges nedan.")
    return " ".join(notices) or None


def report_info(params: Any, *, variant: str, year: int | None, kpis: Sequence[str],
                source: Mapping[str, Any], place: str | None, parameters: Mapping[str, Any],
                fallback: str | None = None, csv_files: Sequence[str] = (),
                command: str = "") -> ReportInfo:
    """Title block and provenance of a report built from validated ``params`` (a
    ``ReportParams``): ``place`` names its kommun or region ("Åsele (2463)"), ``fallback`` is
    a further notice shown first (``RunSettings.notice``). A report on a recording says so
    whether the recording stood in for an unreachable API or was asked for: the report depends
    on its data, not on how the command reached them."""
    snapshot = bool(source.get("snapshot"))
    subtitle, dateline = params.title_block(place or "Hela landet", year, kolada_text(source))
    eurostat = eurostat_provenance(source.get("eurostat"))
    if eurostat:
        dateline += f"; tabell 1: {eurostat['short']}"
    provenance = {
        "source": "Kolada (RKA), inspelad ögonblicksbild" if snapshot else "Kolada (RKA)",
        # the replay server's port changes from run to run: not part of the report
        "base_url": "uppspelad av en lokal server (Kolada v3)" if snapshot
        else source.get("base_url"),
        "snapshot": _snapshot_text(source) if snapshot else None,
        "eurostat": eurostat,
        "fetched_at": source.get("fetched_at"),
        "kpis": list(kpis),
        "years": [year] if year is not None else [],
        "package_version": __version__,
        "git_commit": git_commit(),
        "notice": _notice(source, eurostat, fallback),
    }
    return ReportInfo(report=params.report, variant=variant, title=type(params).title or "",
                      subtitle=subtitle, dateline=dateline, parameters=dict(parameters),
                      provenance=provenance, csv_files=list(csv_files),
                      parameter_rows=parameter_rows(type(params), parameters, place),
                      command=command)


def _snapshot_text(source: Mapping[str, Any]) -> str:
    vintage = source.get("snapshot_vintage")
    return f"../shared/kolada – {kolada_snapshot_text(vintage)}" if vintage else "../shared/kolada"


def eurostat_provenance(source: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Eurostat part of the provenance, in Swedish, from ``eurostat/source.json``."""
    if not source:
        return None
    datasets = ", ".join(source.get("datasets") or []) or "Eurostat"
    fetched = swedish_date(source.get("fetched_at"))
    recorded = bool(source.get("snapshot"))
    if recorded:
        vintage = eurostat_recording_text(source.get("snapshot_vintage"))
        where = "inspelning, uppspelad av en lokal server"
        short = f"Eurostat ({datasets}), inspelning"
    else:
        updated = _swedish_when(source.get("updated"))
        vintage = f"uppdaterad av Eurostat {updated}" if updated else \
            "Eurostat anger inget uppdateringsdatum"
        where = str(source.get("base_url") or "")
        short = f"Eurostat ({datasets})" + (f", uppdaterad {updated}" if updated else "")
    if fetched:
        vintage += f"; {'läst' if recorded else 'hämtad'} {fetched}"
    return {"source": f"Eurostat ({datasets}), {where}", "vintage": vintage, "short": short,
            "snapshot": recorded, "datasets": list(source.get("datasets") or []),
            "updated": source.get("updated"), "fetched_at": source.get("fetched_at")}


def _swedish_when(moment: str | None) -> str:
    """Eurostat's ``2026-04-22T11:00:00+0200`` as ``22 april 2026`` (empty when unreadable)."""
    if not moment:
        return ""
    try:
        return swedish_date(moment)
    except ValueError:
        return str(moment)[:10]
