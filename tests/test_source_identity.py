"""The raw cache is keyed by what a data source is (the live API, or a recording by the content
of its files), not by the address that served it (issue 19)."""

from __future__ import annotations

import gzip
import shutil

import pytest
from conftest import require_shared

from helpers import paths
from helpers.sources import live
from helpers.sources.eurostat import EurostatBadResponse, EurostatClient
from helpers.sources.identity import (
    RECORDING_ID_HEADER,
    identity_from_headers,
    live_identity,
    parse_recording_id,
)
from helpers.sources.kolada import KoladaClient
from helpers.sources.replay.eurostat import recording_folder_identity
from helpers.sources.replay.kolada import snapshot_identity
from helpers.sources.replay.server import ReplayServer

DEBT = {"geo": "SE", "sector": "S13", "na_item": "GD", "unit": "PC_GDP"}


def test_identities_name_the_source_not_the_address():
    assert live_identity("kolada", "https://api.kolada.se/v3").folder == "live/api.kolada.se_v3"
    served = identity_from_headers("kolada", "http://127.0.0.1:8765/v3",
                                   {RECORDING_ID_HEADER: "kolada-0123456789ab"})
    assert served.folder == "recording/kolada-0123456789ab" and served.is_recording
    assert identity_from_headers("kolada", "http://127.0.0.1:8765/v3", {}).folder == \
        "live/127.0.0.1_8765_v3"
    assert parse_recording_id("kolada", "eurostat-0123456789ab") is None
    assert parse_recording_id("kolada", "kolada-../../etc") is None


def test_a_recording_is_known_by_its_content(tmp_path):
    require_shared("eurostat/gov_10dd_edpt1.tsv.gz")
    copy = tmp_path / "eurostat"
    shutil.copytree(paths.EUROSTAT_RECORDING_DIR, copy)
    original = recording_folder_identity(paths.EUROSTAT_RECORDING_DIR)
    assert recording_folder_identity(copy) == original  # another folder, the same data
    with gzip.open(copy / "gov_10dd_edpt1.tsv.gz", "at", encoding="utf-8") as handle:
        handle.write("A,PC_GDP,S13,GD,XX\t1.0 \n")
    assert recording_folder_identity(copy) != original


def test_the_same_recording_on_two_ports_is_cached_once(kolada_server, tmp_path):
    with ReplayServer(paths.SNAPSHOT_DIR) as other:
        assert other.port != kolada_server.port
        clients = []
        for server in (kolada_server, other):
            with live.data_clients(server.base_url, check_eurostat=False) as chosen:
                assert chosen.kolada.identity == snapshot_identity(paths.SNAPSHOT_DIR)
                client = KoladaClient(server.base_url, cache_dir=tmp_path,
                                      identity=chosen.kolada.identity)
                client.values("N01951", ["0180", "2463"], [2021, 2022])
                clients.append(client)
    first, second = clients
    assert first.cache.root == second.cache.root == \
        tmp_path / "recording" / f"kolada-{snapshot_identity(paths.SNAPSHOT_DIR).key}"
    assert first.stats.requests > 0 and second.stats.requests == 0
    assert second.stats.cache_hits == first.stats.requests


def test_offline_reads_what_a_fallback_cached_without_the_network(tmp_path, monkeypatch):
    require_shared("kolada/values.csv.gz", "eurostat/gov_10dd_edpt1.tsv.gz")
    monkeypatch.setattr(paths, "KOLADA_RAW_DIR", tmp_path / "kolada")
    monkeypatch.setattr(paths, "EUROSTAT_RAW_DIR", tmp_path / "eurostat")
    dead = "http://127.0.0.1:9/v3", "http://127.0.0.1:9/eurostat/api/dissemination"
    with live.data_clients(*dead) as fallback:
        assert fallback.recorded == ["Kolada", "Eurostat"]
        fallback.kolada.values("N01951", ["0180"], [2022])
        fallback.eurostat.data("gov_10dd_edpt1", DEBT)
        assert fallback.kolada.stats.requests > 0
    with live.data_clients(*dead, mode="offline") as offline:
        assert [c.reason for c in offline.choices] == ["--offline", "--offline"]
        assert offline.kolada.cache.root == fallback.kolada.cache.root
        assert offline.eurostat.cache.root == fallback.eurostat.cache.root
        offline.kolada.values("N01951", ["0180"], [2022])
        offline.eurostat.data("gov_10dd_edpt1", DEBT)
        assert offline.kolada.stats.requests == offline.eurostat.stats.requests == 0


def test_live_only_refuses_the_recording_naming_the_variable():
    with pytest.raises(live.KoladaUnreachable, match="KOLADA_BASE_URL") as err, \
            live.data_clients("http://127.0.0.1:9/v3", mode="live", check_eurostat=False):
        pass
    assert "--live-only forbids its recording" in str(err.value)


def test_a_server_now_replaying_another_recording_is_not_cached(tmp_path):
    require_shared("eurostat/gov_10dd_edpt1.tsv.gz")
    copy = tmp_path / "other"
    shutil.copytree(paths.EUROSTAT_RECORDING_DIR, copy)
    with gzip.open(copy / "gov_10dd_edpt1.tsv.gz", "at", encoding="utf-8") as handle:
        handle.write("A,PC_GDP,S13,GD,XX\t1.0 \n")
    with ReplayServer(None, eurostat_dir=copy) as server:
        client = EurostatClient(server.eurostat_base_url, cache_dir=tmp_path / "raw",
                                identity=recording_folder_identity(paths.EUROSTAT_RECORDING_DIR))
        with pytest.raises(EurostatBadResponse, match="not from recording/eurostat-"):
            client.data("gov_10dd_edpt1", DEBT)
    assert not list((tmp_path / "raw").rglob("*.json"))
