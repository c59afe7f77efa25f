"""What a variant reads of data/processed, as digests (``build.digests.data_digests``): a later
year leaves a fixed-year variant's digest as it was, a revised value of its years does not, and
neither the fetch time nor the replay's port counts (issue 18)."""

from __future__ import annotations

import json

import pandas as pd

from helpers.build.digests import data_digest, data_digests
from helpers.datasets.values import DIGESTS_SUFFIX, period_digests, write_values
from helpers.files import atomic_write_parquet


def values(years: dict[int, float]) -> pd.DataFrame:
    rows = [("N01951", unit, year, gender, value + i, 1, "")
            for year, value in years.items() for i, unit in enumerate(("0114", "0180"))
            for gender in ("T",)]
    return pd.DataFrame(rows, columns=["kpi", "municipality", "period", "gender", "value",
                                       "count", "status"])


def write(folder, frame, source=None):
    write_values(frame, ["N01951"], folder)
    atomic_write_parquet(pd.DataFrame({"kommun": ["0114"], "befolkning": [1]}),
                         folder / "kommuner_2022.parquet")
    source = source or {"base_url": "http://127.0.0.1:4000/v3", "fetched_at": "2026-01-01",
                        "snapshot": True, "snapshot_vintage": '{"values":"2024-08"}',
                        "kpis": ["N01951"]}
    (folder / "source.json").write_text(json.dumps(source), encoding="utf-8")


def test_a_later_year_leaves_a_fixed_year_alone_and_a_revision_does_not(tmp_path):
    write(tmp_path, values({2021: 10.0, 2022: 20.0}))
    fixed, latest = data_digest(["N01951"], tmp_path, year=2022), data_digest(["N01951"], tmp_path)
    write(tmp_path, values({2021: 10.0, 2022: 20.0, 2023: 30.0}))
    assert data_digest(["N01951"], tmp_path, year=2022) == fixed
    assert data_digest(["N01951"], tmp_path) != latest
    write(tmp_path, values({2021: 10.5, 2022: 20.0, 2023: 30.0}))  # 2021 revised
    assert data_digest(["N01951"], tmp_path, year=2022) != fixed
    assert data_digest(["N01951"], tmp_path, year=2020) == data_digest(["N01951"], tmp_path,
                                                                       year=1999)


def test_the_digests_beside_the_file_and_the_file_itself_agree(tmp_path):
    frame = values({2021: 10.0, 2022: 20.0})
    write(tmp_path, frame)
    stored = data_digests(["N01951"], tmp_path, year=2022)
    sidecar = tmp_path / "values" / f"N01951{DIGESTS_SUFFIX}"
    assert json.loads(sidecar.read_text())["through"] == period_digests(frame)
    sidecar.unlink()  # an older data/processed: computed from the parquet file
    assert data_digests(["N01951"], tmp_path, year=2022) == stored
    # rows in another order are the same rows
    assert period_digests(frame.iloc[::-1]) == period_digests(frame)


def test_fetch_time_and_port_do_not_count_the_kind_of_source_does(tmp_path):
    write(tmp_path, values({2022: 20.0}))
    first = data_digest(["N01951"], tmp_path, year=2022)
    write(tmp_path, values({2022: 20.0}), {
        "base_url": "http://127.0.0.1:5999/v3", "fetched_at": "2026-02-02", "snapshot": True,
        "snapshot_vintage": '{"values":"2024-08"}', "kpis": ["N01951", "U11404"]})
    assert data_digest(["N01951"], tmp_path, year=2022) == first
    write(tmp_path, values({2022: 20.0}), {
        "base_url": "https://api.kolada.se/v3", "fetched_at": "2026-02-02", "snapshot": False,
        "live_api": True})
    assert data_digest(["N01951"], tmp_path, year=2022) != first
