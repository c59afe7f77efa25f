"""helpers.build.batch: which kommuner, parallel builds on warm workers, skipping, failures."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from fixtures.fixture_report import fixture_settings, fixture_variant

from helpers import cli
from helpers.build import batch, options
from helpers.build.variant import RunSettings, Variant, VariantResult
from helpers.params import ParamsError
from helpers.sources import live


@dataclass
class _Catalogue:
    kommuner: dict
    regions: dict
    kpis: dict


CATALOGUE = _Catalogue(
    kommuner={"0114": "Upplands Väsby", "1280": "Malmö", "1283": "Helsingborg",
              "2463": "Åsele"},
    regions={"0000": "Riket", "0012": "Region Skåne"}, kpis={})


def test_resolve_kommuner_all_lan_and_lists():
    assert options.resolve_kommuner("all", CATALOGUE) == ["0114", "1280", "1283", "2463"]
    assert options.resolve_kommuner("lan:12", CATALOGUE) == ["1280", "1283"]
    assert options.resolve_kommuner("114, Åsele,0114", CATALOGUE) == ["0114", "2463"]
    assert options.resolve_kommuner(["1280"], CATALOGUE) == ["1280"]
    with pytest.raises(ParamsError, match="län '99'"):
        options.resolve_kommuner("lan:99", CATALOGUE)
    with pytest.raises(ParamsError, match="9999"):
        options.resolve_kommuner("9999", CATALOGUE)


@pytest.mark.slow
def test_batch_builds_in_parallel_keeps_going_and_skips_unchanged(tmp_path):
    settings = fixture_settings(tmp_path)
    variants = [fixture_variant(settings, tmp_path, kommun=k) for k in ("0114", "1280", "2463")]
    failing = fixture_variant(settings, tmp_path, fail_at="berakning")
    result = batch.build_many([*variants, failing], ("html",), jobs=2, settings=settings,
                             progress=False)
    assert sorted(r.variant for r in result.ok) == ["fixture-0114", "fixture-1280",
                                                    "fixture-2463"]
    assert list(result.failed) == ["fixture"]
    assert "tag berakning" in result.failed["fixture"]
    for name in ("fixture-0114", "fixture-1280", "fixture-2463"):
        assert (settings.reports_dir / name / "fixture_report.html").is_file()
        assert not (settings.reports_dir / name / "fixture_report.pdf").exists()
    assert not (settings.reports_dir / "fixture").exists()
    index = (settings.reports_dir / "index.html").read_text(encoding="utf-8")
    assert "fixture-2463" in index and "misslyckades" in index

    started = time.perf_counter()
    again = batch.build_many([*variants, failing], ("html",), jobs=2, settings=settings,
                             progress=False)
    assert sorted(r.variant for r in again.skipped) == ["fixture-0114", "fixture-1280",
                                                        "fixture-2463"]
    assert list(again.failed) == ["fixture"]  # a failed variant is tried again
    assert len(again.ok) == 0

    # asking for a format that is not there yet rebuilds; a changed parameter rebuilds
    changed = fixture_variant(settings, tmp_path, kommun="0114", title_text="Annan titel")
    third = batch.build_many([changed, variants[1]], ("html",), jobs=1, settings=settings,
                             progress=False)
    assert [r.variant for r in third.ok] == ["fixture-0114"]
    assert [r.variant for r in third.skipped] == ["fixture-1280"]
    assert time.perf_counter() - started < 120


def test_cli_batch_exits_non_zero_listing_failures(monkeypatch, tmp_path):
    def fake_run_batch(*args, **kwargs):
        result = batch.BatchResult(seconds=1.0)
        result.results = [VariantResult("valfard-0114", "ok", None),
                          VariantResult("valfard-2463", "failed", None,
                                        error="cell 5 (tag figur1): ValueError: x")]
        return result

    monkeypatch.setattr(batch, "run_batch", fake_run_batch)
    params = tmp_path / "valfard.yaml"
    params.write_text("report: valfard_i_hela_landet\n", encoding="utf-8")
    outcome = CliRunner().invoke(cli.main, ["batch", str(params), "--kommuner", "0114,2463"])
    assert outcome.exit_code == cli.EXIT_BUILD
    assert "2 variants: 1 built, 0 up to date, 1 failed" in outcome.output
    assert "valfard-2463: cell 5 (tag figur1): ValueError: x" in outcome.output


@pytest.mark.parametrize(("status", "body", "reason"), [
    (200, b'{"values": [], "count": 0}', None),
    (503, b"busy", "HTTP 503"),
    (200, b"<html>proxy login</html>", "the answer is not JSON"),
    (200, b'{"error": "This API version is deprecated"}', "not a Kolada v3 envelope"),
])
def test_kolada_reachable_names_the_problem(status, body, reason):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found = live.kolada_reachable(f"http://127.0.0.1:{server.server_port}/v3", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert found == reason if reason is None or reason.startswith("HTTP") else reason in found


def test_kolada_unreachable_names_the_refused_connection():
    assert live.kolada_reachable("http://127.0.0.1:9/v3", timeout=1) == \
        "[Errno 111] Connection refused"


@pytest.mark.slow
def test_kolada_falls_back_to_the_snapshot(kolada_server):
    dead = "http://127.0.0.1:9/v3"
    with live.data_clients(dead, check_eurostat=False) as clients:
        assert clients.recorded == ["Kolada"]
        client = clients.kolada
        assert client.base_url.startswith("http://127.0.0.1:") and client.base_url.endswith("/v3")
        assert client.identity == kolada_server.identity
        assert not client.municipalities(ids=["0114"]).empty
        assert "cannot be reached" in clients.lines()[0] and dead in clients.lines()[0]
    with live.data_clients(kolada_server.base_url, check_eurostat=False) as clients:
        assert clients.recorded == [] and clients.kolada.base_url == kolada_server.base_url
        # a replay server on any port is the recording it serves, not an address
        assert clients.kolada.identity == kolada_server.identity


def test_data_clients_replace_each_unreachable_source_by_its_recording(kolada_server):
    dead_kolada, dead_eurostat = "http://127.0.0.1:9/v3", "http://127.0.0.1:9/eurostat"
    with live.data_clients(dead_kolada, dead_eurostat) as clients:
        kolada, eurostat = clients.kolada, clients.eurostat
        assert clients.recorded == ["Kolada", "Eurostat"]
        assert kolada.base_url.endswith("/v3") and kolada.base_url != dead_kolada
        assert eurostat.base_url.endswith("/eurostat/api/dissemination")
        frame = eurostat.data("gov_10dd_edpt1", {"geo": "SE", "sector": "S1313",
                                                 "na_item": "GD", "unit": "PC_GDP"})
        assert frame.set_index("year")["value"][2024] == 14.3
        assert not kolada.municipalities(ids=["0114"]).empty
    with live.data_clients(kolada_server.base_url, dead_eurostat) as clients:
        assert clients.recorded == ["Eurostat"]
        assert clients.kolada.base_url == kolada_server.base_url
        assert clients.eurostat.source["base_url"].startswith("http://127.0.0.1:")
        assert clients.eurostat.base_url != dead_eurostat
    with live.data_clients(kolada_server.base_url, kolada_server.eurostat_base_url) as clients:
        assert clients.recorded == []
        assert clients.eurostat.base_url == kolada_server.eurostat_base_url


def test_report_on_the_eurostat_recording_says_so_in_swedish(tmp_path):
    from helpers.build import runner
    from helpers.build.parameters import validate_params

    source = {"fetched_at": "2024-08-23T10:00:00+00:00", "live_api": True,
              "eurostat": {"snapshot": True, "datasets": ["gov_10dd_edpt1"],
                           "fetched_at": "2026-11-30T05:00:00+00:00",
                           "snapshot_vintage": '{"dataset":"gov_10dd_edpt1","file":'
                                               '"gov_10dd_edpt1.tsv.gz","years":[1995,2024],'
                                               '"release_date":null}'}}
    params = validate_params({"report": "valfard_i_hela_landet"})
    variant = Variant("valfard", params, tmp_path / "p.yaml", tmp_path / "n.ipynb", 2022,
                             ["N01951"], source, eurostat=["gov_10dd_edpt1"])
    settings = RunSettings(reports_dir=tmp_path, processed_dir=tmp_path)
    info = runner.variant_info(variant, {}, settings)
    rows = dict(info.provenance_rows())
    assert rows["Datakälla, tabell 1"] == ("Eurostat (gov_10dd_edpt1), inspelning, uppspelad av "
                                           "en lokal server")
    assert rows["Eurostats dataårgång"].startswith("inspelad kopia av Eurostats fil "
                                                   "gov_10dd_edpt1.tsv.gz, värden 1995–2024")
    assert rows["Källhänvisning"].endswith("Tabell 1: Eurostat (gov_10dd_edpt1).")
    assert rows["Byggs om med"] == "skr-report run p.yaml"  # no local folders in a report
    assert "Tabell 1 bygger på inspelade Eurostat-data" in info.provenance["notice"]
    assert info.dateline.endswith("tabell 1: Eurostat (gov_10dd_edpt1), inspelning")
    live = dict(source, eurostat={"snapshot": False, "datasets": ["gov_10dd_edpt1"],
                                  "base_url": "https://ec.europa.eu/eurostat/api/dissemination",
                                  "updated": "2026-04-22T11:00:00+0200",
                                  "fetched_at": "2026-05-18T08:00:00+00:00"})
    variant.source = live
    info = runner.variant_info(variant, {}, settings)
    rows = dict(info.provenance_rows())
    assert rows["Eurostats dataårgång"] == ("uppdaterad av Eurostat 22 april 2026; hämtad "
                                            "18 maj 2026")
    assert info.provenance["notice"] is None


@pytest.mark.slow
def test_batch_pdfs_after_a_pdf_in_the_same_process_do_not_hang(tmp_path):
    """Typst's worker threads do not survive fork: after a compile here, the batch's workers
    must not be forked from this process (they would wait forever on their first PDF)."""
    import threading

    from helpers.rendering import pdf
    from helpers.rendering.export import Exporter
    from helpers.rendering.provenance import ReportInfo

    Exporter().to_pdf(new_notebook_with_text(), ReportInfo(report="x", variant="x", title="X"))
    assert pdf.typst_used_here()
    settings = fixture_settings(tmp_path)
    variants = [fixture_variant(settings, tmp_path, kommun=k) for k in ("0114", "2463")]
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(result=batch.build_many(
        variants, ("pdf",), jobs=2, settings=settings, progress=False)), daemon=True)
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the batch hangs on its PDFs"
    assert sorted(r.variant for r in outcome["result"].ok) == ["fixture-0114", "fixture-2463"]
    for name in ("fixture-0114", "fixture-2463"):
        assert (settings.reports_dir / name / "fixture_report.pdf").read_bytes()[:4] == b"%PDF"


def new_notebook_with_text():
    from nbformat.v4 import new_markdown_cell, new_notebook

    return new_notebook(cells=[new_markdown_cell("## Rubrik\n\nText.")])
