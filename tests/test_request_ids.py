"""Request ids (Social Fetch ``req_`` ids, API Gateway's x-amzn-RequestId): different on
every request, yet the same on every run of the same requests, in any order."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.settings import Settings

PROFILE = "/v1/tiktok/profiles/stoolpresidente"
VIDEOS = PROFILE + "/videos"
KEY = {"x-api-key": "sfk_test_key"}


def ids_of(paths: list[str], seed: int = 1) -> list[str]:
    with TestClient(create_app(Settings.load({"now": "2026-11-23T12:00:00Z", "seed": seed},
                                             env={}))) as client:
        return [client.get(path, headers=KEY).headers["x-request-id"] for path in paths]


def test_each_request_gets_a_new_id_and_every_run_the_same_ones():
    run = ids_of([PROFILE, PROFILE, VIDEOS, PROFILE])
    assert len(set(run)) == 4
    assert ids_of([PROFILE, PROFILE, VIDEOS, PROFILE]) == run


def test_an_id_depends_on_the_request_and_its_repeat_count_not_on_the_order():
    first = ids_of([PROFILE, VIDEOS, PROFILE])
    other_order = ids_of([VIDEOS, PROFILE, PROFILE])
    assert other_order == [first[1], first[0], first[2]]


def test_the_seed_changes_every_id():
    assert set(ids_of([PROFILE, VIDEOS], seed=1)).isdisjoint(ids_of([PROFILE, VIDEOS], seed=2))


def test_ids_are_version_4_uuids():
    for text in ids_of([PROFILE] * 20 + [VIDEOS] * 20):
        parsed = uuid.UUID(text.removeprefix("req_"))
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text.removeprefix("req_")


def test_the_gateway_ids_differ_per_request():
    app = create_app(Settings.load({"now": "2026-11-23T12:00:00Z"}, env={}))
    with TestClient(app) as client:
        answers = [client.get("/dev/tiktok/user/stoolpresidente",
                              headers={"x-api-key": "gw_test_key_0123456789abcdef"})
                   for _ in range(5)]
    assert len({a.headers["x-amzn-RequestId"] for a in answers}) == 5
    assert len({a.headers["x-amz-apigw-id"] for a in answers}) == 5
    assert all(len(a.headers["x-amz-apigw-id"]) == 16 for a in answers)
