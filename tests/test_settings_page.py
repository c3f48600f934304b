"""The settings page in a real browser: Debian's chromium driven by Playwright.

Connect Linear against the local Linear stand-in, see it healthy with its
account, switch it off for a project and see the API and ``navi-int list``
agree, disconnect; screenshots at laptop and phone widths go to
``tests/screenshots/`` (or ``$NAVI_SCREENSHOTS``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from navi_integrations.testing import LocalHTTPServer

from .cli_helpers import navi
from .provider_apis import LINEAR_KEY, apis, serve
from .server_harness import Running, running_server

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("NAVI_SCREENSHOTS", Path(__file__).parent / "screenshots"))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        found = playwright.chromium.launch(
            executable_path=CHROMIUM, args=FLAGS, headless=True, timeout=60_000
        )
        try:
            yield found
        finally:
            found.close()


@pytest.fixture
def server(
    navi_home: Path, local_http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Running]:
    serve(local_http_server, apis(local_http_server.url)["linear"], monkeypatch)
    with running_server() as running:
        yield running


def test_connect_switch_and_disconnect_linear_in_the_browser(server: Running, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    expect = sync_api.expect
    link = f"{server.url}/login?code={server.settings.sessions.new_code()}"
    page.goto(link)
    page.wait_for_selector("body[data-live=yes]")  # rendered, and following /api/events
    expect(page.get_by_role("heading", name="Available")).to_be_visible()

    # Connect: a wrong key first (nothing saved, the reason and the fix shown), then the right one.
    page.get_by_role("button", name="Connect Linear").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Open Linear's security settings")).to_be_visible()
    key = dialog.get_by_label("Personal API key")
    expect(key).to_be_focused()
    key.fill(LINEAR_KEY[:-2] + "zz")
    dialog.get_by_role("button", name="Test and save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Saved nothing")
    key.fill(LINEAR_KEY)
    dialog.get_by_role("button", name="Test and save").click()
    expect(dialog).to_be_hidden()
    card = page.locator("#connected article[data-provider=linear]")
    expect(card.get_by_text("Connected as ada@example.com")).to_be_visible()
    expect(card.locator("[data-health=healthy]")).to_be_visible()
    page.screenshot(path=str(SHOTS / "settings-laptop.png"), full_page=True)

    # Switch it off for one project: the API and navi-int list agree.
    page.goto(f"{server.url}/?project=acme")
    page.wait_for_selector("body[data-live=yes]")
    card = page.locator("#connected article[data-provider=linear]")
    project_switch = card.get_by_role("switch", name="This project")
    expect(project_switch).to_be_checked()
    expect(card.get_by_text("inherits Global")).to_be_visible()
    project_switch.uncheck()
    expect(card.get_by_text("set for this project")).to_be_visible()
    expect(card.get_by_role("switch", name="Global")).to_be_checked()
    with server.client() as client:
        entry = client.get("/api/integrations/linear/status?projectId=acme").json()
    assert entry["status"]["project"]["enabled"] is False
    assert entry["status"]["global"]["enabled"] is True
    listed = json.loads(navi("list", "--project", "acme", "--json").stdout)
    assert next(e for e in listed["integrations"] if e["provider"] == "linear") == entry

    # A change made elsewhere (the CLI) shows up without reloading.
    assert navi("enable", "linear", "--project", "acme").returncode == 0
    expect(project_switch).to_be_checked(timeout=5_000)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone_page = phone.new_page()
    phone_page.goto(f"{server.url}/login?code={server.settings.sessions.new_code()}")
    phone_page.wait_for_selector("body[data-live=yes]")
    phone_page.screenshot(path=str(SHOTS / "settings-phone.png"), full_page=True)
    phone.close()

    card.get_by_role("button", name="Disconnect Linear").click()
    expect(page.locator("#available article[data-provider=linear]")).to_be_visible()
    with server.client() as client:
        assert client.get("/api/credentials/linear").json()["hasCredentials"] is False
    context.close()
    assert (SHOTS / "settings-laptop.png").stat().st_size > 10_000
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
