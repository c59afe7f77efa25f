"""Conformance of the replay server to the Kolada v3 facts in ../shared/kolada/README.md.

Everything goes over real HTTP with ``requests``; expected values are computed straight from
the snapshot files, independently of the server's own loading code.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
import requests

from helpers import paths

YEARS = list(range(2010, 2023))
KOMMUNGRUPPER_2023 = [f"G{n}" for n in range(92786, 92795)]


# --------------------------------------------------------------------------- fixtures / helpers


@pytest.fixture(scope="module")
def values_csv(kolada_server) -> pd.DataFrame:
    return pd.read_csv(paths.SNAPSHOT_DIR / "values.csv.gz",
                       dtype={"kpi": str, "municipality": str, "gender": str})


@pytest.fixture(scope="module")
def snapshot_json(kolada_server) -> dict[str, list[dict]]:
    names = ("kpi", "kpi_groups", "municipality", "municipality_groups")
    return {n: json.loads((paths.SNAPSHOT_DIR / f"{n}.json").read_text("utf-8"))["values"]
            for n in names}


@pytest.fixture(scope="module")
def group_members(snapshot_json) -> dict[str, list[str]]:
    return {g["id"]: [m["member_id"] for m in g["members"]]
            for g in snapshot_json["municipality_groups"]}


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def get(session: requests.Session, url: str, **kwargs) -> dict:
    response = session.get(url, timeout=30, **kwargs)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def fetch_all(session: requests.Session, url: str) -> tuple[list[dict], int]:
    """Every value following next_url until null; also the number of pages."""
    values, pages = [], 0
    while url:
        body = get(session, url)
        assert body["count"] == len(body["values"])
        values += body["values"]
        pages += 1
        url = body["next_url"]
    return values, pages


def keys(records: list[dict]) -> list[tuple[str, str, int]]:
    return [(r["kpi"], r["municipality"], r["period"]) for r in records]


def expected_keys(frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    unique = frame[["kpi", "municipality", "period"]].drop_duplicates()
    return sorted((k, m, int(p)) for k, m, p in unique.itertuples(index=False))


def value_of(record: dict, gender: str = "T") -> dict:
    [entry] = [v for v in record["values"] if v["gender"] == gender]
    return entry


def ids(n: int, prefix: str = "X") -> str:
    return ",".join(f"{prefix}{i:05d}" for i in range(n))


# --------------------------------------------------------------------------- metadata


def test_envelope_has_values_count_next_and_previous(kolada_server, http):
    body = get(http, f"{kolada_server.base_url}/municipality/0180")
    assert set(body) == {"values", "count", "next_url", "previous_url"}
    assert body["count"] == 1 and body["next_url"] is None and body["previous_url"] is None


def test_metadata_catalogue_sizes(kolada_server, http, snapshot_json):
    kpis, kpi_pages = fetch_all(http, f"{kolada_server.base_url}/kpi")
    assert len(kpis) == len(snapshot_json["kpi"]) == 6104
    assert kpi_pages == 2  # 5000 per page by default
    municipalities, _ = fetch_all(http, f"{kolada_server.base_url}/municipality")
    types = pd.Series([m["type"] for m in municipalities]).value_counts().to_dict()
    assert len(municipalities) == 312 and types == {"K": 290, "L": 22}
    assert len(fetch_all(http, f"{kolada_server.base_url}/kpi_groups")[0]) == 117
    assert len(fetch_all(http, f"{kolada_server.base_url}/municipality_groups")[0]) == 3630
    assert get(http, f"{kolada_server.base_url}/ou")["values"] == []


def test_metadata_by_id_list_keeps_leading_zeros(kolada_server, http):
    body = get(http, f"{kolada_server.base_url}/municipality/0114,0180,0000")
    assert {m["id"]: m["title"] for m in body["values"]} == {
        "0114": "Upplands Väsby", "0180": "Stockholm", "0000": "Riket"}
    kpi = get(http, f"{kolada_server.base_url}/kpi/N01951")["values"]
    assert [k["id"] for k in kpi] == ["N01951"] and kpi[0]["is_divided_by_gender"] is True


def test_metadata_groups_carry_members(kolada_server, http):
    [group] = get(http, f"{kolada_server.base_url}/municipality_groups/G92787")["values"]
    assert group["title"].startswith("Storstäder")
    assert sorted(m["member_id"] for m in group["members"]) == ["0180", "1280", "1480"]
    [kpi_group] = get(http, f"{kolada_server.base_url}/kpi_groups/G2KPI130255")["values"]
    assert kpi_group["title"] and len(kpi_group["members"]) > 25


@pytest.mark.parametrize(("entity", "text"), [("municipality", "STOCKHOLM"),
                                               ("kpi", "invånare totalt"),
                                               ("municipality_groups", "storstäder"),
                                               ("kpi_groups", "AGENDA 2030")])
def test_title_search_is_case_insensitive_substring(kolada_server, http, snapshot_json,
                                                     entity, text):
    got, _ = fetch_all(http, f"{kolada_server.base_url}/{entity}?title={text}")
    want = [x["id"] for x in snapshot_json[entity] if text.lower() in x["title"].lower()]
    assert want and sorted(x["id"] for x in got) == sorted(want)


def test_metadata_pages_with_page_and_per_page(kolada_server, http):
    url = f"{kolada_server.base_url}/municipality?per_page=100"
    values, pages = fetch_all(http, url)
    assert pages == 4 and len(values) == 312 and len({m["id"] for m in values}) == 312
    last = get(http, f"{url}&page=4")
    assert last["count"] == 12 and last["next_url"] is None and "page=3" in last["previous_url"]


# --------------------------------------------------------------------------- data paths


def test_three_part_path_gives_the_recorded_values(kolada_server, http, values_csv):
    body = get(http, f"{kolada_server.base_url}/data/kpi/N01951/municipality/0180/year/2022")
    [record] = body["values"]
    assert (record["kpi"], record["municipality"], record["period"]) == ("N01951", "0180", 2022)
    assert value_of(record) == {"gender": "T", "count": 1, "status": "", "value": 984748,
                                "isdeleted": False}


@pytest.mark.parametrize("form", ["kpi_year", "kpi_municipality", "municipality_year"])
def test_two_part_paths(kolada_server, http, values_csv, form):
    paths_and_masks = {
        "kpi_year": ("kpi/N01951,N15001/year/2021,2022",
                     values_csv.kpi.isin(["N01951", "N15001"])
                     & values_csv.period.isin([2021, 2022])),
        "kpi_municipality": ("kpi/N01951/municipality/0114,1480",
                             (values_csv.kpi == "N01951")
                             & values_csv.municipality.isin(["0114", "1480"])),
        "municipality_year": ("municipality/2480/year/2020",
                              (values_csv.municipality == "2480") & (values_csv.period == 2020)),
    }
    path, mask = paths_and_masks[form]
    got, _ = fetch_all(http, f"{kolada_server.base_url}/data/{path}")
    assert keys(got) == expected_keys(values_csv[mask])
    assert len(got) > 1


def test_kpi_and_year_returns_every_unit_with_data(kolada_server, http, values_csv):
    got, _ = fetch_all(http, f"{kolada_server.base_url}/data/kpi/N01951/year/2022")
    want = values_csv[(values_csv.kpi == "N01951") & (values_csv.period == 2022)]
    assert {r["municipality"] for r in got} == set(want.municipality)
    assert len(got) == 312


def test_one_part_or_wrong_order_is_not_a_data_path(kolada_server, http):
    for path in ("kpi/N01951", "year/2022/kpi/N01951", "kpi/N01951/municipality"):
        response = http.get(f"{kolada_server.base_url}/data/{path}", timeout=30)
        assert response.status_code == 404 and "error" in response.json()


def test_records_are_sorted_by_kpi_municipality_period(kolada_server, http):
    got, _ = fetch_all(http, f"{kolada_server.base_url}/data/kpi/N15001,N01951/"
                             "municipality/G92787,2480,0114")
    assert keys(got) == sorted(keys(got))
    assert {r["municipality"] for r in got} == {"G92787", "2480", "0114"}


# --------------------------------------------------------------------------- paging


def test_next_url_chain_returns_every_record_once(kolada_server, http, values_csv):
    url = (f"{kolada_server.base_url}/data/kpi/N01951,N15001,U20404/year/"
           f"{','.join(map(str, YEARS))}?per_page=1000")
    first = get(http, url)
    assert first["previous_url"] is None and first["count"] == 1000
    got, pages = fetch_all(http, url)
    want = values_csv[values_csv.kpi.isin(["N01951", "N15001", "U20404"])
                      & values_csv.period.isin(YEARS)]
    assert keys(got) == expected_keys(want)
    assert len(set(keys(got))) == len(got)
    assert pages == -(-len(got) // 1000)


def test_previous_url_chain_walks_back_to_the_first_page(kolada_server, http):
    url = f"{kolada_server.base_url}/data/kpi/N01951/year/2020,2021,2022?per_page=200"
    body, last = get(http, url), None
    while body["next_url"]:
        last = body["next_url"]
        body = get(http, last)
    assert last is not None
    back, seen = body, [body["values"][0]["municipality"]]
    while back["previous_url"]:
        back = get(http, back["previous_url"])
        seen.append(back["values"][0]["municipality"])
    assert back["values"] == get(http, url)["values"]
    assert len(seen) == -(-3 * 312 // 200)


def test_paging_urls_follow_the_request_host(kolada_server, http):
    host = f"localhost:{kolada_server.port}"
    body = get(http, f"{kolada_server.base_url}/data/kpi/N01951/year/2022?per_page=100",
               headers={"Host": host})
    assert body["next_url"].startswith(f"http://{host}/v3/data/kpi/N01951/year/2022?")
    assert "page=2" in body["next_url"] and "per_page=100" in body["next_url"]
    assert get(http, body["next_url"])["count"] == 100


def test_last_full_page_has_no_next_url(kolada_server, http):
    body = get(http, f"{kolada_server.base_url}/data/kpi/N01951/year/2022?per_page=312")
    assert body["count"] == 312 and body["next_url"] is None
    values, pages = fetch_all(http, f"{kolada_server.base_url}/municipality?per_page=104")
    assert pages == 3 and len(values) == 312


def test_page_past_the_end_is_empty(kolada_server, http):
    body = get(http, f"{kolada_server.base_url}/data/kpi/N01951/year/2022?page=9")
    assert body["values"] == [] and body["next_url"] is None


def test_per_page_limit(kolada_server, http):
    base = f"{kolada_server.base_url}/data/kpi/N01951/year/2019,2020,2021,2022"
    assert get(http, f"{base}?per_page=5000")["count"] == 4 * 312
    assert get(http, base)["count"] == 4 * 312  # default page size is the maximum
    for bad in ("per_page=5001", "per_page=0", "page=0", "page=x"):
        response = http.get(f"{base}?{bad}", timeout=30)
        assert response.status_code == 422, bad
        assert "error" in response.json()


@pytest.mark.parametrize("part", ["kpi", "municipality", "year"])
def test_at_most_25_ids_per_part(kolada_server, http, part):
    lists = {"kpi": ids(26, "N"), "municipality": ids(26, "9"),
             "year": ",".join(str(y) for y in range(1990, 2016))}
    parts = {"kpi": "N01951", "municipality": "0180", "year": "2022"}
    ok = {**parts, part: ",".join(lists[part].split(",")[:25])}
    too_many = {**parts, part: lists[part]}

    def url(p):
        return f"{kolada_server.base_url}/data/kpi/{p['kpi']}/municipality/{p['municipality']}" \
               f"/year/{p['year']}"

    assert http.get(url(ok), timeout=30).status_code == 200
    response = http.get(url(too_many), timeout=30)
    assert response.status_code == 422
    message = response.json()["error"]
    assert "25" in message and part in message and "26" in message


# --------------------------------------------------------------------------- groups, gender


def test_group_is_the_unweighted_mean_of_its_members(kolada_server, http, values_csv):
    body = get(http, f"{kolada_server.base_url}/data/kpi/N01951/municipality/G92787/year/2022")
    [record] = body["values"]
    assert record["municipality"] == "G92787"
    rows = values_csv[(values_csv.kpi == "N01951") & (values_csv.period == 2022)
                      & values_csv.municipality.isin(["0180", "1280", "1480"])]
    for gender in ("T", "K", "M"):
        members = rows[rows.gender == gender].value
        entry = value_of(record, gender)
        assert entry["count"] == 3
        assert entry["value"] == pytest.approx(members.mean())


def test_group_count_is_the_number_of_contributing_members(kolada_server, http, values_csv,
                                                          group_members):
    url = f"{kolada_server.base_url}/data/kpi/U20404/municipality/" \
          f"{','.join(KOMMUNGRUPPER_2023)}/year/2022"
    got = {r["municipality"]: value_of(r) for r in get(http, url)["values"]}
    assert set(got) == set(KOMMUNGRUPPER_2023)
    year = values_csv[(values_csv.kpi == "U20404") & (values_csv.period == 2022)
                      & (values_csv.gender == "T")]
    partial = 0
    for group_id in KOMMUNGRUPPER_2023:
        members = year[year.municipality.isin(group_members[group_id])].value
        assert got[group_id]["count"] == len(members)
        assert got[group_id]["value"] == pytest.approx(members.mean())
        partial += len(members) < len(group_members[group_id])
    assert partial > 0  # kvalitetsindex lacks values for many small kommuner


def test_gender_divided_kpi_has_t_k_m_and_others_only_t(kolada_server, http, values_csv):
    stockholm = values_csv[(values_csv.municipality == "0180") & (values_csv.period == 2022)]
    genders = stockholm.groupby("kpi").gender.nunique()
    total_only = genders[genders == 1].index[0]
    url = f"{kolada_server.base_url}/data/kpi/N01951,{total_only}/municipality/0180/year/2022"
    records = {r["kpi"]: r for r in get(http, url)["values"]}
    assert [v["gender"] for v in records["N01951"]["values"]] == ["T", "K", "M"]
    assert [v["gender"] for v in records[total_only]["values"]] == ["T"]
    women = values_csv[(values_csv.kpi == "N01951") & (values_csv.municipality == "0180")
                       & (values_csv.period == 2022) & (values_csv.gender == "K")].value
    assert value_of(records["N01951"], "K")["value"] == women.item()


@pytest.mark.parametrize("path", ["data/kpi/N99999/year/2022",
                                  "data/kpi/N01951/municipality/9999/year/2022",
                                  "data/kpi/N01951/municipality/G1/year/2022",
                                  "data/kpi/N01951/year/1800",
                                  "data/municipality/9999/year/2022",
                                  "kpi/NOPE", "municipality/114", "municipality?title=zzzqqq"])
def test_unknown_ids_give_empty_values(kolada_server, http, path):
    body = get(http, f"{kolada_server.base_url}/{path}")
    assert body == {"values": [], "count": 0, "next_url": None, "previous_url": None}


def test_v2_paths_answer_the_deprecation_body(kolada_server, http):
    root = kolada_server.base_url.removesuffix("/v3")
    for path in ("/v2/kpi", "/v2/data/kpi/N01951/year/2022"):
        body = http.get(root + path, timeout=30).json()
        assert body == {"error": "This endpoint is deprecated. Please use /v3 instead."}


def test_unknown_path_is_404_with_a_json_error(kolada_server, http):
    response = http.get(f"{kolada_server.base_url}/nothing", timeout=30)
    assert response.status_code == 404 and "/v3" in response.json()["error"]


# --------------------------------------------------------------------------- snapshot format


def test_serves_any_folder_in_the_snapshot_format(make_kolada_server, tmp_path, http):
    envelope = {"count": 1, "next_url": None, "previous_url": None}
    files = {
        "kpi": [{"id": "N1", "title": "Test KPI", "is_divided_by_gender": False}],
        "kpi_groups": [{"id": "GK", "title": "Test group", "members": []}],
        "municipality": [{"id": "0001", "title": "A", "type": "K"},
                         {"id": "0002", "title": "B", "type": "K"}],
        "municipality_groups": [{"id": "G1", "title": "AB",
                                 "members": [{"member_id": "0001", "member_title": "A"},
                                             {"member_id": "0002", "member_title": "B"}]}],
    }
    for name, values in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"values": values, **envelope}))
    pd.DataFrame({"kpi": ["N1", "N1"], "municipality": ["0001", "0002"], "period": [2020, 2020],
                  "gender": ["T", "T"], "value": [1.0, 4.0]}).to_csv(
        tmp_path / "values.csv.gz", index=False)
    server = make_kolada_server(snapshot_dir=tmp_path)
    [record] = get(http, f"{server.base_url}/data/kpi/N1/municipality/G1/year/2020")["values"]
    assert value_of(record) == {"gender": "T", "count": 2, "status": "", "value": 2.5,
                                "isdeleted": False}
    assert get(http, f"{server.base_url}/municipality")["count"] == 2


# --------------------------------------------------------------------------- server behaviour


def test_request_counter_and_log(make_kolada_server, http):
    server = make_kolada_server()
    get(http, f"{server.base_url}/kpi/N01951")
    get(http, f"{server.base_url}/data/kpi/N01951/year/2022?per_page=10")
    assert server.request_count == 2
    assert server.requests == ["/v3/kpi/N01951", "/v3/data/kpi/N01951/year/2022?per_page=10"]


def test_keep_alive_reuses_one_connection(make_kolada_server, http):
    server = make_kolada_server()
    for _ in range(5):
        get(http, f"{server.base_url}/municipality/0180")
    assert server.request_count == 5 and server.connection_count == 1


def test_large_answer_pages_completely(kolada_server, http, values_csv):
    """25 KPIs over all years page through in full 5000-row pages (speed is in bench/)."""
    kpis = values_csv.kpi.value_counts().index[:25]
    url = f"{kolada_server.base_url}/data/kpi/{','.join(kpis)}/year/{','.join(map(str, YEARS))}"
    total, pages = 0, []
    while url:
        body = get(http, url)
        pages.append(len(body["values"]))
        total += body["count"]
        url = body["next_url"]
    assert total > 90_000 and len(pages) == -(-total // 5000)
    assert all(size == 5000 for size in pages[:-1])


# --------------------------------------------------------------------------- faults


def test_latency_is_added_per_request(make_kolada_server, http):
    server = make_kolada_server(latency=0.3)
    start = time.perf_counter()
    get(http, f"{server.base_url}/municipality/0180")
    assert time.perf_counter() - start >= 0.3


def test_error_rate_gives_500s(make_kolada_server, http):
    server = make_kolada_server(error_rate=1.0)
    response = http.get(f"{server.base_url}/municipality/0180", timeout=30)
    assert response.status_code == 500 and "error" in response.json()
    assert server.injected["error"] == 1


def test_rate_limit_gives_429_with_retry_after(make_kolada_server, http):
    server = make_kolada_server(rate_limit_rate=1.0, retry_after=7)
    response = http.get(f"{server.base_url}/municipality/0180", timeout=30)
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_dropped_connection_has_no_response(make_kolada_server):
    server = make_kolada_server(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.base_url}/municipality/0180", timeout=30)
    assert server.request_count == 1 and server.injected["drop"] == 1


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_truncated_body_is_detected(make_kolada_server, encoding):
    server = make_kolada_server(truncate_rate=1.0)
    with pytest.raises((requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):
        requests.get(f"{server.base_url}/data/kpi/N01951/year/2022", timeout=30,
                     headers={"Accept-Encoding": encoding})


def test_fault_shares_are_deterministic_for_a_seed(make_kolada_server, http):
    def statuses(seed):
        server = make_kolada_server(error_rate=0.3, rate_limit_rate=0.2, seed=seed)
        return [http.get(f"{server.base_url}/municipality/0180", timeout=30).status_code
                for _ in range(100)]

    first, again, other = statuses(1), statuses(1), statuses(2)
    assert first == again and first != other
    assert 15 <= first.count(500) <= 45 and 8 <= first.count(429) <= 32
    assert first.count(200) == 100 - first.count(500) - first.count(429)


def test_faults_can_change_while_running(make_kolada_server, http):
    from helpers.sources.replay.server import Faults

    server = make_kolada_server(error_rate=1.0)
    assert http.get(f"{server.base_url}/kpi/N01951", timeout=30).status_code == 500
    server.faults = Faults()
    assert http.get(f"{server.base_url}/kpi/N01951", timeout=30).status_code == 200


def test_invalid_fault_rates_are_rejected():
    from helpers.sources.replay.server import Faults

    with pytest.raises(ValueError, match="between 0 and 1"):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError, match="more than 1"):
        Faults(error_rate=0.6, drop_rate=0.6)
