"""The Eurostat client: JSON-stat parsing, and the real client against the local replay server."""

from __future__ import annotations

import gzip
import json
import time

import pandas as pd
import pytest
from conftest import require_shared

from helpers import paths
from helpers.sources.errors import SourceConfigError
from helpers.sources.eurostat import (
    EurostatBadResponse,
    EurostatCacheMiss,
    EurostatClient,
    EurostatHTTPError,
    EurostatTimeout,
    jsonstat_frame,
)

DEBT = {"na_item": "GD", "unit": "PC_GDP", "geo": "SE", "sector": ["S13", "S1311", "S1313"]}


def client_for(server, tmp_path, **kwargs) -> EurostatClient:
    kwargs.setdefault("backoff_factor", 0.01)
    return EurostatClient(server.eurostat_base_url, cache_dir=tmp_path / "raw", **kwargs)


def recorded_cells(geo: str, na_item: str, unit: str) -> dict[tuple[str, int], float]:
    """Every non-':' cell of the bulk TSV for one geo, read here independently of the replay."""
    with gzip.open(paths.EUROSTAT_RECORDING_DIR / "gov_10dd_edpt1.tsv.gz", "rt") as handle:
        header, *lines = handle.read().splitlines()
    years = [int(y) for y in header.split("\t")[1:]]
    cells = {}
    for line in lines:
        key, *row = line.split("\t")
        _freq, u, sector, item, g = key.split(",")
        if (g, item, u) != (geo, na_item, unit):
            continue
        for year, cell in zip(years, row, strict=True):
            number = cell.strip().split(" ")[0]
            if number != ":":
                cells[(sector, year)] = float(number)
    return cells


# --- JSON-stat 2.0 -----------------------------------------------------------------------------


def _dataset(value, status=None):
    body = {"version": "2.0", "class": "dataset", "updated": "2026-04-22T11:00:00+0200",
            "id": ["geo", "sector", "time"], "size": [2, 2, 3],
            "dimension": {
                "geo": {"category": {"index": {"SE": 0, "DK": 1}}},
                "sector": {"category": {"index": ["S13", "S1313"]}},
                "time": {"category": {"index": {"2022": 0, "2023": 1, "2024": 2}}}},
            "value": value}
    if status is not None:
        body["status"] = status
    return body


def test_sparse_value_object_is_row_major_and_absent_cells_stay_absent():
    # position = ((geo * 2) + sector) * 3 + time: 0 SE/S13/2022, 5 SE/S1313/2024, 7 DK/S13/2023
    frame = jsonstat_frame(_dataset({"0": 1.5, "5": 2.5, "7": 3.5}, {"5": "p"}), "x")
    rows = set(frame[["geo", "sector", "year", "value", "flag"]].itertuples(index=False))
    assert rows == {("SE", "S13", 2022, 1.5, ""), ("SE", "S1313", 2024, 2.5, "p"),
                    ("DK", "S13", 2023, 3.5, "")}
    assert frame.attrs["updated"] == "2026-04-22T11:00:00+0200"
    assert list(frame.columns) == ["dataset", "geo", "sector", "year", "value", "flag"]


def test_dense_value_list_with_nulls_gives_the_same_rows():
    dense = [None] * 12
    dense[0], dense[5], dense[7] = 1.5, 2.5, 3.5
    sparse = jsonstat_frame(_dataset({"0": 1.5, "5": 2.5, "7": 3.5}), "x")
    assert jsonstat_frame(_dataset(dense), "x").equals(sparse)


def test_a_position_outside_the_cube_is_a_bad_response():
    with pytest.raises(EurostatBadResponse, match="outside the 12 cells"):
        jsonstat_frame(_dataset({"12": 1.0}), "x")


def test_the_recorded_live_answer_parses():
    require_shared("eurostat/example_response_gov_10dd_edpt1_ES.json")
    payload = json.loads((paths.EUROSTAT_RECORDING_DIR
                          / "example_response_gov_10dd_edpt1_ES.json").read_text())
    frame = jsonstat_frame(payload, "gov_10dd_edpt1")
    assert list(frame.columns) == ["dataset", "geo", "sector", "na_item", "unit", "year",
                                   "value", "flag"]
    assert len(frame) == 31 and frame["year"].tolist() == list(range(1995, 2026))
    assert frame.iloc[0]["value"] == 61.6 and frame.iloc[-1]["value"] == 100.7
    assert set(frame["geo"]) == {"ES"} and frame.attrs["updated"].startswith("2026-04-22")


# --- the client against the replay -------------------------------------------------------------


