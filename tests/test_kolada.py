"""The Kolada client against the local replay server, over real HTTP."""

from __future__ import annotations

import gzip
import json
import os
import socket
import threading
import time

import pandas as pd
import pytest

from helpers import paths
from helpers.sources.kolada import (
    KoladaBadResponse,
    KoladaCacheMiss,
    KoladaClient,
    KoladaDeprecated,
    KoladaHTTPError,
    KoladaUnreachable,
    RawCache,
    balanced_chunks,
    chunked,
)

YEARS = list(range(2010, 2023))


@pytest.fixture(scope="module")
def snapshot_values() -> pd.DataFrame:
    with gzip.open(paths.SNAPSHOT_DIR / "values.csv.gz") as handle:
        return pd.read_csv(handle, dtype={"kpi": str, "municipality": str, "gender": str})


@pytest.fixture(scope="module")
def kpi_ids(kolada_server, tmp_path_factory) -> list[str]:
    client = KoladaClient(kolada_server.base_url, cache_dir=tmp_path_factory.mktemp("raw"))
    return sorted(client.kpis()["id"])


def client_for(server, tmp_path, **kwargs) -> KoladaClient:
    kwargs.setdefault("backoff_factor", 0.01)
    return KoladaClient(server.base_url, cache_dir=tmp_path / "raw", **kwargs)


def test_chunked_splits_at_25():
    ids = [f"N{i:05d}" for i in range(51)]
    assert [len(c) for c in chunked(ids)] == [25, 25, 1]
    assert [len(c) for c in chunked(ids[:25])] == [25]
    assert [len(c) for c in balanced_chunks(ids[:40], 4)] == [10, 10, 10, 10]
    assert [len(c) for c in balanced_chunks(ids, 1)] == [17, 17, 17]


def test_25_kpis_make_one_request_and_26_make_two(kolada_server, tmp_path, kpi_ids):
    client = client_for(kolada_server, tmp_path)
    client.values(kpi_ids[:25], "0180", 2022)
    assert client.stats.requests == 1
    client = client_for(kolada_server, tmp_path / "other")
    client.values(kpi_ids[:26], "0180", 2022)
    assert client.stats.requests == 2


def test_paging_follows_next_url_and_returns_every_record(kolada_server, tmp_path, snapshot_values):
    kpis = ["N01951", "N00097", "U15401"]
    client = client_for(kolada_server, tmp_path)
    got = client.values(kpis, years=YEARS)
    expected = snapshot_values[snapshot_values.kpi.isin(kpis) & snapshot_values.period.isin(YEARS)]
    records = expected[["kpi", "municipality", "period"]].drop_duplicates()
    assert len(records) > 5000, "the test needs more than one page"
    assert client.stats.requests >= 2
    assert len(got) == len(expected)
    assert not got.duplicated(["kpi", "municipality", "period", "gender"]).any()
    merged = got.merge(expected, on=["kpi", "municipality", "period", "gender"])
    assert len(merged) == len(expected)
    assert (merged.value_x - merged.value_y).abs().max() < 1e-9


def test_tidy_frame_types_and_ids_as_strings(kolada_server, tmp_path):
    got = client_for(kolada_server, tmp_path).values("N01951", ["0114", "0180"], [2021, 2022])
    assert list(got.columns) == [
        "kpi",
        "municipality",
        "period",
        "gender",
        "value",
        "count",
        "status",
    ]
    assert set(got.municipality) == {"0114", "0180"}
    assert got.period.dtype == "int64" and got.value.dtype == "float64"
    stockholm = got[(got.municipality == "0180") & (got.period == 2022) & (got.gender == "T")]
    assert stockholm.value.item() == 984748


