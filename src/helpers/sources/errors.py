"""The errors of the data sources. Each client derives its own classes from these
(``KoladaUnreachable(KoladaError, SourceUnreachable)``); every message names the problem and the
fix. A base URL that is not an ``http(s)://host/...`` address is refused up front
(:class:`SourceConfigError`, naming the environment variable)."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import requests


class SourceError(Exception):
    """Base class: every message names the problem and what to do about it."""


class SourceConfigError(SourceError):
    """A setting (base URL, time-out) is not usable; the message names the variable."""


class SourceUnreachable(SourceError):
    """No connection could be made (refused, DNS, connect time-out) after retries."""


class SourceTimeout(SourceError):
    """The server accepted the connection but did not answer within the total time-out."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds


class SourceHTTPError(SourceError):
    """The server answered with an error status (after retries for 429/5xx)."""

    def __init__(self, message: str, status: int, url: str):
        super().__init__(message)
        self.status = status
        self.url = url


class SourceBadResponse(SourceError):
    """The body was not what the API documents (cut short, HTML, another API's format)."""


class SourceCacheMiss(SourceError):
    """Offline mode and a request that is not in the cache."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


def check_base_url(url: str, variable: str, example: str) -> str:
    """``url`` without a trailing slash, or SourceConfigError naming ``variable`` and the form."""
    text = str(url).strip()
    parts = urlsplit(text)
    form = (f"Expected an http:// or https:// address with a host, e.g. {example}. "
            f"Fix: correct or unset {variable}.")
    if parts.scheme.lower() not in ("http", "https"):
        got = f"uses the scheme {parts.scheme!r}" if parts.scheme else "has no http(s):// scheme"
        raise SourceConfigError(f"{variable}={text!r} {got}; the client speaks only HTTP(S). "
                                + form)
    if not parts.hostname:
        raise SourceConfigError(f"{variable}={text!r} names no host. " + form)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise SourceConfigError(f"{variable}={text!r} has an invalid port. " + form) from None
    return text.rstrip("/")


def configured_base_url(variable: str, default: str) -> str:
    """The base URL a data source is configured with: ``$<variable>`` (checked: an http(s)
    address, else a ``SourceConfigError`` naming the variable) or ``default``, the live API."""
    return check_base_url(os.environ.get(variable, default), variable, default)


def describe_connection_error(exc: BaseException) -> str:
    """The operating system's words for a connection failure, without urllib3's wrapping."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if found:
        return found.group(0).strip()
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer before the time-out"
    return short(text)


def short(exc: BaseException | str, limit: int = 160) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"
