"""``mockserver validate`` and ``validate_payload``: the vendor pages' examples keep the
contract; a changed copy is caught at the path of the change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver.cli import main
from mockserver.validate import UnknownContract, validate_payload
from tests.conftest import dumpling

DATA = Path(__file__).parent / "data" / "dumpling"
ROUTES = ("profile", "videos", "video")  # examples copied from seeds 001, 000 and 003


def example(name: str):
    return json.loads((DATA / f"{name}.json").read_text())


@pytest.mark.parametrize("route", ROUTES)
def test_each_page_example_body_is_valid(route, capsys):
    assert main(["validate", "--vendor", "dumpling", "--route", route, "--response", "200",
                 str(DATA / f"{route}.200.json")]) == 0
    assert capsys.readouterr().out.strip().endswith(": valid")
    assert main(["validate", "--vendor", "dumpling", "--route", route, "--request",
                 str(DATA / f"{route}.request.json")]) == 0


@pytest.mark.parametrize("route", ROUTES)
def test_each_page_error_example_is_valid_for_its_status(route):
    for status, body in example(f"{route}.errors").items():
        assert validate_payload("dumpling", route, body, status=int(status)) == [], status


@pytest.mark.parametrize(("route", "change", "path"), [
    ("profile", lambda d: d["stats"].update(followerCount="4.1M"), "$.stats.followerCount"),
    ("profile", lambda d: d["user"].pop("secUid"), "$.user"),
    ("videos", lambda d: d["aweme_list"][0]["statistics"].update(play_count=-1),
     "$.aweme_list[0].statistics.play_count"),
    ("video", lambda d: d["video"].update(duration=15.5), "$.video.duration"),
])
def test_a_mutated_copy_is_rejected_at_the_path_of_the_change(route, change, path, tmp_path,
                                                              capsys):
    document = example(f"{route}.200")
    change(document)
    mutated = tmp_path / "mutated.json"
    mutated.write_text(json.dumps(document))
    assert main(["validate", "--vendor", "dumpling", "--route", route, "--response", "200",
                 str(mutated)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("1 violation")
    assert out[1].strip().startswith(f"{path}: ")


def test_request_documents_and_bare_bodies():
    document = {"headers": {"authorization": "Token abc"}, "body": {"handle": ""}}
    paths = [v.path for v in validate_payload("dumpling", "profile", document, request=True)]
    # an empty handle is both too short and outside the handle pattern
    assert list(dict.fromkeys(paths)) == ["$.body.handle", "$.headers.authorization"]
    assert [v.path for v in validate_payload("dumpling", "video", {}, request=True)] == ["$"]
    gateway = {"path": {"userHandle": "someone", "videoId": "12ab"},
               "headers": {"x-api-key": "k" * 24}}
    assert [v.path for v in validate_payload("gateway", "video", gateway, request=True)] == [
        "$.path.videoId"]


def test_an_undocumented_status_and_a_wrong_error_envelope():
    violations = validate_payload("dumpling", "profile", {"error": "teapot"}, status=418)
    assert [v.path for v in violations] == ["$"]
    assert "418 is not documented" in violations[0].message
    wrong = validate_payload("socialfetch", "profile", {"error": "Not found"}, status=500)
    assert [v.path for v in wrong] == ["$.error"]


def test_the_mocks_own_answers_keep_the_contract(client):
    body = dumpling(client, "get-tiktok-profile", {"handle": "stoolpresidente"}).json()
    assert validate_payload("dumpling", "profile", body) == []
    error = dumpling(client, "get-tiktok-profile", {"handle": "stoolpresidente"}, key=None)
    assert validate_payload("dumpling", "profile", error.json(), status=error.status_code) == []


@pytest.mark.parametrize("args", [
    ["--vendor", "twitter", "--route", "profile", "--response", "200"],
    ["--vendor", "dumpling", "--route", "feed", "--response", "200"],
    ["--vendor", "dumpling", "--route", "profile", "--response", "302"],
])
def test_unknown_contracts_are_usage_errors(args, capsys):
    assert main(["validate", *args, str(DATA / "profile.200.json")]) == 2
    assert capsys.readouterr().err.startswith("mockserver: ")
    with pytest.raises(UnknownContract):
        validate_payload(args[1], args[3], {}, status=int(args[5]))


def test_unreadable_or_non_json_files_are_usage_errors(tmp_path, capsys):
    route = ["validate", "--vendor", "dumpling", "--route", "profile", "--response", "200"]
    assert main([*route, str(tmp_path / "missing.json")]) == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{'user': }")
    assert main([*route, str(broken)]) == 2
    assert "is not JSON" in capsys.readouterr().err
