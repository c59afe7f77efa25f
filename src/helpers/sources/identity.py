"""What a data source *is*, independent of how it is reached: the live API (by its address) or
a recording (by the content of its files). The raw cache, ``data/processed/source.json`` and a
variant's inputs hash are keyed by it, so the same recording read through ``make report``'s
in-process replay, through ``skr-report serve-replay`` on any port or straight from the files
(``--offline``) is one source, cached once.

- live: ``live/<host+path>`` (``live/api.kolada.se_v3``); any server that does not say it
  replays a recording is taken as what its address says;
- recording: ``recording/<name>-<12 hex>``, the digest of the recording's data files (their
  names and bytes), sent by the replay server with every answer as ``X-Recording-Id`` and
  computed from the folder by :func:`recording_identity` when no server is asked.

:func:`source_id_of` gives the identity of a source as recorded (a client's ``source``,
``Variant.source``, ``data/processed/source.json``): what ``skr-report status`` and ``update``
key what they remember about a source on, so a check made against the recording never counts
for the live API and the other way round. A source read by a client that was not told its
identity (made by hand, in tests) is named by :func:`source_id`: its address, or the digest of
the vintage its replay named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from helpers.sources.cache import slug

RECORDING_ID_HEADER = "X-Recording-Id"
"""Sent by the replay server with every answer: ``<name>-<12 hex>`` of the recording."""
LIVE = "live"
RECORDING = "recording"


@dataclass(frozen=True)
class SourceIdentity:
    """A data source: ``kind`` ``"live"`` or ``"recording"``, the source's ``name``
    (``kolada``, ``eurostat``) and ``key`` (the address slug, or the recording's digest)."""

    kind: str
    name: str
    key: str

    @property
    def folder(self) -> str:
        """The raw cache's folder below ``data/raw/<name>/`` (also the identity's short form)."""
        if self.kind == RECORDING:
            return f"{RECORDING}/{self.name}-{self.key}"
        return f"{LIVE}/{self.key}"

    @property
    def recording_id(self) -> str:
        """``<name>-<key>``: the value of ``X-Recording-Id`` for a recording."""
        return f"{self.name}-{self.key}"

    @property
    def is_recording(self) -> bool:
        return self.kind == RECORDING

    def __str__(self) -> str:
        return self.folder


def live_identity(name: str, base_url: str) -> SourceIdentity:
    """The identity of an API at ``base_url`` that is not a replay of a recording."""
    parts = urlsplit(base_url)
    return SourceIdentity(LIVE, name, slug(f"{parts.netloc}{parts.path}"))


def parse_recording_id(name: str, value: str | None) -> SourceIdentity | None:
    """The identity a replay server names in ``X-Recording-Id`` (``kolada-0123456789ab``),
    None when the header is absent or not of that form."""
    prefix = f"{name}-"
    if not value or not value.startswith(prefix):
        return None
    key = value[len(prefix):].strip()
    if len(key) != 12 or any(c not in "0123456789abcdef" for c in key):
        return None
    return SourceIdentity(RECORDING, name, key)


def identity_from_headers(name: str, base_url: str,
                          headers: Mapping[str, str]) -> SourceIdentity:
    """What answered at ``base_url``: the recording its replay names, else the live API."""
    return parse_recording_id(name, headers.get(RECORDING_ID_HEADER)) or \
        live_identity(name, base_url)


@cache
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recording_identity(name: str, files: Iterable[Path]) -> SourceIdentity:
    """A recording's identity from its data files (names and bytes; absent files count as
    absent), the same whether a replay server or this process reads them."""
    digest = hashlib.sha256(name.encode())
    for path in sorted(Path(p) for p in files):
        digest.update(path.name.encode())
        if path.is_file():
            stat = path.stat()
            digest.update(_file_sha256(str(path), stat.st_mtime_ns, stat.st_size).encode())
        else:
            digest.update(b"absent")
    return SourceIdentity(RECORDING, name, digest.hexdigest()[:12])


def source_id(base_url: str | None, vintage: str | None = None) -> str:
    """A source known only by its address and vintage: the live API as
    :attr:`SourceIdentity.folder` (``live/api.kolada.se_v3``); a replay that named only its
    vintage (answers cached before replays sent ``X-Recording-Id``) as ``recording:<sha256 of
    the vintage, 16 hex>``."""
    if vintage:
        return "recording:" + hashlib.sha256(vintage.encode("utf-8")).hexdigest()[:16]
    parts = urlsplit(base_url or "")
    return f"{LIVE}/{slug(f'{parts.netloc}{parts.path}')}"


def source_id_of(source: Mapping[str, Any]) -> str:
    """The identity of a recorded source (``identity``, as :attr:`SourceIdentity.folder`), or
    for one without, :func:`source_id` of its ``base_url`` and ``snapshot_vintage``."""
    if source.get("identity"):
        return str(source["identity"])
    return source_id(source.get("base_url"), source.get("snapshot_vintage"))


def is_recording_id(value: str | None) -> bool:
    """Whether a source id names a recording (either form of :func:`source_id_of`)."""
    return bool(value) and str(value).startswith((f"{RECORDING}/", f"{RECORDING}:"))


def is_live_id(value: str | None) -> bool:
    """Whether a source id names an API that is no replay of a recording."""
    return bool(value) and str(value).startswith((f"{LIVE}/", "api:"))
