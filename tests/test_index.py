"""Opening the mock's base URL (or /__mock/) shows what it serves, not a bare Not Found."""

from __future__ import annotations

import httpx
import pytest

from mockserver.server import ServerThread


@pytest.mark.parametrize("path", ["/", "/__mock/"])
def test_the_index_lists_every_vendor_route_and_admin_route_and_they_answer(live: ServerThread,
                                                                            path):
    index = httpx.get(live.url + path, timeout=10)
    assert index.status_code == 200
    assert index.headers["content-type"] == "application/json"
    document = index.json()
    mock = live.app.state.mock
    listed = {(r["method"], r["path"]) for v in document["vendors"].values() for r in v["routes"]}
    assert listed == {(route.method, route.path) for vendor in mock.vendors.values()
                      for route in vendor.routes}
    admin = {entry["path"] for entry in document["admin"]}
    assert {"/__mock/health", "/__mock/reset", "/__mock/scenarios", "/__mock/requests",
            "/__mock/keys/{key}", "/__mock/clock"} <= admin
    for entry in document["admin"]:  # every parameterless GET it lists answers
        if "GET" in entry["methods"] and "{" not in entry["path"]:
            assert httpx.get(live.url + entry["path"], timeout=10).status_code == 200, entry
    for vendor in document["vendors"].values():
        assert httpx.get(live.url + vendor["openapi"], timeout=10).status_code == 200
    assert document["try"].startswith(f"curl -X POST {live.url}/api/v1/get-tiktok-profile ")
