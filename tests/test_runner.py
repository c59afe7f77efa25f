"""helpers.build.runner: staging, atomic publish, failing cells, reproducibility, early errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.fixture_report import fixture_settings, fixture_variant

from helpers import datasets
from helpers.build import digests, kernel, publish, runner
from helpers.build.manifest import sha256_file
from helpers.build.variant import RunSettings, Variant, VariantFailed, normalize_formats


def test_normalize_formats():
    assert normalize_formats("pdf,html") == ("html", "pdf")
    assert normalize_formats(["HTML"]) == ("html",)
    with pytest.raises(ValueError, match="docx"):
        normalize_formats("html,docx")


def test_publish_swaps_folders_and_leaves_nothing_behind(tmp_path):
    target, staging = tmp_path / "v", tmp_path / "staging"
    staging.mkdir()
    (staging / "a.html").write_text("new")
    publish.publish(staging, target, tmp_path)
    assert (target / "a.html").read_text() == "new" and not staging.exists()
    staging.mkdir()
    (staging / "a.html").write_text("newer")
    publish.publish(staging, target, tmp_path)
    assert (target / "a.html").read_text() == "newer" and not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", "v"]


@pytest.mark.slow
def test_run_builds_then_a_failing_cell_publishes_nothing(tmp_path):
    settings = fixture_settings(tmp_path)
    good = fixture_variant(settings, tmp_path)
    result = runner.run_variant(good, settings=settings,
                                formats=("html",))
    out = settings.reports_dir / "fixture"
    assert result.status == "ok" and result.out_dir == out
    html = out / "fixture_report.html"
    assert html.is_file() and (out / "fixture_report.ipynb").is_file()
    assert (out / "tables" / "figur1.csv").is_file() and (out / "figures" / "figur1.png").is_file()
    before = {p.name: sha256_file(p) for p in out.iterdir() if p.is_file()}

    bad = fixture_variant(settings, tmp_path, fail_at="berakning")
    with pytest.raises(VariantFailed) as caught:
        runner.run_variant(bad, settings=settings, formats=("html",))
    message = str(caught.value)
    assert "tag berakning" in message and "if fail_at == \"berakning\":" in message
    assert "ValueError: avsiktligt fel i testnotebooken" in message
    assert caught.value.cell_tags == ["berakning"] and caught.value.ename == "ValueError"
    # the previous good output is untouched, no papermill error banner reached a report
    assert {p.name: sha256_file(p) for p in out.iterdir() if p.is_file()} == before
    assert "papermill-error" not in html.read_text(encoding="utf-8")
    assert not any((settings.reports_dir / ".staging").iterdir())
    status = json.loads((settings.reports_dir / ".status" / "fixture.json").read_text())
    assert status["status"] == "failed" and "berakning" in status["error"]
    index = (settings.reports_dir / "index.html").read_text(encoding="utf-8")
    # the fixture's parameter file is no file of params/: named in the index's note only
    assert "fixture (den förra versionen finns kvar)" in index
    assert 'href="fixture/fixture_report.html"' not in index


@pytest.mark.slow
def test_same_variant_twice_gives_byte_identical_html_and_pdf(tmp_path):
    settings = fixture_settings(tmp_path)
    variant = fixture_variant(settings, tmp_path, kommun="0114")
    out = settings.reports_dir / "fixture-0114"
    runner.run_variant(variant, settings=settings)
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    runner.run_variant(variant, settings=settings)
    second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    for runs in (first, second):  # the code hash moves when anyone edits src/helpers meanwhile
        manifest = json.loads(runs[Path("manifest.json")])
        manifest.pop("inputs_sha256")
        runs[Path("manifest.json")] = json.dumps(manifest).encode()
    differing = [str(name) for name in first if first[name] != second[name]]
    assert differing == []
    names = {str(p) for p in first}
    assert {"fixture_report.html", "fixture_report.pdf", "manifest.json"} <= names


@pytest.mark.slow
def test_a_warm_kernel_does_not_carry_state_between_variants(tmp_path):
    from helpers.rendering.export import Exporter

    settings = fixture_settings(tmp_path)
    with kernel.KernelSession(settings.kernel_name) as session:
        for kommun in ("2463", None):
            variant = fixture_variant(settings, tmp_path, kommun=kommun)
            runner.build_variant(variant, ("html",), session=session, exporter=Exporter(),
                                 settings=settings)
    national = (settings.reports_dir / "fixture" / "tables" / "figur1.csv").read_text()
    kommun = (settings.reports_dir / "fixture-2463" / "tables" / "figur1.csv").read_text()
    assert "kommun 2463" in kommun and "kommun" not in national


@pytest.mark.slow
def test_bad_parameters_fail_before_any_notebook_starts(tmp_path, kolada_server, monkeypatch):
    from helpers.build.parameters import read_params
    from helpers.params import ParamsError
    from helpers.sources.kolada import KoladaClient

    settings = fixture_settings(tmp_path)
    started = []
    monkeypatch.setattr(kernel.KernelSession, "start", lambda self: started.append(self))
    client = KoladaClient(base_url=kolada_server.base_url, cache_dir=tmp_path / "raw")
    path = tmp_path / "bad.yaml"
    path.write_text("report: fixture_report\nkommun: '9999'\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="9999"):
        runner.prepare_variant(read_params(path), client=client, settings=settings)
    path.write_text("report: fixture_report\nfärg: blå\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="färg"):
        read_params(path)
    assert started == []
    assert not (settings.reports_dir / "bad").exists()


def test_title_block_of_every_report_says_what_it_is_built_from(tmp_path):
    from helpers.build.parameters import validate_params

    source = {"fetched_at": "2024-08-23T10:00:00+00:00", "snapshot": True,
              "snapshot_vintage": "values.csv.gz scraped from the Kolada API, August 2024"}
    settings = RunSettings(reports_dir=tmp_path, processed_dir=tmp_path)
    kolada = "inspelad ögonblicksbild av Kolada (värden från augusti 2024), läst 23 augusti 2024"
    expected = {
        "budget": ("Budgettabeller", "SKR:s budget 2023–2024 och medlemsavgifter · "
                   "befolkning 2022", "Underlag: SKR:s resultaträkning"),
        "valfard_i_hela_landet": ("Välfärd i hela landet", "Hela landet · data för 2022",
                                  f"Data: {kolada}"),
        "agenda2030": ("Agenda 2030: lokala nyckeltal", "Hela landet · data för 2022",
                       f"Data: {kolada}; målen ur projektets målkarta"),
    }
    for report, (title, subtitle, dateline) in expected.items():
        params = validate_params({"report": report, "medlemsavgift_skanes_kr_per_invanare": None}
                                 if report == "budget" else {"report": report})
        variant = Variant(report, params, tmp_path / "p.yaml", tmp_path / "n.ipynb",
                                 2022, ["N01951"], source)
        info = runner.variant_info(variant, {}, settings)
        assert (info.title, info.subtitle) == (title, subtitle)
        assert info.dateline.startswith(dateline)
        assert kolada in info.dateline


@pytest.mark.slow
def test_a_pdf_that_cannot_be_built_names_variant_and_cause_and_publishes_nothing(tmp_path):
    settings = fixture_settings(tmp_path)
    good = fixture_variant(settings, tmp_path)
    runner.run_variant(good, settings=settings, formats=("html",))
    out = settings.reports_dir / "fixture"
    before = {p.name: sha256_file(p) for p in out.iterdir() if p.is_file()}
    bad = fixture_variant(settings, tmp_path, fail_at="bild")
    with pytest.raises(VariantFailed) as caught:
        runner.run_variant(bad, settings=settings,
                           formats=("html", "pdf"))
    message = str(caught.value)
    assert message.startswith("fixture: exporting fixture_report.ipynb failed")
    assert "Figur 2" in message and "decode" in message  # the element and the cause
    assert {p.name: sha256_file(p) for p in out.iterdir() if p.is_file()} == before
    assert not (out / "fixture_report.pdf").exists()
    assert not any((settings.reports_dir / ".staging").iterdir())
    status = json.loads((settings.reports_dir / ".status" / "fixture.json").read_text())
    assert "Figur 2" in status["error"]


@pytest.mark.slow
def test_a_pdf_run_keeps_the_html_of_an_earlier_run_and_the_manifest_lists_both(tmp_path):
    settings = fixture_settings(tmp_path)
    variant = fixture_variant(settings, tmp_path, kommun="2463")
    out = settings.reports_dir / "fixture-2463"
    runner.run_variant(variant, settings=settings,
                       formats=("html",))
    html = (out / "fixture_report.html").read_bytes()
    runner.run_variant(variant, settings=settings,
                       formats=("pdf",))
    assert (out / "fixture_report.html").read_bytes() == html  # not removed by the PDF run
    assert (out / "fixture_report.pdf").read_bytes().startswith(b"%PDF")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"fixture_report.html", "fixture_report.pdf"} <= set(manifest["outputs"])
    inputs = manifest["inputs_sha256"]
    assert manifest["built_from"] == {"fixture_report.html": inputs,
                                      "fixture_report.pdf": inputs}
    assert digests.is_up_to_date(out, inputs, ("html", "pdf"), "fixture_report")
    # an HTML kept from a run on other inputs is not up to date for those new inputs
    manifest["built_from"]["fixture_report.html"] = "older"
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert digests.is_up_to_date(out, inputs, ("pdf",), "fixture_report")
    assert not digests.is_up_to_date(out, inputs, ("html",), "fixture_report")


def test_title_block_names_a_region_from_the_reports_metadata(tmp_path):
    """A region is not in the kommun table: its name comes from the Agenda 2030 metadata."""
    import pandas as pd

    from helpers.build.parameters import validate_params

    settings = RunSettings(reports_dir=tmp_path, processed_dir=tmp_path)
    params = validate_params({"report": "agenda2030", "level": "region", "kommun": "0012"})
    assert datasets.place_of(params, tmp_path, 2022) == "0012"  # no name known yet
    (tmp_path / "agenda2030").mkdir()
    pd.DataFrame({"id": ["0012", "0001"], "title": ["Region Skåne", "Region Stockholm"],
                  "type": ["L", "L"]}).to_parquet(tmp_path / "agenda2030" / "region_units.parquet")
    variant = Variant("agenda2030_region", params, tmp_path / "p.yaml", tmp_path / "n.ipynb",
                      2022, ["N01951"], {"snapshot": True},
                      place=datasets.place_of(params, tmp_path, 2022))
    info = runner.variant_info(variant, {}, settings)
    assert info.subtitle.startswith("Region Skåne (0012) · ")
