"""An exported HTML report opened in headless Chromium (DevTools protocol over websocket-client):
figures render, no console errors, no request leaves the file."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from fixtures.chromium import requires_chromium
from fixtures.fixture_report import fixture_settings, fixture_variant

pytestmark = [pytest.mark.slow, pytest.mark.browser, requires_chromium]


@pytest.fixture(scope="module")
def exported_html(tmp_path_factory) -> Path:
    from helpers.build.runner import run_variant

    root = tmp_path_factory.mktemp("browser")
    settings = fixture_settings(root)
    variant = fixture_variant(settings, root, kommun="2463")
    result = run_variant(variant, settings=settings,
                         formats=("html",))
    return result.out_dir / "fixture_report.html"


def test_exported_html_renders_offline_without_errors(browser, exported_html):
    from PIL import Image, ImageStat

    for domain in ("Network", "Runtime", "Log"):
        browser.send(f"{domain}.enable")
    browser.navigate(exported_html.as_uri())
    images = browser.send("Runtime.evaluate", returnByValue=True, expression=(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"))
    shot = browser.send("Page.captureScreenshot", format="png")

    requests = [e["params"]["request"]["url"] for e in browser.events
                if e.get("method") == "Network.requestWillBeSent"]
    leaving = [url for url in requests if not url.startswith(("file://", "data:"))]
    assert leaving == [], f"requests left the file: {leaving}"
    errors = [e for e in browser.events
              if (e.get("method") == "Runtime.consoleAPICalled"
                  and e["params"]["type"] in ("error", "assert"))
              or e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"]["level"] == "error")]
    assert errors == []

    rendered = images["result"]["value"]
    assert len(rendered) == 2
    assert all(complete and width > 0 for complete, width, _alt in rendered)
    assert rendered[0][2].startswith("Stapeldiagram")
    screenshot = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("L")
    assert screenshot.size[0] >= 1000
    assert ImageStat.Stat(screenshot).stddev[0] > 10  # not a blank page
    # the figure itself is drawn: its region of the page has the bars' dark blue pixels
    box = browser.send("Runtime.evaluate", returnByValue=True, expression=(
        "(() => { const r = document.images[0].getBoundingClientRect();"
        " return [r.left, r.top, r.width, r.height]; })()"))["result"]["value"]
    figure = browser.send("Page.captureScreenshot", format="png", clip={
        "x": box[0], "y": box[1], "width": box[2], "height": box[3], "scale": 1})
    pixels = Image.open(io.BytesIO(base64.b64decode(figure["data"]))).convert("RGB")
    colours = pixels.getcolors(maxcolors=1 << 20)
    assert any(abs(r - 0x00) < 30 and abs(g - 0x72) < 30 and abs(b - 0xB2) < 30 and n > 500
               for n, (r, g, b) in colours)
