"""helpers.reports.agenda2030: the selection per goal, the nulägesanalys, the parameter model."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import require_shared

from helpers.build.parameters import validate_params
from helpers.params import ParamsError
from helpers.rendering.notebook import ReportNotebook
from helpers.reports import agenda2030 as agenda

HOOR = "1267"
HOOR_LIKNANDE = "G37411"  # Liknande kommuner, övergripande, Höör, 2025


# --- the adopted goal map -----------------------------------------------------------------------


ENGLISH = re.compile(r"\b(the|of|and|in|is|are|which|by|from|only|built|selection|goal|order|"
                     r"inferred|position|list|topic|could|version|assumed|same|narrative|"
                     r"supported|block|sibling|explicitly|analogue|sources|confidence|target)\b",
                     re.IGNORECASE)
"""English words of the goal map's research notes (outside addresses and quoted code)."""


def _source_facts(text: str) -> list[str]:
    """What a translation of a goal-map note must keep: web addresses, SDG/GM/SE codes, KPI
    ids, quoted strings and numbers."""
    quoted = re.findall(r"'[^']*'", text)
    rest = re.sub(r"'[^']*'", " ", text)
    addresses = [a.rstrip(",;") for a in re.findall(r"\S+\.se\S*", rest)]
    rest = re.sub(r"\S+\.se\S*", " ", rest)
    return sorted(quoted + addresses + re.findall(r"[A-Z]+\.[\d.]*\d|[NU]\d{5}|\d+", rest))


@pytest.mark.parametrize(("level", "shared"), [("kommun", "goal_map.csv"),
                                               ("region", "goal_map_region.csv")])
def test_goal_map_keeps_source_and_confidence(level, shared):
    from helpers.paths import AGENDA2030_SHARED_DIR

    require_shared(f"agenda2030/{shared}")
    ours = agenda.load_goal_map(level).set_index("kpi_id").sort_index()
    theirs = pd.read_csv(AGENDA2030_SHARED_DIR / shared, dtype=str).set_index("kpi_id")
    theirs = theirs.sort_index()
    assert list(ours.index) == list(theirs.index)
    # the notes are translated to Swedish: the same addresses, codes, ids, quotes, numbers
    assert [_source_facts(s) for s in ours["source"]] == [_source_facts(s)
                                                          for s in theirs["source"]]
    prose = [re.sub(r"'[^']*'|\S+\.se\S*", " ", s) for s in ours["source"]]
    assert not [s for s in prose if ENGLISH.search(s)]
    assert (ours["confidence"] == theirs["confidence"]).all()
    assert (ours["goal"].astype(str) == theirs["goal"]).all()
    assert (ours["malnamn"] == ours["goal"].map(agenda.GOAL_NAMES)).all()


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("with_catalogue", [False, True])
def test_kommun_code_for_region_and_reverse_rejected(with_catalogue, catalogue):
    cat = catalogue if with_catalogue else None
    with pytest.raises(ParamsError, match=r"key 'kommun'.*1267.*(kommun code|not a region)"):
        validate_params({"report": "agenda2030", "level": "region", "kommun": HOOR}, cat)
    with pytest.raises(ParamsError, match=r"key 'kommun'.*0012.*(region code|not a kommun)"):
        validate_params({"report": "agenda2030", "level": "kommun", "kommun": "0012"}, cat)
    with pytest.raises(ParamsError, match="Riket"):
        validate_params({"report": "agenda2030", "level": "region", "kommun": "0000"}, cat)
    assert validate_params({"report": "agenda2030", "level": "region", "kommun": 12},
                           cat).kommun == "0012"
    assert validate_params({"report": "agenda2030", "kommun": 1267}, cat).kommun == HOOR


def test_params_files_load():
    from helpers.build.parameters import load_params
    from helpers.paths import PARAMS_DIR

    kommun = load_params(PARAMS_DIR / "agenda2030.yaml")
    region = load_params(PARAMS_DIR / "agenda2030_region.yaml")
    assert (kommun.level, kommun.kommun) == ("kommun", HOOR)
    assert (region.level, region.kommun) == ("region", "0012")
    assert kommun.onskad_riktning["N00401"] == "lägre"


def test_required_kpis_without_client_is_the_goal_map():
    params = agenda.Agenda2030Params(report="agenda2030", level="region")
    assert params.required_kpis() == list(agenda.load_goal_map("region")["kpi_id"])


# --- through the pipeline: replay server → client → processed data ------------------------------


@pytest.fixture(scope="module")
def client(kolada_server, tmp_path_factory):
    from helpers.sources.kolada import KoladaClient

    return KoladaClient(base_url=kolada_server.base_url,
                        cache_dir=tmp_path_factory.mktemp("agenda_raw"))


@pytest.fixture(scope="module")
def catalogue(kolada_server, tmp_path_factory):
    from helpers.datasets import catalogue_for
    from helpers.sources.kolada import KoladaClient

    return catalogue_for(KoladaClient(base_url=kolada_server.base_url,
                                      cache_dir=tmp_path_factory.mktemp("agenda_cat")))


