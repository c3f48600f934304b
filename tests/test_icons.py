"""Provider icons: the SVG a plugin ships, checked when it loads, served over real HTTP with a
safe content type; no icon, a URL (never fetched) and every refused file give the initial,
and each refusal is a load problem the user sees (``navi-int plugins``)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from navi_integrations import IntegrationProvider, Registry
from navi_integrations.plugins.icons import MAX_BYTES, IconRefused, check_svg, resolve
from navi_integrations.testing import LocalHTTPServer

from .cli_helpers import navi
from .conftest import InstallFn
from .icon_plugins import GOOD_SVG, REFUSED, install_icon_plugin
from .server_harness import Running, running_server

SECURITY_HEADERS = {
    "content-type": "image/svg+xml",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
}


@pytest.fixture
def iconic(
    navi_home: Path,
    install_plugin: InstallFn,
    tmp_path: Path,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The navi-iconic plugin installed (also for `navi-int` processes, via PYTHONPATH)."""
    site = tmp_path / "site"
    icons = install_icon_plugin(install_plugin, site, remote_url=f"{local_http_server.url}/x.svg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    return icons


@pytest.fixture
def server(iconic: dict[str, str]) -> Iterator[Running]:
    with running_server() as running:
        yield running


def _problems(registry: Registry) -> dict[str, str]:
    """The icon problems, by provider id."""
    found = {}
    for problem in registry.problems():
        for pid in [*REFUSED, "bad-absolute"]:
            if f"of provider '{pid}' is refused" in problem.message:
                found[pid] = problem.message
    return found


def _documents(client: Any) -> dict[str, Any]:
    return {p["id"]: p for p in client.get("/api/credentials/providers").json()["providers"]}


# -- loading: the registry finds and checks each icon once --------------------------------


def test_a_plugins_svg_is_read_relative_to_its_module(iconic: dict[str, str]) -> None:
    registry = Registry().load()
    icon = registry.icon("iconic")
    assert icon is not None and icon.data == GOOD_SVG
    assert icon.path.name == "iconic.svg" and icon.path.parent.name == "icons"
    assert registry.get("iconic").icon == "icons/iconic.svg"  # the declared value is kept
    assert registry.icon("plain") is None and registry.icon("remote") is None
    assert not any("'iconic'" in p.message or "'plain'" in p.message for p in registry.problems())
    assert not any("'remote'" in p.message for p in registry.problems())  # a URL: no problem


@pytest.mark.parametrize("provider_id", [*REFUSED, "bad-absolute"])
def test_a_refused_icon_is_a_load_problem_and_the_provider_still_loads(
    iconic: dict[str, str], provider_id: str
) -> None:
    registry = Registry().load()
    assert registry.get(provider_id).name  # loaded
    assert registry.icon(provider_id) is None
    message = _problems(registry)[provider_id]
    why = REFUSED[provider_id][2] if provider_id in REFUSED else "is an absolute path"
    assert why in message, message
    assert f"the icon '{iconic[provider_id]}'" in message
    assert "the settings page shows its initial instead" in message
    [problem] = [p for p in registry.problems() if p.message == message]
    assert problem.distribution == "navi-iconic"


def test_refusals_are_shown_by_navi_int_plugins(iconic: dict[str, str]) -> None:
    listed = navi("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    errors = [e["error"] for e in json.loads(listed.stdout)["errors"]]
    for provider_id, (_name, _data, why) in REFUSED.items():
        assert any(f"provider '{provider_id}' is refused" in e and why in e for e in errors), why
    text = navi("plugins").stdout
    assert "Load errors:" in text and "of provider 'bad-script' is refused" in text


def test_a_symbolic_link_out_of_the_plugin_or_a_special_file_is_refused(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (tmp_path / "secret.svg").write_bytes(GOOD_SVG)
    (plugin / "icon.svg").symlink_to(tmp_path / "secret.svg")
    with pytest.raises(IconRefused, match="out of the plugin's directory"):
        resolve("icon.svg", plugin)
    (plugin / "inside.svg").write_bytes(GOOD_SVG)
    (plugin / "alias.svg").symlink_to(plugin / "inside.svg")
    found = resolve("alias.svg", plugin)
    assert found is not None and found.data == GOOD_SVG
    (plugin / "folder.svg").mkdir()
    os.mkfifo(plugin / "pipe.svg")
    for name in ("folder.svg", "pipe.svg"):
        with pytest.raises(IconRefused, match="is not a regular file"):
            resolve(name, plugin)


def test_paths_and_urls() -> None:
    assert resolve("", None) is None
    assert resolve("https://example.com/x.svg", None) is None  # accepted, never fetched
    for icon, why in [
        ("/etc/passwd", "absolute"),
        ("C:\\icons\\x.svg", "absolute"),
        ("data:image/svg+xml,<svg/>", "neither a path nor an http(s) URL"),
        ("file:///etc/passwd", "neither a path nor an http(s) URL"),
        ("a/../../x.svg", "leaves the plugin's directory"),
        ("icons\\x.svg", "'/'"),
        ("icon.svg", "without a plugin module"),
    ]:
        with pytest.raises(IconRefused, match=re.escape(why)):
            resolve(icon, None)


@pytest.mark.parametrize(
    ("svg", "why"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" to="javascript:x"/>'
            b"</svg>",
            "a javascript: URL in to=",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><a href="  JaVaScRiPt:x"/></svg>',
            "javascript:",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg" ONCLICK="x"/>', "event-handler attribute"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><use href="other.svg#x"/></svg>',
            "a reference outside the icon",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://e.example/f)"/></svg>',
            "url() to a file",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://e.example/c.css";'
            b"</style></svg>",
            "a stylesheet that loads a file",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>a{b:url( x.png )}</style></svg>',
            "a stylesheet that loads a file",
        ),
        (
            b'<?xml-stylesheet href="https://e.example/c.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "processing instruction",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><h:iframe xmlns:h="http://www.w3.org/1999/xhtml"/>'
            b"</svg>",
            "an HTML element",
        ),
        (
            b'<!DOCTYPE svg SYSTEM "file:///etc/passwd"><svg xmlns="http://www.w3.org/2000/svg"/>',
            "a DOCTYPE",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg">&xxe;</svg>', "not well-formed"),
        (b"<svg><rect/></svg>", "without a namespace"),
        (b"", "not well-formed"),
        (b"\xff\xfe\x00garbage", "not well-formed"),
    ],
)
def test_svgs_that_could_run_or_load_something_are_refused(svg: bytes, why: str) -> None:
    with pytest.raises(IconRefused, match=re.escape(why)):
        check_svg(svg)


def test_the_limit_is_64_kib(tmp_path: Path) -> None:
    head, tail = b'<svg xmlns="http://www.w3.org/2000/svg"><!--', b"--></svg>"
    (tmp_path / "edge.svg").write_bytes(head + b"x" * (MAX_BYTES - len(head) - len(tail)) + tail)
    assert resolve("edge.svg", tmp_path) is not None
    (tmp_path / "over.svg").write_bytes(
        head + b"x" * (MAX_BYTES - len(head) - len(tail) + 1) + tail
    )
    with pytest.raises(IconRefused, match="larger than 64 KiB"):
        resolve("over.svg", tmp_path)


def test_a_user_provider_files_icon_is_relative_to_the_file(navi_home: Path) -> None:
    from navi_integrations.paths import custom_providers_dir

    folder = custom_providers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    toml = 'id = "{id}"\nname = "{name}"\nbase_url = "https://api.example.com"\nicon = "{icon}"\n'
    (folder / "acme.toml").write_text(toml.format(id="acme", name="Acme", icon="acme.svg"))
    (folder / "acme.svg").write_bytes(GOOD_SVG)
    (folder / "evil.toml").write_text(toml.format(id="evil", name="Evil", icon="evil.svg"))
    (folder / "evil.svg").write_bytes(REFUSED["bad-onload"][1])
    registry = Registry().load()
    icon = registry.icon("acme")
    assert icon is not None and icon.path == (folder / "acme.svg").resolve()
    assert registry.icon("evil") is None and registry.get("evil").name == "Evil"
    [problem] = [p for p in registry.problems() if "'evil'" in p.message]
    assert problem.plugin == str(folder / "evil.toml")  # the file is named
    assert "event-handler attribute onload=" in problem.message


def test_a_provider_registered_without_a_module_gets_a_problem_not_a_crash(
    navi_registry: Registry,
) -> None:
    navi_registry.register_provider(
        IntegrationProvider(
            id="direct", name="Direct", description="d", icon="icon.svg", auth_type="none"
        )
    )
    assert navi_registry.icon("direct") is None
    assert any("register_plugin" in p.message for p in navi_registry.problems())


def test_the_real_plugins_icons_are_served_or_a_url(navi_registry: Registry) -> None:
    """The five plugins: each icon is either an SVG that passes the checks or a URL (never
    fetched); none is a load problem."""
    for provider in navi_registry.providers():
        if provider.icon and not provider.icon.startswith(("http://", "https://")):
            assert navi_registry.icon(provider.id) is not None, provider.id
    assert not [p for p in navi_registry.problems() if "icon" in p.message]


# -- serving: GET /api/providers/{id}/icon over real HTTP --------------------------------


def test_the_icon_is_served_as_svg_with_a_policy_and_a_cache(server: Running) -> None:
    with server.client() as client:
        providers = _documents(client)
        url = providers["iconic"]["iconUrl"]
        assert url.startswith("/api/providers/iconic/icon?v=")
        assert providers["iconic"]["icon"] == "icons/iconic.svg"  # the PRD field, unchanged
        got = client.get(url)
        assert got.status_code == 200
        assert got.content == GOOD_SVG
        for header, value in SECURITY_HEADERS.items():
            assert got.headers[header] == value, header
        assert "max-age=3600" in got.headers["cache-control"]
        etag = got.headers["etag"]
        assert etag.strip('"') in url  # the URL changes with the bytes
        again = client.get("/api/providers/iconic/icon", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_no_icon_a_url_and_refused_files_have_no_icon_url_and_a_404(
    server: Running, local_http_server: LocalHTTPServer
) -> None:
    with server.client() as client:
        providers = _documents(client)
        for pid in ["plain", "remote", *REFUSED, "bad-absolute"]:
            assert providers[pid]["iconUrl"] is None, pid
            missing = client.get(f"/api/providers/{pid}/icon")
            assert missing.status_code == 404, pid
            document = missing.json()
            assert document["error"] == "IconNotFound" and document["message"], pid
            assert set(document) == {"error", "message", "advice"}
        refused = client.get("/api/providers/bad-script/icon").json()
        assert refused["advice"] == {
            "action": "fix_plugin",
            "command": "navi-int plugins",
            "hint": "the settings page shows the name's initial instead",
        }
        assert "never fetches" in client.get("/api/providers/remote/icon").json()["message"]
        assert providers["remote"]["icon"] == f"{local_http_server.url}/x.svg"
        unknown = client.get("/api/providers/nope/icon")
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "ProviderNotFound" and unknown.json()["message"]
    assert local_http_server.requests == []  # the URL icon was never fetched


def test_the_icon_needs_a_caller_and_the_servers_own_host(server: Running) -> None:
    import httpx

    with server.client() as client:
        path = _documents(client)["iconic"]["iconUrl"]
    with httpx.Client(base_url=server.url) as anonymous:
        refused = anonymous.get(path)
        assert refused.status_code == 401 and refused.json()["error"] == "Unauthorized"
        rebound = anonymous.get(path, headers={"Host": "evil.example"})
        assert rebound.status_code == 403 and rebound.json()["error"] == "HostNotAllowed"
    browser = server.login()  # the page's <img> carries the session cookie
    try:
        shown = browser.get(path)
        assert shown.status_code == 200 and shown.headers["content-type"] == "image/svg+xml"
    finally:
        browser.close()


def test_the_icon_route_is_in_the_openapi_schema(server: Running) -> None:
    with server.client() as client:
        schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/providers/{provider}/icon"]["get"]
    assert operation["tags"] == ["providers"]
    assert "image/svg+xml" in operation["responses"]["200"]["content"]
    assert "404" in operation["responses"]


def test_the_favicon_is_served_without_a_session(server: Running) -> None:
    import httpx

    with httpx.Client(base_url=server.url) as anonymous:
        svg = anonymous.get("/favicon.svg")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
        assert svg.headers["x-content-type-options"] == "nosniff"
        check_svg(svg.content)  # the mark passes the checks plugins' icons pass
        ico = anonymous.get("/favicon.ico")
        assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
        assert ico.content[:4] == b"\x00\x00\x01\x00"  # a real ICO
        login = anonymous.get("/").text
    assert '<link rel="icon" href="favicon.svg" type="image/svg+xml">' in login


def test_the_icon_url_follows_the_mount_point_of_a_host_app(iconic: dict[str, str]) -> None:
    with running_server(mount="/navi") as running, running.client() as client:
        documents = client.get("/navi/api/credentials/providers").json()["providers"]
        url = next(p["iconUrl"] for p in documents if p["id"] == "iconic")
        assert url.startswith("/navi/api/providers/iconic/icon?v=")
        got = client.get(url)
        assert got.status_code == 200 and got.content == GOOD_SVG
        assert client.get("/navi/favicon.svg").headers["content-type"] == "image/svg+xml"