def test_group_id_gives_unweighted_mean_with_count(kolada_server, tmp_path):
    client = client_for(kolada_server, tmp_path)
    members = client.municipality_groups("G92787")
    assert len(members) == 3
    units = client.values("U20404", list(members.member_id), 2022)
    units = units[units.gender == "T"]
    group = client.values("U20404", "G92787", 2022)
    group = group[group.gender == "T"]
    assert group.municipality.item() == "G92787"
    assert group["count"].item() == units.value.notna().sum()
    assert group.value.item() == pytest.approx(units.value.mean())


def test_gender_divided_kpi_has_total_women_and_men(kolada_server, tmp_path):
    client = client_for(kolada_server, tmp_path)
    catalogue = client.kpis()
    divided = catalogue[catalogue.is_divided_by_gender.astype(bool)]["id"]
    got = client.values(list(divided[:25]), "0180", 2022)
    assert {"T", "K", "M"} <= set(got.gender)


def test_metadata_by_id_and_title(kolada_server, tmp_path):
    client = client_for(kolada_server, tmp_path)
    assert client.kpis("N01951")["title"].item().startswith("Invånare")
    assert "N01951" in set(client.kpis(title="invånare totalt")["id"])
    munis = client.municipalities()
    assert (munis.type == "K").sum() == 290
    assert client.municipalities(title="väsby")["id"].tolist() == ["0114"]
    agenda = client.kpi_groups("G2KPI130255")
    assert agenda.group_title.iloc[0].startswith("Agenda 2030")
    assert len(agenda) > 50


def test_unknown_ids_give_empty_results(kolada_server, tmp_path):
    client = client_for(kolada_server, tmp_path)
    assert client.values("X99999", "0180", 2022).empty
    assert client.kpis("X99999").empty


def test_second_identical_fetch_makes_zero_requests(kolada_server, tmp_path):
    first = client_for(kolada_server, tmp_path)
    a = first.values(["N01951", "N00097"], years=YEARS)
    assert first.stats.requests > 0
    served_before = kolada_server.request_count
    second = client_for(kolada_server, tmp_path)
    b = second.values(["N01951", "N00097"], years=YEARS)
    assert second.stats.requests == 0
    assert kolada_server.request_count == served_before
    assert second.stats.cache_hits == first.stats.requests
    pd.testing.assert_frame_equal(a, b)
    assert second.source["fetched_at"] == first.source["fetched_at"]


def test_refresh_fetches_again(kolada_server, tmp_path):
    client_for(kolada_server, tmp_path).values("N01951", "0180", YEARS)
    again = client_for(kolada_server, tmp_path, refresh=True)
    again.values("N01951", "0180", YEARS)
    assert again.stats.requests == 1 and again.stats.cache_hits == 0


def test_offline_uses_cache_and_names_what_is_missing(kolada_server, tmp_path):
    client_for(kolada_server, tmp_path).values("N01951", "0180", 2022)
    offline = client_for(kolada_server, tmp_path, offline=True)
    assert offline.values("N01951", "0180", 2022).value.notna().all()
    with pytest.raises(KoladaCacheMiss) as err:
        offline.values("N00097", "0180", 2022)
    assert err.value.missing == ["/data/kpi/N00097/municipality/0180/year/2022?per_page=5000"]
    assert "without --offline" in str(err.value)


def test_retries_under_injected_faults_give_identical_data(
    make_kolada_server, tmp_path, kolada_server
):
    clean = client_for(kolada_server, tmp_path / "clean").values(["N01951", "U15401"], years=YEARS)
    faulty = make_kolada_server(
        error_rate=0.2, drop_rate=0.1, truncate_rate=0.1, rate_limit_rate=0.1, retry_after=0, seed=3
    )
    client = client_for(faulty, tmp_path / "faulty", retries=8)
    got = client.values(["N01951", "U15401"], years=YEARS)
    pd.testing.assert_frame_equal(got, clean)
    assert faulty.request_count > client.stats.requests - 1


