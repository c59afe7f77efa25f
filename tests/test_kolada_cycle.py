"""The test ground of issue 18: Kolada before and after it publishes 2023, served by the replay
(``tests/fixtures/kolada_cycle.py``, fixtures ``cycle_snapshots`` and ``cycle_servers``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fixtures.kolada_cycle import CHANGES, DROPPED_UNIT, MINDRE_STAD_GROUP, VALFARD_KPIS

from helpers import paths
from helpers.sources.kolada import KoladaClient

pytestmark = pytest.mark.xdist_group("kolada_cycle")


@pytest.fixture
def clients(cycle_servers, tmp_path):
    made = {name: KoladaClient(base_url=server.base_url, cache_dir=tmp_path / "raw")
            for name, server in cycle_servers.items()}
    yield made
    for client in made.values():
        client.close()


def _entry(client, kpi):
    return client.kpis(ids=[kpi]).set_index("id").loc[kpi]


def test_before_catalogue_agrees_with_the_recorded_values(clients, cycle_snapshots):
    today = cycle_snapshots["today"]
    before = clients["before"]
    for kpi in ("U15401", "N15001", "N01951"):
        entry = _entry(before, kpi)
        assert entry["publ_period"] == "2023", kpi  # the recording's values end with 2022
        assert entry["publication_date"] == (today + timedelta(days=60)).isoformat()
    gone = _entry(before, "N03932")  # as recorded: no publication at all any more
    assert gone["publ_period"] is None and gone["publication_date"] is None
    values = before.values(["U15401"], years=[2022, 2023])
    assert set(values["period"]) == {2022}
    assert (cycle_snapshots["before"] / "values.csv.gz").resolve() == \
        (paths.SNAPSHOT_DIR / "values.csv.gz").resolve()


def test_after_publishes_2023_derived_from_2022(clients, cycle_snapshots):
    today = cycle_snapshots["today"]
    after, before = clients["after"], clients["before"]
    published = _entry(after, "U15401")
    assert published["publ_period"] == "2023"
    assert published["publication_date"] == (today - timedelta(days=2)).isoformat()
    assert _entry(after, "N03932")["publ_period"] is None
    not_valfard = _entry(after, "N00401")  # an Agenda 2030 KPI: nothing new for it
    assert not_valfard["publ_period"] == _entry(before, "N00401")["publ_period"]

    old = before.values(list(VALFARD_KPIS), years=[2021, 2022])
    new = after.values(list(VALFARD_KPIS), years=[2021, 2022, 2023])
    keys = ["kpi", "municipality", "period", "gender"]
    # the recorded years are served unchanged
    same = new[new["period"] < 2023].reset_index(drop=True)
    assert same[[*keys, "value"]].equals(old[[*keys, "value"]].reset_index(drop=True))
    # every Välfärd KPI with 2022 values has 2023 values, so 2023 is the report's latest year
    with_2022 = set(old.loc[old["period"] == 2022, "kpi"])
    assert set(new.loc[new["period"] == 2023, "kpi"]) == with_2022
    assert "N03932" not in with_2022

    by_key = new.set_index(keys)["value"]
    members = set(after.municipality_groups(ids=[MINDRE_STAD_GROUP])["member_id"])
    u15401 = old[(old["kpi"] == "U15401") & (old["period"] == 2022) & (old["gender"] == "T")]
    for row in u15401.itertuples():
        expected = min(100.0, row.value + 12) if row.municipality in members else row.value
        assert by_key[("U15401", row.municipality, 2023, "T")] == pytest.approx(expected)
    stockholm = by_key[("N01951", "0180", 2022, "T")]
    assert by_key[("N01951", "0180", 2023, "T")] == round(stockholm * 1.01)
    kpi, unit = DROPPED_UNIT
    assert (kpi, unit, 2022, "T") in by_key.index
    assert (kpi, unit, 2023, "T") not in by_key.index
    assert {c.kpi for c in CHANGES} <= with_2022


@pytest.mark.slow
def test_after_flips_a_statement_of_valfard(cycle_servers, tmp_path):
    """The report's own check says 'ja' for 2022 and 'nej' for 2023 on the same data."""
    from helpers.datasets import fetch_for
    from helpers.reports.valfard import ValfardParams, load_data
    from helpers.reports.valfard.sentences import spec_statements
    from helpers.reports.valfard.spec import KVALITETSINDEX, NETTOKOSTNADSAVVIKELSE

    with KoladaClient(base_url=cycle_servers["after"].base_url,
                      cache_dir=tmp_path / "raw") as client:
        params = ValfardParams(report="valfard_i_hela_landet")
        result = fetch_for(params, client, tmp_path / "processed")
    assert result.years_with_data(how=ValfardParams.years_rule)[-1] == 2023
    verdicts = {}
    for year in (2022, 2023):
        data = load_data(params.model_copy(update={"year": year}),
                         processed_dir=tmp_path / "processed")
        checked = spec_statements(data.spread("kommuntyp", KVALITETSINDEX),
                                  data.spread("storleksklass", KVALITETSINDEX),
                                  data.spread("kommuntyp", NETTOKOSTNADSAVVIKELSE))
        verdicts[year] = dict(zip(checked["Påstående i rapporten"], checked["Stöds av data"],
                                  strict=True))
    claim = "Mindre städer/tätorter har lägre resultat inom grundskolan."
    assert (verdicts[2022][claim], verdicts[2023][claim]) == ("ja", "nej")
