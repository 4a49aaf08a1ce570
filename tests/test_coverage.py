"""Contract coverage over real HTTP: each kind of documented outcome is counted once the mock
sends it, with the id of the first request that met it; reset and marks; the CLI's verdict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver import cli
from mockserver.server import ServerThread, free_port
from tests.calls import call, journal


@pytest.fixture
def http(live: ServerThread) -> Iterator[httpx.Client]:
    live.app.state.mock.reset()
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client


def coverage(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get("/__mock/coverage", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def met(report: dict[str, Any]) -> dict[str, int]:
    """``"vendor route outcome" -> count`` of every outcome met at least once."""
    return {f"{vendor} {route} {outcome}": row["met"]
            for vendor, shown in report["vendors"].items()
            for route, listed in shown["routes"].items()
            for outcome, row in listed["outcomes"].items() if row["met"]}


def test_a_fresh_mock_has_met_nothing_and_documents_every_kind_of_outcome(http):
    report = coverage(http)
    assert (report["met"], report["since"]) == (0, "reset")
    assert report["total"] == sum(v["total"] for v in report["vendors"].values()) > 100
    videos = report["vendors"]["socialfetch"]["routes"]["videos"]["outcomes"]
    assert {row["kind"] for row in videos.values()} == {
        "success", "world", "page", "option", "credits", "error", "transport"}
    assert [videos[f"page:{p}"]["label"] for p in ("first", "later", "last", "empty")] == [
        "first page", "a later page", "last page", "empty list"]
    assert {o for o in videos if o.startswith("option:")} == {
        "option:sortBy=latest", "option:sortBy=popular", "option:trim", "option:region",
        "option:userId"}
    profile = report["vendors"]["dumpling"]["routes"]["profile"]["outcomes"]
    assert profile["error:rate_limited"]["label"] == "429 rate limited"
    assert profile["error:upstream_rate_limited"]["scenario"] == "upstream_rate_limited"
    # API Gateway answers a missing key and the forbidden scenario alike: one outcome
    user = report["vendors"]["gateway"]["routes"]["user"]["outcomes"]
    assert "error:unauthorized" not in user and user["error:forbidden"]["natural"] is True


def test_each_kind_of_outcome_is_counted_once_met(http):
    profile = call(http, "dumpling")  # success
    assert profile.status_code == 200
    assert call(http, "dumpling", key="").status_code == 401  # a natural error
    assert call(http, "dumpling", headers={"X-Mock-Scenario": "upstream_rate_limited"}
                ).status_code == 503  # an error by scenario
    assert call(http, "socialfetch", handle="private_account").json()["data"][
        "lookupStatus"] == "private"  # the world's private rendering
    first = call(http, "dumpling", "videos", body={"handle": "tiny_account"})
    assert first.json()["has_more"] == 0  # a first page that is also the last
    pages = call(http, "socialfetch", "videos", params={"sortBy": "popular", "trim": "true"})
    later = call(http, "socialfetch", "videos",
                 params={"sortBy": "popular", "cursor": pages.json()["data"]["page"]["nextCursor"]})
    assert later.status_code == 200
    assert call(http, "socialfetch", "videos", handle="empty_account").json()["data"][
        "videos"] == []
    http.put("/__mock/keys/sk_low", json={"balance": 3, "rate_limit": 2})
    assert call(http, "dumpling", key="sk_low").status_code == 200  # leaves 1 of 2: low
    assert call(http, "dumpling", key="sk_low").status_code == 403  # insufficient credits
    assert call(http, "dumpling", key="sk_low").status_code == 429  # past 2 a minute
    assert call(http, "gateway", headers={"X-Mock-Scenario": "truncated_body"}).status_code == 200
    with pytest.raises(httpx.TransportError):
        call(http, "gateway", headers={"X-Mock-Scenario": "drop_connection"})
    assert call(http, "dumpling", body={"handle": "stoolpresidente", "colour": "red"}
                ).status_code == 200  # an undocumented field: a contract note

    report = coverage(http)
    assert met(report) == {
        "dumpling profile ok": 3, "dumpling profile credits:low_balance": 1,
        "dumpling profile error:unauthorized": 1,
        "dumpling profile error:upstream_rate_limited": 1,
        "dumpling profile error:insufficient_credits": 1,
        "dumpling profile error:rate_limited": 1,
        "dumpling videos ok": 1, "dumpling videos page:first": 1, "dumpling videos page:last": 1,
        "socialfetch profile ok": 1, "socialfetch profile world:private": 1,
        "socialfetch videos ok": 3, "socialfetch videos page:first": 1,
        "socialfetch videos page:later": 1, "socialfetch videos page:empty": 1,
        "socialfetch videos option:sortBy=popular": 2, "socialfetch videos option:trim": 1,
        "socialfetch videos option:sortBy=latest": 1,
        "gateway user fault:truncated_body": 1, "gateway user fault:drop_connection": 1,
    }
    first_id = report["vendors"]["dumpling"]["routes"]["profile"]["outcomes"]["ok"][
        "first_request_id"]
    oldest = journal(http, vendor="dumpling", route="profile")[-1]
    assert (oldest["request_id"], oldest["outcomes"]) == (first_id, ["ok"])
    assert report["vendors"]["socialfetch"]["routes"]["videos"]["outcomes"]["ok"][
        "first_request_id"] == pages.headers["x-request-id"].removeprefix("req_")
    (note,) = report["vendors"]["dumpling"]["notes"]
    assert (note["route"], note["met"]) == ("profile", 1) and "'colour'" in note["note"]
    assert report["vendors"]["dumpling"]["routes"]["profile"]["met"] == 6
    assert coverage(http, vendor="gateway")["vendors"].keys() == {"gateway"}


def test_reset_clears_coverage_and_a_mark_counts_from_there(http):
    call(http, "dumpling")
    response = http.post("/__mock/coverage/mark", json={"name": "after-login"})
    assert response.status_code == 200 and response.json()["marks"] == ["after-login"]
    call(http, "dumpling", key="")
    second = call(http, "dumpling")
    since = coverage(http, since="after-login")
    assert met(since) == {"dumpling profile ok": 1, "dumpling profile error:unauthorized": 1}
    ok = since["vendors"]["dumpling"]["routes"]["profile"]["outcomes"]["ok"]
    assert ok["first_request_id"] == journal(http, status=200)[0]["request_id"]
    assert second.status_code == 200
    assert met(coverage(http))["dumpling profile ok"] == 2
    assert http.get("/__mock/coverage", params={"since": "nope"}).status_code == 404
    assert http.post("/__mock/coverage/mark", json={}).status_code == 400
    assert http.get("/__mock/coverage", params={"vendor": "twitter"}).status_code == 400

    assert http.post("/__mock/reset").status_code == 200
    report = coverage(http)
    assert (report["met"], report["marks"]) == (0, [])
    assert report["vendors"]["dumpling"]["notes"] == []


def test_the_cli_prints_a_table_and_fails_below_the_threshold(http, live, capsys):
    call(http, "dumpling")
    call(http, "dumpling", headers={"X-Mock-Scenario": "internal_error"})
    assert cli.main(["coverage", "--url", live.url, "--vendor", "dumpling", "--min", "2"]) == 0
    out = capsys.readouterr().out
    assert "DumplingAI: 2 of " in out and "never met: " in out
    assert "500 internal error" in out.split("DumplingAI:")[0]  # a table row before the summary
    assert cli.main(["coverage", "--url", live.url, "--min", "50"]) == 1
    captured = capsys.readouterr()
    assert "under the minimum of 50%" in captured.err
    assert "Social Fetch" not in captured.out  # only the vendors the client called
    assert cli.main(["coverage", "--url", live.url, "--vendor", "socialfetch",
                     "--min", "1"]) == 1
    capsys.readouterr()
    assert cli.main(["coverage", "--url", f"http://127.0.0.1:{free_port()}"]) == 2
    assert "cannot read coverage" in capsys.readouterr().err
