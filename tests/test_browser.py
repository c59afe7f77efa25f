"""An exported HTML report opened in headless Chromium (DevTools protocol over websocket-client):
figures render, no console errors, no request leaves the file."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from fixtures.fixture_report import fixture_settings, fixture_variant

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--remote-debugging-port=0", "--window-size=1200,1600"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: run "
                       "scripts/install-system-deps.sh (Debian package chromium)"),
]


class DevTools:
    """A minimal Chrome DevTools protocol session on one page."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return
        raise TimeoutError(method)


@pytest.fixture
def browser(tmp_path):
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                                "about:blank"], stderr=subprocess.PIPE, text=True)
    port = None
    deadline = time.monotonic() + 60
    while port is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if match:
            port = int(match.group(1))
        elif not line and process.poll() is not None:
            break
    if port is None:
        process.kill()
        pytest.fail("chromium did not start its DevTools endpoint")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield tools
        tools.ws.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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

    for domain in ("Page", "Network", "Runtime", "Log"):
        browser.send(f"{domain}.enable")
    browser.send("Page.navigate", url=exported_html.as_uri())
    browser.wait_for("Page.loadEventFired")
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