def test_se_debt_matches_the_recording_cell_for_cell(eurostat_server, tmp_path):
    frame = client_for(eurostat_server, tmp_path).data("gov_10dd_edpt1", DEBT)
    got = {(r.sector, int(r.year)): r.value for r in frame.itertuples()}
    expected = {key: value for key, value in recorded_cells("SE", "GD", "PC_GDP").items()
                if key[0] in DEBT["sector"]}
    assert got == expected
    assert got[("S13", 2024)] == 34.0 and got[("S1311", 2024)] == 20.2
    assert got[("S1313", 2024)] == 14.3
    years = frame.groupby("sector")["year"].agg(lambda y: sorted(int(v) for v in y))
    assert years["S13"] == list(range(1995, 2025))
    assert years["S1311"] == years["S1313"] == [2021, 2022, 2023, 2024]  # absent stay absent
    assert set(frame["dataset"]) == {"gov_10dd_edpt1"} and (frame["flag"] == "").all()


def test_replay_answers_in_the_live_api_shape(eurostat_server):
    import requests

    example = json.loads((paths.EUROSTAT_RECORDING_DIR
                          / "example_response_gov_10dd_edpt1_ES.json").read_text())
    url = (f"{eurostat_server.eurostat_base_url}/statistics/1.0/data/gov_10dd_edpt1?geo=ES&"
           "sector=S13&na_item=GD&unit=PC_GDP&lang=en")
    replay = requests.get(url, timeout=10).json()
    assert replay["id"] == example["id"] and replay["class"] == "dataset"
    assert replay["size"][:-1] == example["size"][:-1]
    for dim in example["id"]:
        assert set(replay["dimension"][dim]["category"]) >= {"index", "label"}
    common = [y for y in replay["dimension"]["time"]["category"]["index"]
              if y in example["dimension"]["time"]["category"]["index"]]
    assert common[0] == "1995" and common[-1] == "2024"


def test_warm_run_makes_no_request_and_offline_names_what_is_missing(eurostat_server, tmp_path):
    first = client_for(eurostat_server, tmp_path)
    cold = first.data("gov_10dd_edpt1", DEBT)
    assert first.stats.requests == 1
    warm_client = client_for(eurostat_server, tmp_path)
    before = eurostat_server.request_count
    warm = warm_client.data("gov_10dd_edpt1", DEBT)
    assert warm_client.stats.requests == 0 and warm_client.stats.cache_hits == 1
    assert eurostat_server.request_count == before
    pd.testing.assert_frame_equal(cold, warm)
    assert json.loads(warm_client.source["snapshot_vintage"])["file"] == "gov_10dd_edpt1.tsv.gz"
    offline = client_for(eurostat_server, tmp_path, offline=True)
    with pytest.raises(EurostatCacheMiss, match="without --offline"):
        offline.data("gov_10dd_edpt1", {**DEBT, "geo": "DK"})


def test_503_then_200_is_retried(make_eurostat_server, tmp_path):
    server = make_eurostat_server(fail_first=1, error_status=503)
    frame = client_for(server, tmp_path).data("gov_10dd_edpt1", DEBT)
    assert server.request_count == 2 and server.injected["error"] == 1
    assert len(frame) == 38


def test_truncated_body_gives_the_clear_error_and_caches_nothing(make_eurostat_server, tmp_path):
    server = make_eurostat_server(truncate_rate=1.0)
    with pytest.raises(EurostatBadResponse, match="not complete JSON") as err:
        client_for(server, tmp_path, retries=3).data("gov_10dd_edpt1", DEBT)
    assert "serve-replay" in str(err.value)
    assert not list((tmp_path / "raw").rglob("*.json"))


def test_unknown_dataset_and_codes_are_named(eurostat_server, tmp_path):
    client = client_for(eurostat_server, tmp_path)
    with pytest.raises(EurostatHTTPError) as err:
        client.data("gov_10dd_nosuch", DEBT)
    assert err.value.status == 404 and "no dataset 'gov_10dd_nosuch'" in str(err.value)
    with pytest.raises(EurostatHTTPError) as err:
        client.data("gov_10dd_edpt1", {**DEBT, "geo": "XX"})
    assert err.value.status == 400 and "no data" in str(err.value)


def test_bad_eurostat_base_url_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("EUROSTAT_BASE_URL", "not-a-url")
    with pytest.raises(SourceConfigError, match="EUROSTAT_BASE_URL"):
        EurostatClient(cache_dir=tmp_path)
    monkeypatch.setenv("EUROSTAT_BASE_URL", "ftp://ec.europa.eu/eurostat")
    with pytest.raises(SourceConfigError, match="scheme 'ftp'"):
        EurostatClient(cache_dir=tmp_path)


def test_a_server_that_never_answers_is_bounded(tmp_path):
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        client = EurostatClient(f"http://127.0.0.1:{listener.getsockname()[1]}/eurostat",
                                cache_dir=tmp_path, total_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(EurostatTimeout, match="did not answer in 1 s"):
            client.data("gov_10dd_edpt1", DEBT)
        assert time.monotonic() - started < 3
