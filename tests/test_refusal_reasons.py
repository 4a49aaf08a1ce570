"""A refused request's journal entry says why, in the mock's words, while the client still
gets exactly the vendor's answer."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.calls import KEYS, VENDORS, call
from tests.conftest import FROZEN


def latest_reason(client: TestClient, vendor: str) -> tuple[int, str | None]:
    entry = client.get("/__mock/requests", params={"vendor": vendor}).json()["requests"][0]
    return entry["status"], entry["reason"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_strict_inactive_exhausted_and_rate_limited_refusals_say_why(vendor):
    key = KEYS[vendor]
    settings = Settings.load({"now": FROZEN, "strict": True}, env={})
    with TestClient(create_app(settings)) as client:
        call(client, vendor)
        status, reason = latest_reason(client, vendor)
        assert status in (401, 403)
        assert reason == ("strict mode (--strict) accepts only keys from the config's [[keys]] "
                          "or the fixtures")
        assert client.put(f"/__mock/keys/{key}", json={"status": "inactive"}).status_code == 200
        call(client, vendor)
        assert latest_reason(client, vendor)[1] == "the key is inactive"
        client.put(f"/__mock/keys/{key}", json={"status": "active", "balance": 0})
        call(client, vendor)
        cost = 2 if vendor == "dumpling" else 1
        assert latest_reason(client, vendor) == (
            {"dumpling": 403, "socialfetch": 402, "gateway": 429}[vendor],
            f"the key's balance 0 is less than the cost {cost}")
        # Social Fetch keys have no rate limit to set (its page documents none)
        limit = {} if vendor == "socialfetch" else {"rate_limit": 1}
        assert client.put(f"/__mock/keys/{key}", json={"balance": 10, **limit}).status_code == 200
        client.post("/__mock/clock", json={"advance": 60})  # a fresh rate window
        call(client, vendor)
        assert latest_reason(client, vendor) == (200, None)
        call(client, vendor)
        if vendor != "socialfetch":  # Social Fetch documents no request-rate limit
            assert latest_reason(client, vendor) == (
                429, "the key's rate limit of 1 a minute is spent")
