"""The raw cache: every body kept as received, one file per request plus ``.meta.json``,
written atomically, so a warm run sends no request."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from helpers.files import atomic_write_bytes


@dataclass
class RequestStats:
    """What a client did: HTTP requests sent, bytes received, requests served from the cache."""

    requests: int = 0
    bytes: int = 0
    cache_hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, requests: int = 0, nbytes: int = 0, cache_hits: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes += nbytes
            self.cache_hits += cache_hits


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", text).strip("_")


class RawCache:
    """Raw response bodies on disk, one file per request, keyed by the request's path and query.

    Next to each body ``<key>.json`` lies ``<key>.meta.json`` with the request and fetch time.
    Both are written to a temporary file in the same folder and renamed into place, so readers
    never see a partial file, whatever happens to the writer.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        entity = key.lstrip("/").split("/", 1)[0].split("?", 1)[0] or "root"
        folder = self.root / slug(entity)
        return folder / f"{digest}.json", folder / f"{digest}.meta.json"

    def path_of(self, key: str) -> Path:
        """The file that holds the body for ``key`` (it may not exist)."""
        return self._paths(key)[0]

    def get(self, key: str) -> bytes | None:
        body, _ = self._paths(key)
        try:
            return body.read_bytes()
        except FileNotFoundError:
            return None

    def meta(self, key: str) -> dict | None:
        _, meta = self._paths(key)
        try:
            return json.loads(meta.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, key: str, body: bytes, meta: dict) -> None:
        body_path, meta_path = self._paths(key)
        body_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(meta_path, json.dumps(meta, ensure_ascii=False, indent=1).encode())
        atomic_write_bytes(body_path, body)
