"""Which source data came from, as one short stable text: the live API by its address, a
recording by its vintage (not by the port of the replay server that served it).

``source_id("https://api.kolada.se/v3")`` → ``"api:api.kolada.se/v3"``;
``source_id("http://127.0.0.1:41234/v3", vintage)`` → ``"recording:3f2a…"`` for every replay of the
same recording. What ``skr-report status`` and ``update`` remember about a source (when it was
last asked, the last year it had) is kept under this name, so a check made against the
recording never counts for the live API and the other way round.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


def source_id(base_url: str | None, vintage: str | None = None) -> str:
    """``api:<host><path>`` for an API, ``recording:<sha256 of the vintage, 16 hex>`` when a
    replay server named its recording."""
    if vintage:
        return "recording:" + hashlib.sha256(vintage.encode("utf-8")).hexdigest()[:16]
    parts = urlsplit(base_url or "")
    return f"api:{parts.netloc}{parts.path.rstrip('/')}"


def source_id_of(source: Mapping[str, Any]) -> str:
    """The id of a client's ``source`` (``base_url``, ``snapshot_vintage``) or of
    ``data/processed/source.json``."""
    return source_id(source.get("base_url"), source.get("snapshot_vintage"))


__all__ = ["source_id", "source_id_of"]
