"""The shared HTTP machinery: base-URL checks and the bound on the whole wait, over real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from helpers.cli import EXIT_SOURCE, main
from helpers.sources.deadline import total_timeout_from_env
from helpers.sources.errors import SourceConfigError, SourceTimeout, check_base_url
from helpers.sources.kolada import KoladaClient, KoladaHTTPError, KoladaTimeout


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts every connection and never sends a byte; yields its v3 URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v3"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.parametrize("value, words", [
    ("not-a-url", "has no http(s):// scheme"),
    ("ftp://api.kolada.se/v3", "uses the scheme 'ftp'"),
    ("http:///v3", "names no host"),
    ("http://127.0.0.1:port/v3", "invalid port"),
])
def test_bad_base_urls_are_refused_naming_the_variable(value, words):
    with pytest.raises(SourceConfigError) as err:
        check_base_url(value, "KOLADA_BASE_URL", "https://api.kolada.se/v3")
    message = str(err.value)
    assert words in message and "KOLADA_BASE_URL" in message
    assert "https://api.kolada.se/v3" in message  # the expected form


def test_client_reads_and_checks_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KOLADA_BASE_URL", "ftp://example.org/v3")
    with pytest.raises(SourceConfigError, match=r"KOLADA_BASE_URL='ftp://example\.org/v3'"):
        KoladaClient(cache_dir=tmp_path)
    monkeypatch.setenv("KOLADA_BASE_URL", "http://127.0.0.1:1/v3/")
    assert KoladaClient(cache_dir=tmp_path).base_url == "http://127.0.0.1:1/v3"


@pytest.mark.parametrize("command", [["fetch", "params/valfard.yaml"],
                                     ["run", "params/valfard.yaml", "--format", "html"],
                                     ["report-all", "--format", "html"]])
@pytest.mark.parametrize("value", ["not-a-url", "ftp://api.kolada.se/v3"])
def test_cli_names_a_bad_kolada_base_url_without_traceback(monkeypatch, tmp_path, command, value):
    monkeypatch.setenv("KOLADA_BASE_URL", value)
    monkeypatch.setenv("SKR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SKR_REPORTS_DIR", str(tmp_path / "reports"))
    result = CliRunner().invoke(main, command)
    assert result.exit_code == EXIT_SOURCE, result.output
    assert "KOLADA_BASE_URL" in result.output and "http://" in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


@pytest.mark.parametrize("raw", ["soon", "0", "-5", "nan"])
def test_bad_total_timeout_setting_is_named(monkeypatch, raw):
    monkeypatch.setenv("SKR_HTTP_TIMEOUT", raw)
    with pytest.raises(SourceConfigError, match="SKR_HTTP_TIMEOUT"):
        total_timeout_from_env()


def test_silent_server_gives_up_after_the_total_timeout(silent_server, tmp_path):
    client = KoladaClient(silent_server, cache_dir=tmp_path, total_timeout=1.5, retries=5,
                          backoff_factor=0.01)
    started = time.monotonic()
    with pytest.raises(KoladaTimeout) as err:
        client.kpis("N01951")
    waited = time.monotonic() - started
    assert 1.4 <= waited < 3.5
    message = str(err.value)
    assert "did not answer in" in message and "could not be reached" not in message
    assert "SKR_HTTP_TIMEOUT" in message
    assert isinstance(err.value, SourceTimeout) and 1.4 <= err.value.seconds < 3.5


def test_cli_run_against_a_silent_server_is_bounded_and_says_so(monkeypatch, tmp_path,
                                                                silent_server):
    monkeypatch.setenv("KOLADA_BASE_URL", silent_server)
    monkeypatch.setenv("SKR_HTTP_TIMEOUT", "2")
    monkeypatch.setenv("SKR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SKR_REPORTS_DIR", str(tmp_path / "reports"))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["run", "params/valfard.yaml", "--format", "html",
                                       "--live-only"])
    assert time.monotonic() - started < 10
    assert result.exit_code == EXIT_SOURCE
    assert "did not answer in 2 s" in result.output
    assert "could not be reached" not in result.output


def test_retries_stop_at_the_deadline(make_kolada_server, tmp_path):
    server = make_kolada_server(error_rate=1.0)
    client = KoladaClient(server.base_url, cache_dir=tmp_path, total_timeout=1.0, retries=50,
                          backoff_factor=0.2)
    started = time.monotonic()
    with pytest.raises(KoladaHTTPError) as err:
        client.kpis("N01951")
    assert time.monotonic() - started < 2.5
    assert err.value.status == 500
    assert 2 <= server.request_count < 50
