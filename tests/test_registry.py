"""The plugin manager: real entry points, isolation of broken plugins, env switches."""

from __future__ import annotations

from pathlib import Path

import pytest
from navi_integrations import (
    IntegrationProvider,
    PluginError,
    ProviderNotFound,
    Registry,
    hookimpl,
)
from navi_integrations.models import Credentials

from .conftest import InstallFn

GOOD = """
from navi_integrations import IntegrationProvider, FieldProblem, hookimpl

@hookimpl
def describe():
    return IntegrationProvider(id="{id}", name="{name}", description="d", auth_type="api_key",
        credentials=[{{"key": "apiKey", "label": "Key"}}])

@hookimpl
def validate(provider, credentials):
    if provider.id != "{id}":
        return None
    return [] if credentials.reveal("apiKey") == "good" else [FieldProblem("apiKey", "bad")]
"""


def _load(**env: str) -> Registry:
    import os

    return Registry({**os.environ, **env}).load()


def test_installed_entry_point_is_discovered_with_its_distribution(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    install_plugin("navi-acme", GOOD.format(id="acme", name="Acme"), version="2.3")
    registry = _load()
    assert registry.get("acme").name == "Acme"
    owner = registry.owner("acme")
    assert (owner.name, owner.distribution, owner.version) == ("acme", "navi-acme", "2.3")
    assert registry.validate("acme", {"apiKey": "good"}) == []
    assert [str(p) for p in registry.validate("acme", {"apiKey": "nope"})] == ["apiKey: bad"]
    assert registry.problems() == []


def test_plugin_that_fails_to_import_is_reported_and_others_load(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    install_plugin("navi-broken", "import module_that_does_not_exist\n", version="0.9")
    install_plugin("navi-acme", GOOD.format(id="acme", name="Acme"))
    registry = _load()
    assert registry.get("acme")
    assert registry.get("linear")  # the real plugins still work
    [problem] = registry.problems()
    assert (problem.distribution, problem.version) == ("navi-broken", "0.9")
    assert "failed to import: ModuleNotFoundError" in problem.message
    assert str(problem).startswith("navi-broken 0.9: failed to import")


def test_plugin_raising_in_describe_is_isolated(navi_home: Path, install_plugin: InstallFn) -> None:
    install_plugin(
        "navi-explodes",
        "from navi_integrations import hookimpl\n"
        "@hookimpl\ndef describe():\n    raise RuntimeError('boom')\n",
    )
    registry = _load()
    assert {p.id for p in registry.providers()} >= {"linear", "google"}
    [problem] = registry.problems()
    assert problem.distribution == "navi-explodes"
    assert "raised in hook 'describe': RuntimeError: boom" in problem.message


def test_plugin_raising_in_validate_fails_only_its_own_calls(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    source = GOOD.format(id="acme", name="Acme").replace(
        "    if provider.id", "    raise ValueError('plugin bug')\n    if provider.id"
    )
    install_plugin("navi-acme", source)
    registry = _load()
    with pytest.raises(PluginError, match=r"navi-acme 1.0: raised in hook 'validate'.*plugin bug"):
        registry.validate("acme", {"apiKey": "good"})


def test_buggy_validate_of_another_plugin_is_reported_not_hidden(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    # A plugin that answers for providers that are not its own breaks the contract;
    # the conformance check catches it (see test_conformance).
    install_plugin(
        "navi-greedy",
        "from navi_integrations import hookimpl\n"
        "@hookimpl\ndef validate(provider, credentials):\n    return []\n",
    )
    registry = _load()
    from navi_integrations.testing import check_provider

    with pytest.raises(AssertionError, match="hook 'validate' answered for a provider"):
        check_provider(registry, "linear", valid={"apiKey": "lin_api_" + "a" * 40}, invalid=[])


def test_invalid_model_from_describe_is_reported(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    install_plugin(
        "navi-sloppy",
        "from navi_integrations import hookimpl\n"
        "@hookimpl\ndef describe():\n"
        "    return [{'id': 'Bad Id', 'name': 'x', 'description': 'd', 'authType': 'api_key'},"
        " 42]\n",
    )
    registry = _load()
    messages = [p.message for p in registry.problems()]
    assert any(
        "describe returned an invalid provider: id: String should match" in m for m in messages
    )
    assert any("expected an IntegrationProvider, got int" in m for m in messages)
    assert all(p.distribution == "navi-sloppy" for p in registry.problems())


def test_misspelt_hook_is_refused_with_the_distribution(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    install_plugin(
        "navi-typo",
        "from navi_integrations import hookimpl\n@hookimpl\ndef descibe():\n    return None\n",
    )
    registry = _load()
    [problem] = registry.problems()
    assert problem.distribution == "navi-typo"
    assert "unknown hook 'descibe' (misspelt?)" in problem.message
    assert "typo" not in {p.name for p in registry.plugins()}


def test_wrong_hook_arguments_and_wrappers_are_refused(navi_home: Path) -> None:
    registry = _load()

    class BadArgs:
        @hookimpl
        def validate(self, provider, secrets):  # type: ignore[no-untyped-def]
            return None

    class Wrapper:
        @hookimpl(wrapper=True)
        def validate(self, provider, credentials):  # type: ignore[no-untyped-def]
            return (yield)

    with pytest.raises(PluginError, match="invalid hook implementation"):
        registry.register_plugin(BadArgs(), "bad-args")
    with pytest.raises(PluginError, match="refuse wrappers"):
        registry.register_plugin(Wrapper(), "wrapper")
    assert registry.validate("linear", {"apiKey": "lin_api_" + "a" * 40}) == []


def test_duplicate_provider_id_is_refused_naming_both(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    install_plugin("navi-linear-fork", GOOD.format(id="linear", name="Fork"), version="9.9")
    registry = _load()
    with pytest.raises(ProviderNotFound):
        registry.get("linear")
    messages = {p.message for p in registry.problems()}
    assert len(registry.problems()) == 2
    [message] = messages
    assert "provider id 'linear' is declared by" in message
    assert "navi-linear 0.1.0" in message and "navi-linear-fork 9.9" in message


def test_host_app_registers_a_provider_object(navi_home: Path) -> None:
    registry = _load()
    provider = IntegrationProvider(id="inhouse", name="In-house", description="d", auth_type="none")
    registry.register_provider(provider)
    assert registry.get("inhouse") is provider
    assert registry.owner("inhouse").distribution == "<host app>"


def test_browser_auth_provider_is_refused_clearly(navi_home: Path) -> None:
    registry = _load()
    registry.register_provider(
        IntegrationProvider(id="scraper", name="S", description="d", auth_type="browser")
    )
    with pytest.raises(ProviderNotFound):
        registry.get("scraper")
    assert any("browser auth is not supported yet" in p.message for p in registry.problems())


def test_allow_and_block_lists(navi_home: Path) -> None:
    only = _load(NAVI_INTEGRATIONS_PLUGINS="linear,navi-slack")
    assert [p.id for p in only.providers()] == ["linear", "slack"]
    none = _load(NAVI_INTEGRATIONS_PLUGINS="")
    assert none.providers() == []
    assert [p.name for p in none.plugins()] == [
        "custom-providers",
        "http-health",
        "mcp-defaults",
        "oauth-refresh",
    ]
    blocked = _load(NAVI_INTEGRATIONS_BLOCK_PLUGINS="google, custom-providers")
    assert "google" not in {p.id for p in blocked.providers()}
    assert "custom-providers" not in {p.name for p in blocked.plugins()}


def test_trace_writes_hook_calls_without_arguments(
    navi_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = _load(NAVI_INTEGRATIONS_TRACE="1")
    secret = "lin_api_" + "s3cr3t" * 7
    registry.validate("linear", {"apiKey": secret})
    err = capsys.readouterr().err
    assert "navi trace: describe linear -> IntegrationProvider" in err
    assert "navi trace: validate [linear] linear -> list" in err
    assert secret not in err


def test_unknown_provider_suggests_the_closest(navi_home: Path) -> None:
    with pytest.raises(ProviderNotFound, match="Did you mean 'linear'"):
        _load().get("linaer")


def test_foreign_provider_gets_no_answer_from_any_plugin(navi_home: Path) -> None:
    registry = _load()
    foreign = IntegrationProvider(id="zzz", name="Z", description="d", auth_type="none")
    for hook in ("validate", "mcp_config", "refresh"):
        assert registry.call_provider_hook(hook, foreign, credentials=Credentials()) is None
