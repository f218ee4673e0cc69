"""`GET /api/v1/regions?q=`: the official municipalities, found by name or code."""

from __future__ import annotations


def _find(client, headers, **query):
    return client.get("/api/v1/regions", query_string=query, headers=headers)


def test_municipalities_are_found_by_korean_or_english_name_or_code_prefix(client, ministry, auditor, alpha):
    by_korean = _find(client, ministry, q="강남").get_json()
    assert by_korean["total"] == 1
    gangnam = by_korean["items"][0]
    assert (gangnam["code"], gangnam["code10"], gangnam["full_name_ko"]) == (
        "11680",
        "1168000000",
        "서울특별시 강남구",
    )
    assert gangnam["name_en"] == "Gangnam-gu" and gangnam["portal"] == "alpha"
    assert _find(client, auditor, q="GANGNAM-GU").get_json()["items"] == [gangnam]
    assert _find(client, ministry, q="서울특별시 강남구").get_json()["items"] == [gangnam]
    assert [r["code"] for r in _find(client, ministry, q="1168").get_json()["items"]] == ["11680"]
    assert _find(client, ministry, q="1168000000").get_json()["items"] == [gangnam]
    # 일반구 are not governments of their own: the city is found, not its 구.
    assert [r["code"] for r in _find(client, ministry, q="4111").get_json()["items"]] == ["41110"]
    assert _find(client, ministry, q="세종").get_json()["items"][0]["code"] == "36110"
    assert _find(client, ministry, q="nowhere-at-all").get_json() == {
        "total": 0,
        "limit": 20,
        "offset": 0,
        "items": [],
    }


def test_the_list_is_paginated_in_code_order(client, ministry):
    jung = _find(client, ministry, q="중구").get_json()
    assert jung["total"] >= 5 and all("중구" in r["full_name_ko"] for r in jung["items"])
    first, second = (
        _find(client, ministry, q="중구", limit=2, offset=offset).get_json()["items"] for offset in (0, 2)
    )
    assert [r["code"] for r in first + second] == [r["code"] for r in jung["items"][:4]]
    everything = _find(client, ministry, limit=100, offset=200).get_json()
    assert everything["total"] == 228 and len(everything["items"]) == 28


def test_bad_parameters_are_422_and_only_platform_readers_may_search(client, ministry, alpha):
    for query in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"offset": -1}, {"q": ""}, {"q": "x" * 51}):
        response = _find(client, ministry, **query)
        assert response.status_code == 422, (query, response.get_json())
        assert response.get_json()["errors"], query
    assert _find(client, ministry, q="a\x00b").status_code == 400  # NUL in a URL, refused at the edge
    assert client.get("/api/v1/regions?q=강남").status_code == 401
    assert _find(client, alpha.auth("tenant_admin"), q="강남").status_code == 403