@pytest.fixture(scope="module")
def processed(client, tmp_path_factory):
    """Both levels fetched and prepared into one temporary data/processed."""
    from helpers.datasets import fetch_for

    folder = tmp_path_factory.mktemp("agenda_data") / "processed"
    for params in (agenda.Agenda2030Params(report="agenda2030", kommun=HOOR),
                   agenda.Agenda2030Params(report="agenda2030", level="region",
                                           kommun="0012")):
        fetch_for(params, client, folder)
        params.prepare_data(client, folder)
    return folder


def test_required_kpis_with_client_are_the_group_members(client):
    params = agenda.Agenda2030Params(report="agenda2030")
    members = client.kpi_groups(ids=["G2KPI130255"])["member_id"].tolist()
    assert params.required_kpis(client) == members and len(members) == 84


@pytest.mark.parametrize(("level", "group", "n_units"), [("kommun", "G2KPI130255", 290),
                                                         ("region", "G2KPI130290", 21)])
def test_selection_covers_every_member_and_goal(processed, client, level, group, n_units):
    report = agenda.build_report(agenda.Agenda2030Params(report="agenda2030", level=level),
                                 processed)
    members = client.kpi_groups(ids=[group])["member_id"].tolist()
    selection = report.selection
    assert sorted(selection["kpi"]) == sorted(members)
    goals_with_indicators = set(agenda.load_goal_map(level)["goal"])
    assert set(selection["mal"].dropna().astype(int)) == goals_with_indicators
    counts = agenda.count_per_goal(selection)
    assert len(counts) == 17 and counts["antal"].sum() == len(members)
    assert counts.loc[counts["mal"] == 17, "antal"].item() == 0
    assert (selection["antal_enheter"] == n_units).all()
    assert selection["tackning"].max() <= n_units
    assert set(selection["konsuppdelad"]) <= {"ja", "nej", ""}


def test_members_no_longer_served_are_listed(processed):
    report = agenda.build_report(agenda.Agenda2030Params(report="agenda2030"), processed)
    missing = report.selection[report.selection["status"] != agenda.STATUS_SERVED]
    assert dict(zip(missing["kpi"], missing["status"], strict=True)) == {
        "N17434": agenda.STATUS_NOT_IN_CATALOGUE, "N07713": agenda.STATUS_NO_VALUES}
    assert "N17434" in agenda.missing_text(report)
    region = agenda.build_report(
        agenda.Agenda2030Params(report="agenda2030", level="region"), processed)
    assert (region.selection["status"] != agenda.STATUS_SERVED).sum() == 14


def test_coverage_and_latest_year_recomputed(processed):
    from helpers.datasets import load_values

    report = agenda.build_report(agenda.Agenda2030Params(report="agenda2030"), processed)
    values = load_values(["N00401", "N07401"], processed)
    kommuner = report.meta.unit_codes()
    for kpi in ("N00401", "N07401"):
        rows = values[(values["kpi"] == kpi) & (values["gender"] == "T")
                      & values["municipality"].isin(kommuner) & values["value"].notna()]
        latest = rows["period"].max()
        row = report.selection.set_index("kpi").loc[kpi]
        assert row["senaste_ar"] == latest
        assert row["tackning"] == rows.loc[rows["period"] == latest, "municipality"].nunique()


def test_nulage_matches_values_recomputed(processed):
    from helpers.datasets import load_values

    params = agenda.Agenda2030Params(report="agenda2030", kommun=HOOR, liknande=HOOR_LIKNANDE,
                                     onskad_riktning={"N00401": "lägre", "N00925": "högre"})
    report = agenda.build_report(params, processed)
    nulage = report.nulage.set_index("kpi")
    values = load_values(list(nulage.index), processed)
    kommuner = pd.read_parquet(sorted(processed.glob("kommuner_*.parquet"))[-1])
    grupp = kommuner.set_index("kommun").at[HOOR, "kommungrupp_2023_kod"]
    grupp_members = kommuner.loc[kommuner["kommungrupp_2023_kod"] == grupp, "kommun"]
    liknande = report.meta.liknande
    liknande_members = liknande.loc[liknande["group_id"] == HOOR_LIKNANDE, "member_id"]
    assert len(liknande_members) == 7
    all_kommuner = kommuner["kommun"]
    checked = 0
    for kpi, row in nulage.iterrows():
        v = values[(values["kpi"] == kpi) & values["value"].notna()]
        t = v[v["gender"] == "T"]
        own = t[t["municipality"] == HOOR]
        if own.empty:
            assert pd.isna(row["varde"])
            continue
        year = own["period"].max()
        same = t[t["period"] == year].set_index("municipality")["value"]
        assert row["ar"] == year
        assert row["varde"] == pytest.approx(same[HOOR])
        assert row["riket"] == pytest.approx(same.get("0000", np.nan), nan_ok=True)
        assert row["grupp_medel"] == pytest.approx(same.reindex(grupp_members).mean())
        assert row["liknande_medel"] == pytest.approx(same.reindex(liknande_members).mean(),
                                                      nan_ok=True)
        peers = same.reindex(all_kommuner).dropna()
        assert row["rang"] == (peers > same[HOOR]).sum() + 1
        assert row["antal"] == len(peers)
        sd = peers.std()
        comparison = same.reindex(liknande_members).mean()
        assert row["avvikelse_sd"] == pytest.approx((same[HOOR] - comparison) / sd,
                                                    nan_ok=True)
        k = v[(v["gender"] == "K") & (v["period"] == year) & (v["municipality"] == HOOR)]
        m = v[(v["gender"] == "M") & (v["period"] == year) & (v["municipality"] == HOOR)]
        if len(k) and len(m):
            assert row["skillnad_k_m"] == pytest.approx(k["value"].item() - m["value"].item())
        else:
            assert pd.isna(row["skillnad_k_m"])
        window = own[own["period"] > year - 5].sort_values("period")
        if len(window) >= 3:
            slope = np.polyfit(window["period"], window["value"], 1)[0]
            assert row["trend_per_ar"] == pytest.approx(slope)
        checked += 1
    assert checked >= 70
    # judged only where the direction is given
    judged = nulage[nulage["bedomning"] != ""]
    assert set(judged.index) <= {"N00401", "N00925"}
    n00401 = nulage.loc["N00401"]
    assert n00401["bedomning"] == ("bättre" if n00401["avvikelse_sd"] < 0 else "sämre")


