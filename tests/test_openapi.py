"""The OpenAPI document per vendor: valid, complete, and built from the schemas as they are."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from mockserver.cli import main
from mockserver.openapi import MOCK_STATUSES, error_statuses

VENDORS = ("dumpling", "socialfetch", "gateway")


def served(client, vendor: str) -> dict:
    response = client.get(f"/__mock/openapi/{vendor}.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


def walk(node):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from walk(child)


@pytest.mark.parametrize("vendor", VENDORS)
def test_document_is_valid_openapi_3_1(client, vendor):
    document = served(client, vendor)
    validate(document)
    assert document["openapi"] == "3.1.0"
    # the URL it was fetched from (the test client's), so a tool calls this very mock
    assert document["servers"] == [{"url": "http://testserver", "description": "this mock"}]
    keys = {key for node in walk(document) if isinstance(node, dict) for key in node}
    assert not keys & {"$id", "$schema", "$defs"}


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_route_with_its_success_and_error_answers(client, app, vendor):
    document = served(client, vendor)
    mock_vendor = app.state.mock.vendors[vendor]
    for route in mock_vendor.routes:
        operation = document["paths"][route.path][route.method.lower()]
        responses = operation["responses"]
        vendors_own = set(map(str, error_statuses(mock_vendor, route)))
        mocks_own = set(map(str, MOCK_STATUSES))
        assert set(responses) == {"200"} | vendors_own | mocks_own
        assert responses["200"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{route.name}.200"}
        vendor_error = {"$ref": "#/components/schemas/error"}
        for status in vendors_own | mocks_own:
            mock_errors = [{"$ref": f"#/components/schemas/{name.split('/')[1]}"}
                           for name in MOCK_STATUSES.get(int(status), ((), ""))[0]]
            refs = [vendor_error] * (status in vendors_own) + mock_errors
            expected = refs[0] if len(refs) == 1 else {"anyOf": refs}
            assert responses[status]["content"]["application/json"]["schema"] == expected
        assert operation["security"]


def test_dumpling_statuses_body_and_rate_limit_headers(client):
    document = served(client, "dumpling")
    operation = document["paths"]["/api/v1/get-tiktok-video"]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "405", "408",
                                           "413", "414", "429", "431", "500", "502", "503"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["url"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for status, response in operation["responses"].items():
        if status in ("408", "414", "431"):  # the mock's own refusals, before any route
            assert "headers" not in response
            continue
        headers = response["headers"]
        expected = {"X-RateLimit-Limit", "X-RateLimit-Remaining"}
        expected |= {"429": {"Retry-After"}, "405": {"Allow"}}.get(status, set())
        assert set(headers) == expected
        # a 503 may be the mock's own refusal of a connection too many, with no headers
        assert all(header["required"] == (status != "503") for header in headers.values())
    examples = operation["responses"]["502"]["content"]["application/json"]["examples"]
    assert examples["upstream_invalid_data"]["value"] == {
        "error": "Received invalid data structure from video service."}


def test_api_key_vendors_have_path_and_query_parameters(client):
    socialfetch = served(client, "socialfetch")
    videos = socialfetch["paths"]["/v1/tiktok/profiles/{handle}/videos"]["get"]
    where = {(p["name"], p["in"]) for p in videos["parameters"]}
    assert {("handle", "path"), ("sortBy", "query"), ("cursor", "query"),
            ("trim", "query")} <= where
    assert socialfetch["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey", "in": "header", "name": "x-api-key",
        "description": "API key (sfk_...)."}
    assert "Retry-After" in videos["responses"]["503"]["headers"]
    gateway = served(client, "gateway")
    video = gateway["paths"]["/dev/tiktok/video/{userHandle}/{videoId}"]["get"]
    assert [p["name"] for p in video["parameters"]] == ["userHandle", "videoId"]
    assert set(video["responses"]) >= {"403", "404", "429", "502", "504"}
    assert video["responses"]["404"]["headers"]["x-amzn-RequestId"]["required"] is True


def test_components_are_the_schema_documents_unchanged(client, app):
    schemas = app.state.mock.schemas.documents
    components = served(client, "dumpling")["components"]["schemas"]
    profile = schemas["dumpling/profile.200"]
    assert components["profile.200"]["properties"]["user"] == profile["properties"]["user"]
    assert components["profile.200.item"] == profile["$defs"]["item"]
    assert components["profile.200"]["properties"]["itemList"]["items"] == {
        "$ref": "#/components/schemas/profile.200.item"}
    assert components["error"] == {k: v for k, v in schemas["dumpling/error"].items()
                                   if k not in ("$id", "$schema")}


def test_unknown_vendor_is_a_404(client):
    response = client.get("/__mock/openapi/twitter.json")
    assert response.status_code == 404
    assert "dumpling" in response.json()["error"]


def test_cli_writes_the_served_document(client, tmp_path, capsys):
    target = tmp_path / "gateway.json"
    assert main(["openapi", "gateway", "-o", str(target)]) == 0
    written, served_document = json.loads(target.read_text()), served(client, "gateway")
    assert written["servers"] == [{"url": "http://127.0.0.1:8080",
                                   "description": "mockserver serve (default host and port)"}]
    assert {**written, "servers": None} == {**served_document, "servers": None}
    assert main(["openapi", "twitter"]) == 2
    assert "unknown vendor 'twitter'" in capsys.readouterr().err
