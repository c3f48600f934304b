"""A plugin written against the earlier documented API keeps working (issue 12, item 10).

The plugin below is written the way the README and the docstrings taught
before the plugin kit: module-level hooks that guard on the provider id and
return ``None`` for others, ``provider.url(name)`` with one argument,
``credentials.fill(template)`` with one argument, ``http_check(..., parse=)``,
an ``IntegrationProvider`` without defaults or URL templates. It is installed
as a real distribution and used through the service and the CLI.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from navi_integrations import IntegrationService, Registry
from navi_integrations.testing import LocalHTTPServer, Reply, check_provider, write_distribution

from .cli_helpers import navi

OLD_PLUGIN = """
from navi_integrations import (
    ApiAuth, ApiConfig, CredentialField, FieldProblem, HealthResult, IntegrationProvider,
    StdioMcpServer, hookimpl,
)

JIRA = IntegrationProvider(
    id="jira",
    name="Jira",
    description="Issue tracking by Atlassian",
    auth_type="api_key",
    credentials=[
        CredentialField(key="apiToken", label="API token", pattern=r"[A-Za-z0-9_=-]{20,}",
                        pattern_hint="an Atlassian API token"),
        CredentialField(key="site", label="Site", type="text"),
    ],
    api=ApiConfig(base_url="https://api.atlassian.example/ex/jira",
                  auth=ApiAuth(header="Authorization", template="Bearer {{apiToken}}")),
    mcp=StdioMcpServer(command="jira-mcp", args=["--site", "{{site}}"],
                       env={"JIRA_API_TOKEN": "{{apiToken}}"}),
    setup_guide={"steps": [{"title": "Create an API token"}]},
    env={"JIRA_API_TOKEN": "{{apiToken}}", "JIRA_SITE": "{{site}}"},
)


@hookimpl
def describe():
    return JIRA


@hookimpl
def validate(provider, credentials):
    if provider.id != "jira":
        return None
    if credentials.reveal("apiToken").startswith("Bearer "):
        return [FieldProblem("apiToken", "paste the token alone")]
    return []


@hookimpl
def health_check(provider, credentials, timeout):
    if provider.id != "jira":
        return None
    from navi_integrations import http_check

    return http_check(
        provider, credentials, timeout,
        url=provider.url("api") + "/myself",
        parse=lambda body: HealthResult.healthy(body["emailAddress"]),
    )


@hookimpl
def mcp_config(provider, credentials):
    if provider.id != "jira":
        return None
    server = provider.mcp
    return server.model_copy(update={
        "args": [credentials.fill(a) for a in server.args],
        "env": {k: credentials.fill(v) for k, v in server.env.items()},
    })
"""

TOKEN = "jiraTok_" + "x9Y8" * 6


@pytest.fixture
def old_plugin(
    tmp_path: Path, navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> IntegrationService:
    site = tmp_path / "site"
    write_distribution(site, "navi-jira", {"jira": "navi_jira"}, {"navi_jira": OLD_PLUGIN})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), *sys.path]))
    registry = Registry().load()
    assert not [p for p in registry.problems() if "jira" in str(p)]
    return IntegrationService(registry=registry)


def test_the_old_plugin_passes_conformance_and_its_health_check(
    old_plugin: IntegrationService,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_provider(
        old_plugin.registry,
        "jira",
        valid={"apiToken": TOKEN, "site": "acme"},
        invalid=[{"apiToken": "Bearer " + TOKEN, "site": "acme"}, {}],
    )
    local_http_server.route("GET", "/jira/myself", Reply(200, json={"emailAddress": "ada@x.io"}))
    monkeypatch.setenv("NAVI_JIRA_API_URL", local_http_server.url + "/jira")
    result = old_plugin.connect("jira", {"apiToken": TOKEN, "site": "acme"}, test=True)
    assert result.saved and result.check is not None
    assert result.check.account == "ada@x.io"
    assert local_http_server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_the_old_plugin_through_the_cli(old_plugin: IntegrationService) -> None:
    old_plugin.connect("jira", {"apiToken": TOKEN, "site": "acme"})
    shown = navi("show", "jira", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["credentials"][0]["required"] is True
    code = f"import os; print(os.environ['JIRA_API_TOKEN'] == {TOKEN!r}, os.environ['JIRA_SITE'])"
    ran = navi("run", "--with", "jira", sys.executable, "-c", code)
    assert (ran.returncode, ran.stdout.split()) == (0, ["True", "acme"]), ran.stderr
    config = navi("mcp-config", "--format", "claude-code")
    assert config.returncode == 0, config.stderr
    entry = json.loads(config.stdout)["mcpServers"]["jira"]
    assert entry["args"] == ["--site", "acme"] and entry["env"] == {"JIRA_API_TOKEN": TOKEN}
