"""The plugin's own tests, as written against navi-integrations 0.1 (kept as they were)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import navi_statuspage
import pytest
from navi_integrations import IntegrationService
from navi_integrations.models import Credentials
from navi_integrations.registry import Registry  # 0.1's module path
from navi_integrations.testing import Reply, check_provider

KEY = "0123456789abcdef" * 2
PAGE = "kctbh9vrtdwd"
VALUES = {"apiKey": KEY, "pageId": PAGE}
SKILLS = Path(navi_statuspage.__file__).parent / "skills"


@pytest.fixture
def registry(navi_home):
    return Registry().load()


@pytest.fixture
def statuspage_api(local_http_server, monkeypatch):
    def page(request):
        if request.headers.get("authorization") != f"OAuth {KEY}":
            return Reply(401, json={"error": "Could not authenticate"})
        return Reply(200, json={"id": PAGE, "name": "Acme Status"})

    local_http_server.route("GET", f"/v1/pages/{PAGE}", page)
    monkeypatch.setenv("NAVI_STATUSPAGE_API_URL", local_http_server.url + "/v1")
    return local_http_server


def test_conformance(registry):
    check_provider(
        registry,
        "statuspage",
        valid=VALUES,
        invalid=[{"apiKey": "OAuth " + KEY, "pageId": PAGE}, {"apiKey": "short"}, {}],
    )


def test_validate_through_call_provider_hook(registry):
    provider = registry.get("statuspage")
    problems = registry.call_provider_hook(
        "validate", provider, credentials=Credentials({"apiKey": "OAuth " + KEY})
    )
    assert [p.message for p in problems] == ["paste the key alone, without 'OAuth '"]
    ok = registry.call_provider_hook("validate", provider, credentials=Credentials(VALUES))
    assert ok == []


def test_health_check_through_call_provider_hook(registry, statuspage_api):
    provider = registry.get("statuspage")
    result = registry.call_provider_hook(
        "health_check", provider, credentials=Credentials(VALUES), timeout=5
    )
    assert result.ok and result.message == "Connected as Acme Status"


def test_a_refused_key_is_an_auth_failure(registry, statuspage_api):
    provider = registry.get("statuspage")
    wrong = Credentials({"apiKey": "f" * 32, "pageId": PAGE})
    result = registry.call_provider_hook("health_check", provider, credentials=wrong, timeout=5)
    assert not result.ok and result.kind == "auth"


def test_mcp_config_through_call_provider_hook(registry):
    provider = registry.get("statuspage")
    server = registry.call_provider_hook("mcp_config", provider, credentials=Credentials(VALUES))
    assert server.args == ["--page", PAGE]
    assert server.env == {"STATUSPAGE_API_KEY": KEY}


def test_connect_tests_before_saving(registry, statuspage_api):
    service = IntegrationService(registry=registry)
    result = service.connect("statuspage", VALUES, test=True)
    assert result.saved and result.check.account == "Acme Status"
    assert service.get_credentials("statuspage").reveal("pageId") == PAGE


def test_mcp_config_through_the_service(registry):
    service = IntegrationService(registry=registry)
    service.connect("statuspage", VALUES)
    servers = service.mcp_config(runtime="claude-code").document["mcpServers"]
    assert servers["statuspage"]["env"] == {"STATUSPAGE_API_KEY": KEY}


def test_call_with_recovery(registry, statuspage_api):
    from navi_integrations.recovery import call_with_recovery  # 0.1's module path

    service = IntegrationService(registry=registry)
    service.connect("statuspage", VALUES)
    seen = call_with_recovery("statuspage", lambda creds: creds.reveal("pageId"), service=service)
    assert seen == PAGE


def test_skills_read_with_the_prd_keys():
    from navi_integrations.skills import read_skill  # 0.1's module path

    setup = read_skill(SKILLS / "connect-statuspage")
    usage = read_skill(SKILLS / "statuspage")
    assert setup.triggers == ["connect statuspage", "statuspage api key"]
    assert usage.mcp == "statuspage"


def test_enabled_skills_follow_the_connection(registry):
    from navi_integrations.skills import enabled_skills  # 0.1's function

    service = IntegrationService(registry=registry)
    names = {s.name for s in enabled_skills(service)}
    assert "connect-statuspage" in names and "statuspage" not in names
    service.connect("statuspage", VALUES)
    names = {s.name for s in enabled_skills(service)}
    assert "statuspage" in names and "connect-statuspage" not in names


def _navi(*args, home):
    exe = shutil.which("navi-int", path=str(Path(sys.executable).parent)) or "navi-int"
    env = {**os.environ, "NAVI_INTEGRATIONS_HOME": str(home)}
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, check=False)


def test_the_cli_lists_and_runs_with_it(registry, navi_home):
    IntegrationService(registry=registry).connect("statuspage", VALUES)
    listed = _navi("list", "--json", home=navi_home)
    assert listed.returncode == 0, listed.stderr
    [item] = [i for i in json.loads(listed.stdout)["integrations"] if i["provider"] == "statuspage"]
    assert item["hasCredentials"] is True
    code = "import os; print(os.environ['STATUSPAGE_PAGE_ID'])"
    ran = _navi("run", "--with", "statuspage", sys.executable, "-c", code, home=navi_home)
    assert (ran.returncode, ran.stdout.strip()) == (0, PAGE), ran.stderr


def test_no_secret_in_status_output(registry, navi_home):
    IntegrationService(registry=registry).connect("statuspage", VALUES)
    shown = _navi("show", "statuspage", "--json", home=navi_home)
    assert shown.returncode == 0, shown.stderr
    assert KEY not in shown.stdout and KEY not in shown.stderr
