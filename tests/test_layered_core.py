"""The layered core: workflows in the service, results not messages, and the bugs a new user hit."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import navi_integrations
from navi_integrations import (
    ApiConfig,
    Credentials,
    HealthCheckConfig,
    IntegrationProvider,
    IntegrationService,
    StdioMcpServer,
    hookimpl,
)
from navi_integrations.testing import LocalHTTPServer, Reply

ROOT = Path(__file__).resolve().parents[1]


def _provider(pid: str, url: str | None = None, *, mcp: bool = False) -> IntegrationProvider:
    """An API-key provider; with ``url`` it has a declared health endpoint (no account)."""
    return IntegrationProvider(
        id=pid,
        name=pid.title(),
        description="a test provider",
        auth_type="api_key",
        credentials=[{"key": "apiKey", "label": "API key", "type": "password"}],
        setup_guide={"steps": [{"title": "Get a key"}]},
        api=ApiConfig(base_url=url, auth={"header": "Authorization", "template": "{{apiKey}}"})
        if url
        else None,
        health_check=HealthCheckConfig(endpoint="/me") if url else None,
        mcp=StdioMcpServer(command="echo", args=["{{apiKey}}"]) if mcp else None,
    )


def test_reconnect_makes_a_provider_without_account_healthy_again(
    navi_service: IntegrationService, navi_register: Any, local_http_server: LocalHTTPServer
) -> None:
    navi_register(_provider("acme", local_http_server.url))
    local_http_server.route("GET", "/me", Reply(200, json={}))
    first = navi_service.connect("acme", {"apiKey": "k" * 20}, test=True)
    assert (first.saved, first.tested, first.account) == (True, True, None)
    assert navi_service.health_record("acme").status == "healthy"
    for _ in range(3):
        navi_service.record_error("acme", "boom")
    assert navi_service.health_record("acme").status == "failed"

    again = navi_service.connect("acme", {"apiKey": "k" * 21}, test=True)
    assert again.saved and navi_service.health_record("acme").status == "healthy"
    for _ in range(3):
        navi_service.record_error("acme", "boom")
    navi_service.connect("acme", {"apiKey": "k" * 22})  # from Python, untested
    assert navi_service.health_record("acme").status == "unknown"  # not the old "failed"


def test_a_provider_without_health_check_is_saved_untested(
    navi_service: IntegrationService, navi_register: Any
) -> None:
    navi_register(_provider("plain"))
    result = navi_service.connect("plain", {"apiKey": "k" * 20}, test=True)
    assert (result.saved, result.tested, result.check) == (True, False, None)
    assert navi_service.health_record("plain").status == "unknown"


class _Broken:
    """A plugin whose hooks raise: its failures are its own, named by distribution."""

    @hookimpl
    def describe(self) -> IntegrationProvider:
        return _provider("broken", mcp=True)

    @hookimpl
    def health_check(self, provider: IntegrationProvider, credentials: Credentials) -> None:
        raise RuntimeError(f"plugin bug near {credentials.reveal('apiKey')}")  # quotes a secret

    @hookimpl
    def mcp_config(self, provider: IntegrationProvider, credentials: Credentials) -> None:
        raise RuntimeError(f"plugin bug near {credentials.reveal('apiKey')}")


def test_a_raising_health_check_is_the_plugins_failure_not_reauth(
    navi_service: IntegrationService, navi_registry: Any
) -> None:
    navi_registry.register_plugin(_Broken(), "broken", distribution="navi-broken", version="0.1")
    result = navi_service.connect("broken", {"apiKey": "k" * 20}, test=True)
    assert not result.saved and result.kind == "plugin" and result.action == "fail"
    assert result.check is not None and "navi-broken 0.1" in result.check.message
    assert "k" * 20 not in result.check.message and "near [redacted]" in result.check.message
    assert result.advice is not None and result.advice.action == "fix_plugin"
    assert "navi-int connect" not in str(result.advice)

    # Saved untested, then tested: the stored failure keeps its kind, so every later
    # reader words the same advice (not "retry later"), and a plugin bug is no blip.
    navi_service.connect("broken", {"apiKey": "k" * 20})
    assert navi_service.test("broken").advice.action == "fix_plugin"  # type: ignore[union-attr]
    assert navi_service.health_record("broken").status == "failed"
    entry = next(
        e for e in navi_service.status_document()["integrations"] if e["provider"] == "broken"
    )
    assert entry["lastError"]["advice"]["action"] == "fix_plugin"


def test_one_provider_whose_mcp_config_fails_leaves_the_others(
    navi_service: IntegrationService, navi_registry: Any, navi_register: Any
) -> None:
    navi_registry.register_plugin(_Broken(), "broken", distribution="navi-broken", version="0.1")
    navi_register(_provider("good", mcp=True))
    navi_service.connect("broken", {"apiKey": "k" * 20})
    navi_service.connect("good", {"apiKey": "g" * 20})
    config = navi_integrations.build_mcp_config(navi_service, runtime="claude-code")
    assert set(config.servers) == {"good"}
    assert [(s.provider, "navi-broken 0.1" in s.reason) for s in config.skipped] == [
        ("broken", True)
    ]
    assert "k" * 20 not in config.skipped[0].reason  # the plugin's text quoted the key


def test_a_host_app_plugin_without_a_version_is_named_without_one(
    navi_service: IntegrationService, navi_registry: Any
) -> None:
    navi_registry.register_plugin(_Broken(), "broken")
    result = navi_service.connect("broken", {"apiKey": "k" * 20}, test=True)
    assert result.check is not None and "None" not in result.check.message, result.check.message


def test_mcp_config_command_emits_the_rest_and_says_why(navi_home: Path) -> None:
    gh_missing = {"PATH": "/nonexistent"}  # github's server needs gh: it is left out
    env = {**_env(), **gh_missing}
    subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "connect", "github", "--no-test",
         "--field", "host=github.com"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    linear = "lin_api_" + "m" * 40
    subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "connect", "linear", "--no-test",
         "--stdin"],
        env=env, input=f"apiKey={linear}\n", capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "mcp-config", "--format", "claude-code"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)["mcpServers"]) == {"linear"}
    assert "Left out github:" in out.stderr and "Traceback" not in out.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_plugins_and_readme_import_only_the_public_surface() -> None:
    sources = list((ROOT / "plugins").glob("navi-*/navi_*/**/*.py"))
    assert sources
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("navi_integrations."), (path, node.module)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "from navi_integrations." not in readme.replace("from navi_integrations.testing", "")


def test_the_core_import_graph_has_no_cycle() -> None:
    import grimp

    graph = grimp.build_graph("navi_integrations")
    modules = sorted(m for m in graph.modules if m.startswith("navi_integrations"))
    for module in modules:
        for other in graph.find_modules_directly_imported_by(module):
            if other.startswith("navi_integrations") and other != module:
                back = graph.find_shortest_chain(importer=other, imported=module)
                assert back is None, f"cycle: {module} -> {other} -> ... -> {module}: {back}"


def test_below_the_facade_nothing_knows_the_service() -> None:
    core = ROOT / "core" / "navi_integrations"
    below = [
        p
        for folder in ("plugins", "store", "auth", "health", "agent")
        for p in (core / folder).rglob("*.py")
    ]
    for path in below:
        assert "IntegrationService" not in path.read_text(encoding="utf-8"), path


def test_no_class_is_held_together_by_copied_stubs() -> None:
    """Structure by collaboration, not by line count (issue 17): a class that needs another
    part's method is handed that part; it does not declare the method as a stub for a mixin
    chain to fill in. (Module length is guidance, not a rule: see the README.)"""
    core = ROOT / "core" / "navi_integrations"
    for path in core.rglob("*.py"):
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef):
                continue
            for node in cls.body:
                stubs = [
                    f.name
                    for f in (node.body if isinstance(node, ast.If) else [])
                    if isinstance(f, ast.FunctionDef)
                    and len(f.body) == 1
                    and isinstance(f.body[0], ast.Expr)
                    and isinstance(f.body[0].value, ast.Constant)
                    and f.body[0].value.value is Ellipsis
                ]
                assert not stubs, f"{path.relative_to(core)}: {cls.name} restates {stubs}"


def test_list_shows_no_mcp_for_a_provider_without_a_server(navi_home: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "list"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    google = next(line for line in out.stdout.splitlines() if line.startswith("google "))
    linear = next(line for line in out.stdout.splitlines() if line.startswith("linear "))
    assert google.split()[-3] == "-"  # Google declares no MCP server: not "yes"
    assert linear.split()[-3] in ("yes", "no")