def test_429_honours_retry_after(make_kolada_server, tmp_path):
    server = make_kolada_server(rate_limit_rate=0.5, retry_after=1, seed=1)
    client = client_for(server, tmp_path, retries=10)
    started = time.monotonic()
    for year in range(2015, 2023):
        client.values("N01951", "0180", year)
    limited = server.injected["rate_limit"]
    assert limited, "the seed should have produced at least one 429"
    assert time.monotonic() - started >= limited * 0.9


def test_persistent_500_gives_clear_error(make_kolada_server, tmp_path):
    server = make_kolada_server(error_rate=1.0)
    client = client_for(server, tmp_path, retries=2)
    with pytest.raises(KoladaHTTPError) as err:
        client.values("N01951", "0180", 2022)
    assert err.value.status == 500
    assert "retries" in str(err.value) and "serve-replay" in str(err.value)


def test_truncated_bodies_are_refetched_then_reported(make_kolada_server, tmp_path):
    server = make_kolada_server(truncate_rate=1.0)
    client = client_for(server, tmp_path, retries=3)
    with pytest.raises(KoladaBadResponse, match="not complete JSON"):
        client.values("N01951", "0180", 2022)
    assert not list((tmp_path / "raw").rglob("*.json")), "nothing broken may be cached"


def test_unreachable_api_explains_the_snapshot(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = KoladaClient(
        f"http://127.0.0.1:{port}/v3", cache_dir=tmp_path, retries=1, backoff_factor=0.01
    )
    with pytest.raises(KoladaUnreachable) as err:
        client.kpis("N01951")
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message
    assert "serve-replay" in message and "KOLADA_BASE_URL" in message


def test_too_many_ids_gives_422_with_cause(kolada_server, tmp_path, kpi_ids):
    client = client_for(kolada_server, tmp_path)
    path = "/data/kpi/" + ",".join(kpi_ids[:26]) + "/year/2022?per_page=5000"
    with pytest.raises(KoladaHTTPError) as err:
        client._fetch_chains([path])
    assert err.value.status == 422
    assert "at most 25 ids" in str(err.value)


def test_v2_deprecation_body_is_recognised(kolada_server, tmp_path):
    v2 = kolada_server.base_url.replace("/v3", "/v2")
    client = KoladaClient(v2, cache_dir=tmp_path, retries=1)
    with pytest.raises(KoladaDeprecated, match="KOLADA_BASE_URL"):
        client.kpis("N01951")


def test_values_needs_two_parts(kolada_server, tmp_path):
    with pytest.raises(ValueError, match="two of kpi, municipality and year"):
        client_for(kolada_server, tmp_path).values("N01951")


def test_cache_writes_are_atomic(tmp_path, monkeypatch):
    cache = RawCache(tmp_path)
    cache.put("/kpi?per_page=5000", b'{"values": []}', {"url": "x"})

    def crash(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.put("/kpi?per_page=5000", b'{"values": [1]}', {"url": "x"})
    monkeypatch.undo()
    assert cache.get("/kpi?per_page=5000") == b'{"values": []}'
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_concurrent_writers_never_leave_a_broken_file(tmp_path):
    cache = RawCache(tmp_path)
    bodies = [(b'{"values": [%d]}' % i) * 2000 for i in range(8)]
    threads = [threading.Thread(target=cache.put, args=("/same", body, {})) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("/same") in bodies


def test_source_names_the_recorded_snapshot_vintage(kolada_server, tmp_path):
    client = client_for(kolada_server, tmp_path)
    client.values("N01951", "0180", 2022)
    vintage = client.source["snapshot_vintage"]
    stated = json.loads(vintage)  # ../shared/kolada/snapshot.json, as the replay sends it
    assert stated["values"]["file"] == "values.csv.gz" and stated["values"]["recorded"] == "2024-08"
    cached = client_for(kolada_server, tmp_path, offline=True)
    cached.values("N01951", "0180", 2022)
    assert cached.source["snapshot_vintage"] == vintage
