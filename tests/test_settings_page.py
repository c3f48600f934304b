"""The settings page in a real browser: Debian's chromium driven by Playwright.

Connect Linear against the local Linear stand-in, see it healthy with its
account, switch it off for a project and see the API and ``navi-int list``
agree, disconnect; each card shows its plugin's icon, or the name's initial;
screenshots at laptop and phone widths go to ``tests/screenshots/`` (or
``$NAVI_SCREENSHOTS``). Every test fails on anything the browser reports: a
console error, an uncaught exception, a failed request or a response >= 400
(:class:`Console`; a test names the refusals it provokes).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from navi_integrations.testing import LocalHTTPServer

from .cli_helpers import navi
from .conftest import InstallFn
from .icon_plugins import REFUSED, install_icon_plugin
from .oauth_harness import OAuthServer
from .provider_apis import LINEAR_KEY, SLACK_TOKEN, apis, serve
from .server_harness import Running, running_server
from .test_oauth import CLIENT_ID, CLIENT_SECRET

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


@dataclass
class _Expected:
    method: str
    path: str
    status: int
    seen: int = 0


@dataclass
class Console:
    """Everything that went wrong in the browser: console errors, uncaught exceptions, failed
    requests and responses >= 400, from every page of every context it watches (popups too).

    A test fails on any of them (:meth:`check`), except a response it announced with
    :meth:`expecting` (and the console line Chromium writes for it), which must then happen.
    """

    problems: list[str] = field(default_factory=list)
    expected: list[_Expected] = field(default_factory=list)

    def watch(self, context: Any) -> Any:
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"page error: {error.error}"))
        context.on("requestfailed", self._failed)
        context.on("response", self._response)
        return context

    def _expected(self, method: str | None, url: str, status: int) -> _Expected | None:
        path = urlsplit(url).path
        for item in self.expected:
            if (item.path, item.status) == (path, status) and method in (None, item.method):
                return item
        return None

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        status = re.search(r"status of (\d{3})", message.text)
        url = (message.location or {}).get("url", "")
        if status and self._expected(None, url, int(status.group(1))):
            return  # Chromium's line for an expected response
        self.problems.append(f"console error: {message.text} ({url})")

    def _failed(self, request: Any) -> None:
        failure = request.failure or ""
        # Leaving a page (a navigation, a closing popup) aborts its event stream: not an error.
        if failure == "net::ERR_ABORTED" and urlsplit(request.url).path.endswith("/api/events"):
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _response(self, response: Any) -> None:
        if response.status < 400:
            return
        method = response.request.method
        item = self._expected(method, response.url, response.status)
        if item is not None:
            item.seen += 1
            return
        self.problems.append(f"HTTP {response.status}: {method} {response.url}")

    @contextmanager
    def expecting(self, method: str, path: str, status: int) -> Iterator[None]:
        """Allow (and require) ``status`` from ``method path`` inside the block."""
        item = _Expected(method, path, status)
        self.expected.append(item)
        try:
            yield
        finally:
            self.expected.remove(item)
        assert item.seen, f"expected HTTP {status} from {method} {path}"

    def check(self) -> None:
        """Fail on anything that went wrong so far."""
        found, self.problems = self.problems, []
        assert not found, "the browser reported:\n" + "\n".join(found)


@pytest.fixture
def console() -> Iterator[Console]:
    """Watches the browser contexts a test opens; the test fails on anything they report."""
    watcher = Console()
    yield watcher
    watcher.check()


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


def test_connect_switch_and_disconnect_linear_in_the_browser(
    server: Running, browser: Any, console: Console
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = console.watch(browser.new_context(viewport={"width": 1280, "height": 900}))
    page = context.new_page()
    expect = sync_api.expect
    link = f"{server.url}/login?code={server.settings.sessions.new_code()}"
    page.goto(link)
    page.wait_for_selector("body[data-live=yes]")  # rendered, and following /api/events
    expect(page.get_by_role("heading", name="Available")).to_be_visible()

    # Connect: a wrong key first (nothing saved, the reason and the fix shown), then the right one.
    page.get_by_role("button", name="Connect Linear", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Open Linear's security settings")).to_be_visible()
    key = dialog.get_by_label("Personal API key")
    expect(key).to_be_focused()
    key.fill(LINEAR_KEY[:-2] + "zz")
    with console.expecting("POST", "/api/credentials/linear", 422):  # the refusal is the answer
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
    expect(card.get_by_text("on (inherited)")).to_have_count(3)  # This project, MCP, Skill
    project_switch.uncheck()
    expect(card.get_by_text("set for this project")).to_be_visible()
    expect(card.get_by_role("switch", name="Global")).to_be_checked()
    with server.client() as client:
        entry = client.get("/api/integrations/linear/status?projectId=acme").json()
    assert entry["status"]["project"]["enabled"] is False
    assert entry["status"]["global"]["enabled"] is True
    listed = json.loads(navi("list", "--project", "acme", "--json").stdout)
    assert next(e for e in listed["integrations"] if e["provider"] == "linear") == entry

    # Each switch reads on one line: switch, name, inherited value, reset.
    for row in card.locator(".toggle").all():
        box = row.bounding_box()
        assert box is not None and box["height"] <= 40, box

    # A change made elsewhere (the CLI) shows up without reloading.
    assert navi("enable", "linear", "--project", "acme").returncode == 0
    expect(project_switch).to_be_checked(timeout=5_000)
    # Set (on) for the project, it stays on when Global goes off, until reset to inherit.
    card.get_by_role("switch", name="Global").uncheck()
    expect(card.get_by_text("off (inherited)")).to_have_count(0)
    expect(project_switch).to_be_checked()
    card.get_by_role("button", name="Linear This project: inherit again").click()
    expect(project_switch).not_to_be_checked()
    expect(card.get_by_text("off (inherited)")).to_be_visible()
    card.get_by_role("switch", name="Global").check()
    expect(project_switch).to_be_checked()

    phone = console.watch(
        browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    )
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
    console.check()


def test_a_revoked_key_offers_reconnect_and_reconnecting_heals_the_card(
    server: Running, browser: Any, console: Console
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    revoked = "lin_api_" + "Rev0kedKey" * 4
    server.service.connect("linear", {"apiKey": revoked}, test=False)
    context = console.watch(browser.new_context(viewport={"width": 1280, "height": 900}))
    page = context.new_page()
    expect = sync_api.expect
    page.goto(f"{server.url}/login?code={server.settings.sessions.new_code()}")
    page.wait_for_selector("body[data-live=yes]")
    card = page.locator("#connected article[data-provider=linear]")
    card.get_by_role("button", name="Test Linear").click()

    # The advice is a button that does it; the command is only a hint, and no "Run:".
    reconnect = card.get_by_role("button", name="Reconnect: Linear")
    expect(reconnect).to_be_visible()
    expect(card.locator(".terminal-hint")).to_have_text("or in a terminal: navi-int connect linear")
    expect(card.get_by_text("Run:")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "settings-reconnect-laptop.png"), full_page=True)
    reconnect.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Connect Linear")).to_be_visible()
    dialog.get_by_label("Personal API key").fill(LINEAR_KEY)
    dialog.get_by_role("button", name="Test and save").click()
    expect(dialog).to_be_hidden()
    expect(card.locator("[data-health=healthy]")).to_be_visible()
    expect(card.get_by_text("Connected as ada@example.com")).to_be_visible()
    expect(card.get_by_role("button", name="Reconnect: Linear")).to_have_count(0)
    context.close()
    console.check()


def test_a_project_is_chosen_from_the_ones_the_store_knows(
    server: Running, browser: Any, console: Console
) -> None:
    server.service.connect("linear", {"apiKey": LINEAR_KEY}, project_id="acme", test=False)
    server.service.connect("slack", {"botToken": SLACK_TOKEN, "teamId": "T0123ABCD"}, test=False)
    server.service.disable("slack", project_id="beta")
    context = console.watch(browser.new_context(viewport={"width": 1280, "height": 900}))
    page = context.new_page()
    expect = sync_api.expect
    page.goto(f"{server.url}/login?code={server.settings.sessions.new_code()}")
    page.wait_for_selector("body[data-live=yes]")
    chooser = page.get_by_label("Project", exact=True)
    options = chooser.locator("option").all_inner_texts()
    assert options == ["All projects", "acme", "beta", "New project id…"]
    chooser.select_option("beta")
    page.wait_for_url(re.compile(r"\?project=beta$"))
    page.wait_for_selector("body[data-live=yes]")
    expect(page.get_by_label("Project", exact=True)).to_have_value("beta")
    slack = page.locator("article[data-provider=slack]")
    expect(slack.get_by_text("set for this project")).to_be_visible()

    # A new id: refused by the pattern the CLI uses, then taken and kept in the URL.
    page.get_by_label("Project", exact=True).select_option("__new__")
    typed = page.get_by_label("New project id")
    expect(typed).to_be_focused()
    typed.fill("not a project!")
    page.get_by_role("button", name="Show").click()
    assert "project=beta" in page.url  # nothing happened
    typed.fill("gamma")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"\?project=gamma$"))
    page.wait_for_selector("body[data-live=yes]")
    expect(page.get_by_label("Project", exact=True)).to_have_value("gamma")
    # The server checks too: a link with a bad id says so and shows the default scope.
    page.goto(f"{server.url}/?project=__new__&new=bad%20id")
    expect(page.get_by_role("alert")).to_contain_text("Not a project id")
    context.close()
    console.check()


@pytest.fixture
def google_server(navi_home: Path, oauth_server: OAuthServer) -> Iterator[Running]:
    with running_server() as running:
        yield running


def test_connect_google_in_a_popup(google_server: Running, browser: Any, console: Console) -> None:
    context = console.watch(browser.new_context(viewport={"width": 1280, "height": 900}))
    page = context.new_page()
    expect = sync_api.expect
    page.goto(f"{google_server.url}/login?code={google_server.settings.sessions.new_code()}")
    page.wait_for_selector("body[data-live=yes]")
    page.get_by_role("button", name="Connect Google").click()
    dialog = page.get_by_role("dialog")
    # The OAuth app is a step of its own; the services are chosen with checkboxes.
    expect(dialog.get_by_role("group", name="1. Your OAuth app")).to_be_visible()
    dialog.get_by_label("OAuth client ID").fill(CLIENT_ID)
    dialog.get_by_label("OAuth client secret").fill(CLIENT_SECRET)
    for name in ("Sheets", "Drive", "Calendar"):
        dialog.get_by_role("checkbox", name=name).uncheck()
    expect(dialog.get_by_role("checkbox", name="Gmail")).to_be_checked()
    with page.expect_popup() as opened:
        dialog.get_by_role("button", name="Sign in").click()
    popup = opened.value
    # The consent page sends the popup back to this server, which stores, tells the page
    # and closes the popup; the card turns connected.
    popup.wait_for_event("close", timeout=30_000)
    card = page.locator("#connected article[data-provider=google]")
    expect(card.get_by_text("Connected as johndoe@example.com")).to_be_visible()
    expect(card.locator("[data-health=healthy]")).to_be_visible()
    expect(page.locator("#announce")).to_have_text("Connected Google as johndoe@example.com.")
    with google_server.client() as client:
        assert client.get("/api/credentials/google").json()["account"] == "johndoe@example.com"
    services = card.get_by_role("list", name="Google services")
    expect(services.locator("li.granted")).to_have_text(["✓ Gmail"])
    expect(services.locator("li.missing")).to_have_count(3)

    # Adding Sheets asks only for it, with the saved OAuth app (no client fields shown).
    card.get_by_role("button", name="Edit Google").click()
    expect(dialog.get_by_text("Uses the OAuth app you saved")).to_be_visible()
    expect(dialog.get_by_label("OAuth client ID")).to_be_hidden()
    gmail = dialog.get_by_role("checkbox", name="Gmail (granted)")
    expect(gmail).to_be_checked()
    expect(gmail).to_be_disabled()
    dialog.get_by_role("checkbox", name="Sheets").check()
    for name in ("Drive", "Calendar"):
        dialog.get_by_role("checkbox", name=name).uncheck()
    begun = "/api/credentials/google/oauth"
    with (
        page.expect_response(lambda r: urlsplit(r.url).path == begun) as answered,
        page.expect_popup() as opened,
    ):
        dialog.get_by_role("button", name="Sign in").click()
    second = opened.value
    url = answered.value.json()["authorizationUrl"]
    asked = parse_qs(urlsplit(url).query)["scope"][0].split()
    assert any("spreadsheets" in s for s in asked) and not any("gmail" in s for s in asked)
    second.wait_for_event("close", timeout=30_000)
    expect(services.locator("li.granted")).to_have_text(["✓ Gmail", "✓ Sheets"])
    page.screenshot(path=str(SHOTS / "settings-google-laptop.png"), full_page=True)
    context.close()
    console.check()


@pytest.fixture
def icon_server(
    navi_home: Path, install_plugin: InstallFn, tmp_path: Path, local_http_server: LocalHTTPServer
) -> Iterator[Running]:
    remote = f"{local_http_server.url}/remote.svg"
    install_icon_plugin(install_plugin, tmp_path / "site", remote_url=remote)
    with running_server() as running:
        yield running


def test_each_card_shows_its_plugins_icon_or_its_initial(
    icon_server: Running, browser: Any, console: Console, local_http_server: LocalHTTPServer
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = console.watch(browser.new_context(viewport={"width": 1280, "height": 900}))
    page = context.new_page()
    expect = sync_api.expect
    page.goto(f"{icon_server.url}/login?code={icon_server.settings.sessions.new_code()}")
    page.wait_for_selector("body[data-live=yes]")
    expect(page.locator('link[rel=icon][href="favicon.svg"]')).to_have_count(1)

    # The plugin's own SVG, served by this server, loaded as an image.
    card = page.locator("#available article[data-provider=iconic]")
    image = card.locator("img[data-icon=image]")
    expect(image).to_have_attribute("src", re.compile(r"^/api/providers/iconic/icon\?v=\w+$"))
    expect(image).to_have_attribute("alt", "")
    page.wait_for_function(
        "() => { const i = document.querySelector('article[data-provider=iconic] img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert image.evaluate("i => i.naturalWidth") > 0
    expect(card.locator("[data-icon=letter]")).to_have_count(0)

    # No icon, a URL (never fetched, by the server or the page) and refused files: the initial.
    for provider_id in ["plain", "remote", *REFUSED, "bad-absolute"]:
        other = page.locator(f"article[data-provider={provider_id}]")
        expect(other.locator("[data-icon=letter]")).to_have_text(provider_id[0].upper())
        expect(other.locator("img")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "settings-icons.png"), full_page=True)
    assert local_http_server.requests == []

    # An icon that does not load falls back to the initial (an event listener: the page's
    # CSP allows no inline handler).
    page.route(
        "**/api/providers/iconic/icon*",
        lambda route: route.fulfill(status=200, content_type="image/svg+xml", body="no svg"),
    )
    page.reload()
    page.wait_for_selector("body[data-live=yes]")
    expect(card.locator("[data-icon=letter]")).to_have_text("I")
    expect(card.locator("img")).to_have_count(0)
    context.close()
    assert local_http_server.requests == []
    console.check()


def test_a_card_lists_its_accounts_and_a_project_picks_one(
    server: Running, browser: Any, console: Console
) -> None:
    server.service.connect("linear", {"apiKey": LINEAR_KEY}, account="work", test=False)
    other = "lin_api_" + "H0me" * 10
    server.service.connect("linear", {"apiKey": other}, account="home", test=False)
    context = console.watch(browser.new_context(viewport={"width": 1280, "height": 900}))
    page = context.new_page()
    expect = sync_api.expect
    page.goto(f"{server.url}/login?code={server.settings.sessions.new_code()}")
    page.wait_for_selector("body[data-live=yes]")
    page.goto(f"{server.url}/?project=acme")
    page.wait_for_selector("body[data-live=yes]")
    card = page.locator("article[data-provider=linear]")
    accounts = card.get_by_label("Linear accounts")
    expect(accounts.locator("li[data-account=work]")).to_contain_text("(in use)")
    card.get_by_role("button", name="Use Linear account home").click()
    expect(accounts.locator("li[data-account=home]")).to_contain_text("(in use)")
    # the binding is the project's: the user scope keeps its default
    assert server.service.get_token("linear", project_id="acme").value.get_secret_value() == other
    assert server.service.get_token("linear").value.get_secret_value() == LINEAR_KEY
    assert other not in page.content() and LINEAR_KEY not in page.content()
    context.close()
    console.check()
