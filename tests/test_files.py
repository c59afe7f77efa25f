"""helpers.files: atomic writes give files the mode an ordinary write would (umask respected)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pytest

from helpers.files import atomic_write_bytes, atomic_write_parquet


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_get_the_mode_of_an_ordinary_write(tmp_path, mask, expected):
    with umask(mask):
        ordinary = tmp_path / "ordinary.txt"
        ordinary.write_bytes(b"x")
        atomic_write_bytes(tmp_path / "atomic.txt", b"x")
        atomic_write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "table.parquet")
    assert mode(ordinary) == expected
    assert mode(tmp_path / "atomic.txt") == expected
    assert mode(tmp_path / "table.parquet") == expected


def test_replacing_a_file_keeps_no_temporary_and_the_new_content(tmp_path):
    target = tmp_path / "sub" / "file.json"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.json"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    from helpers.files import atomic_write

    target = tmp_path / "file.txt"
    target.write_text("old")

    def fail(tmp: str) -> None:
        with open(tmp, "w") as handle:
            handle.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_current_umask_reads_the_umask_without_changing_it():
    from helpers.files import current_umask

    with umask(0o027):
        assert current_umask() == 0o027
        assert current_umask() == 0o027
