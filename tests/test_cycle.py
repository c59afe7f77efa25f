"""The regeneration cycle end to end (issue 18), on the test ground of ``fixtures/kolada_cycle``:
reports built while Kolada has 2022 ("before"), then Kolada publishes 2023 ("after").

``status`` must name the reports that follow the latest year (Välfärd's kommun variants, the
budget through N01951) as out of date, a report whose parameter file fixes 2022 as up to date,
and N03932 as gone; ``update`` must rebuild exactly those, from the parameter files their
manifests name; afterwards everything is up to date.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import skr_report

from helpers import paths

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("kolada_cycle")]


def env_for(server, root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KOLADA_BASE_URL=server.base_url, EUROSTAT_BASE_URL=server.eurostat_base_url,
               SKR_DATA_DIR=str(root / "data"), SKR_REPORTS_DIR=str(root / "reports"))
    return env


def ok(result, code: int = 0) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    return result.stdout


def families(env: dict[str, str]) -> tuple[int, dict]:
    result = skr_report("status", "--json", env=env, timeout=120)
    assert result.returncode in (0, 10), result.stdout + result.stderr
    found = json.loads(result.stdout)
    return result.returncode, {row["family"]: row for row in found["families"]}


@pytest.fixture(scope="module")
def cycle(cycle_servers, tmp_path_factory):
    """Reports built on "before": two Välfärd kommun variants (batch), Välfärd with the year
    fixed to 2022, the budget; then the same folders seen against "after"."""
    root = tmp_path_factory.mktemp("cycle")
    fixed = root / "valfard_2022.yaml"
    fixed.write_text((paths.PARAMS_DIR / "valfard.yaml").read_text(encoding="utf-8")
                     + "year: 2022\n", encoding="utf-8")
    before = env_for(cycle_servers["before"], root)
    ok(skr_report("batch", "params/valfard.yaml", "--kommuner", "2463,0114", "--format",
                  "html,pdf", "--jobs", "2", env=before, timeout=600))
    ok(skr_report("run", str(fixed), "--format", "html", env=before, timeout=600))
    ok(skr_report("run", "params/budget_skr.yaml", "--format", "html", env=before,
                  timeout=600))
    reports = root / "reports"
    manifests = {p.parent.name: p.read_bytes() for p in reports.glob("*/manifest.json")}
    assert set(manifests) == {"valfard-2463", "valfard-0114", "valfard_2022", "budget_skr"}
    # the status before the publication, captured before any test rebuilds anything
    status_before = (families(before), ok(skr_report("status", env=before, timeout=120)))
    return {"root": root, "before": before, "after": env_for(cycle_servers["after"], root),
            "reports": reports, "manifests": manifests, "status_before": status_before}


def test_status_before_the_publication_says_up_to_date(cycle):
    (code, rows), text = cycle["status_before"]
    assert code == 0, rows
    assert rows["valfard"]["counts"] == {"up to date": 2}
    assert rows["valfard"]["gone"] == ["N03932"]
    assert "valfard: UP TO DATE, 2 variants, year 2022" in text
    assert "gone from Kolada: N03932" in text


@pytest.fixture(scope="module")
def updated(cycle) -> dict:
    """The status seen against "after" (before anything is rebuilt), then `update` run once:
    the tests below read what was captured, in whatever order they run."""
    code, rows = families(cycle["after"])
    short = skr_report("status", env=cycle["after"], timeout=120)
    verbose = skr_report("status", "-v", env=cycle["after"], timeout=120).stdout
    update = ok(skr_report("update", "--jobs", "2", env=cycle["after"], timeout=900))
    return {"code": code, "rows": rows, "short": short, "verbose": verbose, "update": update}


def test_status_after_the_publication(updated):
    code, rows = updated["code"], updated["rows"]
    assert code == 10
    valfard = rows["valfard"]
    assert valfard["state"] == "out of date" and valfard["moves_to"] == [2023]
    assert {v["variant"]: v["state"] for v in valfard["variants"]} == {
        "valfard-0114": "out of date", "valfard-2463": "out of date"}
    assert {b["kpi"] for b in valfard["behind"]} >= {"U15401", "N30001", "N01951"}
    assert valfard["gone"] == ["N03932"]
    assert rows["budget_skr"]["state"] == "out of date"
    assert [b["kpi"] for b in rows["budget_skr"]["behind"]] == ["N01951"]
    assert rows["valfard_2022"]["state"] == "up to date"  # its year is fixed, its data as were
    assert rows["valfard_2022"]["year_fixed"] is True
    short = updated["short"]
    assert short.returncode == 10
    assert "valfard: OUT OF DATE, 2 variants, year 2022: Kolada has published 2023" in short.stdout
    verbose = updated["verbose"]
    assert "to update: valfard-0114, valfard-2463" in verbose
    assert "behind  U15401" in verbose and "report 2022, Kolada 2023" in verbose


def test_update_rebuilds_what_is_out_of_date(cycle, updated):
    update = updated["update"]
    assert "valfard (valfard.yaml): 2 variants rebuilt (2022 → 2023)" in update
    assert "budget_skr (budget_skr.yaml): 1 variant rebuilt (2022 → 2023)" in update
    reports = cycle["reports"]
    assert (reports / "valfard_2022" / "manifest.json").read_bytes() == \
        cycle["manifests"]["valfard_2022"]  # not rebuilt
    for name in ("valfard-2463", "valfard-0114", "budget_skr"):
        manifest = json.loads((reports / name / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["data"]["years"] == [2023], name
    rebuilt = json.loads((reports / "valfard-0114" / "manifest.json").read_text())
    assert rebuilt["overrides"] == {"kommun": "0114"} and rebuilt["params_file"] == \
        "params/valfard.yaml"
    code, rows = families(cycle["after"])
    assert code == 0, {name: row["state"] for name, row in rows.items()}
    again = ok(skr_report("update", env=cycle["after"], timeout=300))
    assert "Everything is up to date: nothing to fetch or build." in again


def test_the_rebuilt_report_says_what_changed(cycle, updated):
    """After the update: the previous version is kept beside the new one, and
    the report's section "Ändringar sedan förra versionen" (HTML and PDF) names the flipped
    statement and the largest changes; `skr-report diff` prints the same."""
    from fixtures.pdf_checks import pdf_facts

    folder = cycle["reports"] / "valfard-2463"
    previous = json.loads((folder / "previous" / "manifest.json").read_text(encoding="utf-8"))
    assert previous["data"]["years"] == [2022]
    html = (folder / "valfard_i_hela_landet.html").read_text(encoding="utf-8")
    start = html.index(">Ändringar sedan förra versionen<")
    part = html[start:html.index('id="om-rapporten"')]
    assert "Förra versionen: data för 2022" in part and "Den här versionen: data för 2023" in part
    assert ("Mindre städer/tätorter har lägre resultat inom grundskolan: höll 2022 – håller "
            "inte 2023.") in part
    assert "Största ändringarna sedan förra versionen, värde för värde" in part
    assert "+12,0" in part  # U15401 +12 for C6 Mindre stad/tätort, in the report's format
    assert "Upplands Väsby (0114)" in part  # the U28408 row that went
    assert "Oförändrade: Figur 5" in part
    text = pdf_facts(folder / "valfard_i_hela_landet.pdf").text
    assert "Ändringar sedan förra versionen" in text and "håller inte 2023" in text
    diff = ok(skr_report("diff", str(folder / "previous"), str(folder), env=cycle["after"],
                         timeout=120))
    assert "Mindre städer/tätorter har lägre resultat inom grundskolan: höll 2022 – håller " \
           "inte 2023." in diff
    assert "| Figur 1 |" in diff and "+12,0" in diff
    budget = (cycle["reports"] / "budget_skr" / "budget.html").read_text(encoding="utf-8")
    assert "Ändringar sedan förra versionen" in budget
    assert not (cycle["reports"] / "valfard_2022" / "previous").exists()