def test_liknande_by_theme_and_unknown(processed):
    report = agenda.build_report(agenda.Agenda2030Params(
        report="agenda2030", kommun=HOOR, liknande="övergripande"), processed)
    assert report.liknande_label.startswith("Liknande kommuner, övergripande, Höör")
    assert report.nulage["liknande_n"].max() == 7
    meta = report.meta
    with pytest.raises(ParamsError, match=r"Themes available: .*övergripande"):
        agenda.resolve_liknande("simhallar", HOOR, meta)
    with pytest.raises(ParamsError, match="not a Liknande kommuner group"):
        agenda.resolve_liknande("G1", HOOR, meta)
    assert set(agenda.resolve_liknande("grundskola", HOOR, meta)["group_id"]) == {"G35951"}


def test_region_variant(processed, tmp_path):
    params = agenda.Agenda2030Params(report="agenda2030", level="region", kommun="0012",
                                     liknande="socioekonomi")
    report = agenda.build_report(params, processed)
    nulage = report.nulage
    assert report.unit_label == "Region Skåne"
    assert len(nulage) > 40
    assert (nulage["antal"].dropna() <= 21).all()
    assert nulage["grupp_n"].max() == 21  # comparison: all regions
    assert report.group_label == "Alla regioner (medel)"
    ReportNotebook(params, tmp_path).show(agenda.selection_table(report),
                                          agenda.nulage_table(report),
                                          agenda.nulage_figure(report))
    assert (tmp_path / "tables" / "agenda2030_urval.csv").exists()
    written = pd.read_csv(tmp_path / "tables" / "agenda2030_nulage.csv", dtype={"enhet": str})
    assert set(written["enhet"]) == {"0012"}
    for suffix in ("svg", "pdf", "png"):
        assert (tmp_path / "figures" / f"agenda2030_nulage_figur.{suffix}").stat().st_size > 10_000
    alt = (tmp_path / "figures" / "agenda2030_nulage_figur.txt").read_text(encoding="utf-8")
    assert "Region Skåne som punkt" in alt and len(alt.strip()) <= 250
    # its main message is computed: how many lie more than one SD away, and the furthest
    shown = nulage.dropna(subset=["avvikelse_sd"])
    far = int((shown["avvikelse_sd"].abs() > 1).sum())
    top = shown.loc[shown["avvikelse_sd"].abs().idxmax(), "kpi"]
    assert f"{far} av {len(shown)} ligger mer än en standardavvikelse bort" in alt
    assert f"längst bort {top} (" in alt
    # the tables: goals as row groups, the KPI title the row header, one decimal per column
    table = agenda.nulage_table(report)
    assert table.group == "Mål" and list(table.shown.columns[:3]) == ["Mål", "Nyckeltal", "Id"]
    values = table.shown["Riket"][table.shown["Riket"] != "saknas"]
    assert values.str.fullmatch(r"−?[\d\u202f]+,\d").all()


def test_without_kommun_only_the_selection(processed, tmp_path):
    report = agenda.build_report(agenda.Agenda2030Params(report="agenda2030"), processed)
    assert report.nulage is None
    assert agenda.nulage_table(report) == agenda.NO_NULAGE_TEXT
    assert agenda.nulage_figure(report) is None
    assert "Ingen kommun" in agenda.nulage_text(report)


def test_standing_out_orders_by_absolute_deviation(processed):
    report = agenda.build_report(agenda.Agenda2030Params(
        report="agenda2030", kommun=HOOR, antal_utmarkande=5), processed)
    top = agenda.standing_out(report.nulage, 5)
    assert len(top) == 5
    deviations = top["avvikelse_sd"].abs().tolist()
    assert deviations == sorted(deviations, reverse=True)
    assert deviations[0] == report.nulage["avvikelse_sd"].abs().max()
    assert "Ingen önskad riktning" in agenda.direction_text(report)
