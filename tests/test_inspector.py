"""The inspector at /__mock/ui, driven in a real headless Chromium (Debian's chromium and
chromedriver, no driver download), on a mock guarded by an admin token: opened with the
token in its address, it shows a request made by the test, arms a scenario that the next
request meets, moves the clock, and sends the token on every admin call.
The same run takes the screenshot the README shows: into docs/inspector.png when that file
is missing or MOCKSERVER_UPDATE_SCREENSHOT=1 (so an ordinary run leaves the checkout
clean), else into the test's temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.calls import call, journal

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "inspector.png"
TOKEN = "inspector-test-token"
WAIT = 10  # seconds; the page polls once a second

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    # .ci/run installs both and sets MOCKSERVER_REQUIRE_BROWSER, so CI never skips this
    if os.environ.get("MOCKSERVER_REQUIRE_BROWSER"):
        raise RuntimeError(f"no {CHROMIUM} or {CHROMEDRIVER}: apt-get install chromium "
                           "chromium-driver")
    pytest.skip("Debian's chromium and chromium-driver are not installed",
                allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


class AdminCalls:
    """ASGI wrapper noting the admin token header of every admin API call the browser made
    (the test's own calls, by httpx, are told apart by their user agent)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tokens: list[bytes | None] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/__mock/") and \
                not path.startswith("/__mock/ui"):
            headers = dict(scope["headers"])
            if b"Chrome" in headers.get(b"user-agent", b""):
                self.tokens.append(headers.get(b"x-mock-admin-token"))
        await self.app(scope, receive, send)


@pytest.fixture
def served() -> Iterator[tuple[ServerThread, AdminCalls]]:
    # a running clock, which the page freezes; a control plane guarded by an admin token
    app = create_app(Settings.load({"admin_token": TOKEN}, env={}))
    spy = AdminCalls(app)
    server = ServerThread(spy)  # type: ignore[arg-type]
    with server:
        yield server, spy


@pytest.fixture
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1440,1500", "--hide-scrollbars"):
        options.add_argument(argument)
    # the driver's path given: Selenium Manager never runs, nothing is downloaded
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, check: Any, message: str) -> Any:
    """Poll ``check`` until it is truthy; the page redraws a panel when its data changes,
    so an element found a moment ago may be gone: look again."""
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)
                         ).until(check, message)


def text_of(driver: Any, selector: str) -> str:
    """The text of the first element ``selector`` finds, "" while there is none."""
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""


def click(driver: Any, selector: str) -> None:
    def clicked(d: Any) -> bool:
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True
    wait_for(driver, clicked, f"could not click {selector}")


def test_the_inspector_shows_arms_and_moves_the_mock(served, browser, tmp_path):
    server, spy = served
    browser.get(f"{server.url}/__mock/ui?token={TOKEN}")
    assert browser.title == "mockserver inspector"
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#arm-scenario option"),
             "the scenario catalogue never loaded")

    # the page's files need no token; the admin API it reads does
    assert httpx.get(f"{server.url}/__mock/requests", timeout=10).status_code == 401
    with httpx.Client(base_url=server.url, timeout=10,
                      headers={"X-Mock-Admin-Token": TOKEN}) as http:
        # a request made by the test appears in the journal, with its bodies on a click
        assert call(http, "dumpling").status_code == 200
        request_id = journal(http)[0]["request_id"]
        entry = f'tr.entry[data-request-id="{request_id}"]'
        shown = wait_for(browser, lambda d: text_of(d, entry),
                         "the request never appeared in the journal")
        assert shown.split()[1:4] == ["200", "dumpling", "profile"]
        click(browser, entry)
        body = wait_for(browser, lambda d: text_of(d, ".response-body"),
                        "the row did not open")
        assert "Dave Portnoy" in body

        # arm a scenario from the page; the next request fails with it, the one after not
        Select(browser.find_element(By.ID, "arm-vendor")).select_by_value("dumpling")
        Select(browser.find_element(By.ID, "arm-route")).select_by_value("profile")
        Select(browser.find_element(By.ID, "arm-scenario")).select_by_value(
            "upstream_rate_limited")
        click(browser, "#arm-button")
        wait_for(browser, lambda d: "upstream_rate_limited" in d.find_element(
            By.ID, "armed").text, "the armed scenario never showed")
        failed = call(http, "dumpling")
        assert failed.status_code == 503
        assert failed.json() == {
            "error": "Rate limit exceeded with the profile service. Please try again later."}
        assert call(http, "dumpling").status_code == 200
        wait_for(browser, lambda d: "nothing armed" in d.find_element(By.ID, "armed").text,
                 "the spent scenario still shows as armed")
        wait_for(browser, lambda d: "upstream_rate_limited" in d.find_element(
            By.ID, "journal").text, "the failed request never showed")

        # move the clock: freeze it, then a day on
        click(browser, "#clock-freeze")
        wait_for(browser, lambda d: d.find_element(By.ID, "clock-state").text == "frozen",
                 "the clock never froze")
        before = http.get("/__mock/clock").json()
        assert before["frozen"] is True
        seconds = browser.find_element(By.ID, "clock-seconds")
        seconds.clear()
        seconds.send_keys("86400")
        click(browser, "#clock-advance")
        wait_for(browser, lambda d: http.get("/__mock/clock").json()["unix"] != before["unix"],
                 "the clock never moved")
        after = http.get("/__mock/clock").json()
        assert after["unix"] == pytest.approx(before["unix"] + 86400)
        wait_for(browser, lambda d: d.find_element(By.ID, "clock-now").text == after["now"],
                 "the page never showed the new time")

        # the coverage matrix counts the 503 the test met (a few more calls, for the picture)
        assert call(http, "socialfetch", "videos", params={"sortBy": "popular"}
                    ).status_code == 200
        assert call(http, "gateway").status_code == 200
        assert call(http, "dumpling", body={"handle": "stoolpresidente", "colour": "red"}
                    ).status_code == 200
        wait_for(browser, lambda d: [
            row for row in d.find_elements(By.CSS_SELECTOR, 'table[data-vendor="dumpling"] tr')
            if row.text.startswith("503 upstream rate limited")
            and row.find_elements(By.CSS_SELECTOR, "td.met")], "the 503 never showed as met")

    update = os.environ.get("MOCKSERVER_UPDATE_SCREENSHOT") or not SCREENSHOT.exists()
    screenshot = SCREENSHOT if update else tmp_path / SCREENSHOT.name
    screenshot.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 10_000
    # every admin call the page made (reads and changes) carried the token it was opened with
    assert len(spy.tokens) > 10 and set(spy.tokens) == {TOKEN.encode()}
