"""The plugin manager: real entry points, isolation of broken plugins, env switches."""

from __future__ import annotations

from pathlib import Path

import pytest
from navi_integrations import (
    Credentials,
    FieldProblem,
    IntegrationProvider,
    PluginError,
    ProviderNotFound,
    Registry,
    hookimpl,
)

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


def test_an_installed_plugin_without_the_guard_cannot_answer_for_others(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    # Written without the `if provider.id != ...` guard, it would accept every key of
    # every provider if hooks went to every plugin; they go to the owner only.
    install_plugin(
        "navi-greedy",
        "from navi_integrations import hookimpl\n"
        "@hookimpl(tryfirst=True)\ndef validate(provider, credentials):\n    return []\n",
    )
    registry = _load()
    assert registry.validate("linear", {"apiKey": "not-a-linear-key"})
    from navi_integrations.testing import check_provider

    check_provider(
        registry,
        "linear",
        valid={"apiKey": "lin_api_" + "a" * 40},
        invalid=[{"apiKey": "not-a-linear-key"}],
    )


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
    assert "unknown hook 'descibe' (did you mean 'describe'?)" in problem.message
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
    with pytest.raises(ProviderNotFound, match="is not loaded: it is declared twice") as caught:
        registry.get("linear")
    assert "navi-linear-fork 9.9" in str(caught.value) and "unknown provider" not in str(
        caught.value
    )
    messages = {p.message for p in registry.problems()}
    assert len(registry.problems()) == 2
    [message] = messages
    assert "provider id 'linear' is declared by" in message
    assert "navi-linear 0.2.0" in message and "navi-linear-fork 9.9" in message


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
    assert [p.id for p in only.providers()] == ["linear", "linear-mcp", "slack"]
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
    assert "navi trace: describe slack -> IntegrationProvider" in err
    assert "navi trace: describe linear -> list" in err
    assert "navi trace: validate [linear] linear -> list" in err
    assert secret not in err


def test_unknown_provider_suggests_the_closest(navi_home: Path) -> None:
    with pytest.raises(ProviderNotFound, match="Did you mean 'linear'"):
        _load().get("linaer")


class _Greedy:
    """A plugin that asks to run first for every hook, records every credential it is
    handed, and raises: it must only ever be called for its own provider."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def describe(self) -> IntegrationProvider:
        return IntegrationProvider(
            id="greedy",
            name="Greedy",
            description="d",
            auth_type="api_key",
            credentials=[{"key": "apiKey", "label": "Key"}],
        )

    @hookimpl(tryfirst=True)
    def validate(self, provider: IntegrationProvider, credentials: Credentials) -> None:
        self.seen += [(provider.id, credentials.reveal(k)) for k in credentials]
        raise RuntimeError("greedy plugin bug")

    @hookimpl(tryfirst=True)
    def health_check(
        self, provider: IntegrationProvider, credentials: Credentials, timeout: float
    ) -> None:
        self.seen += [(provider.id, credentials.reveal(k)) for k in credentials]
        raise RuntimeError("greedy plugin bug")

    @hookimpl(tryfirst=True)
    def mcp_config(self, provider: IntegrationProvider, credentials: Credentials) -> None:
        self.seen += [(provider.id, credentials.reveal(k)) for k in credentials]
        raise RuntimeError("greedy plugin bug")


def test_hooks_are_aimed_at_the_provider_owner_only(navi_home: Path) -> None:
    """A tryfirst plugin never sees another provider's credentials, and its bug stays its own."""
    registry = _load()
    greedy = _Greedy()
    registry.register_plugin(greedy, "greedy", distribution="navi-greedy", version="6.6.6")
    secret = "lin_api_" + "Own3r0nly" * 5
    assert registry.validate("linear", {"apiKey": secret}) == []
    assert registry.mcp_config("linear", Credentials({"apiKey": secret})) is not None
    assert greedy.seen == []  # linear's credentials never reached the other plugin
    with pytest.raises(PluginError, match=r"navi-greedy 6\.6\.6: raised in hook 'validate'"):
        registry.validate("greedy", {"apiKey": "mine"})
    assert greedy.seen == [("greedy", "mine")]


def test_a_plugin_may_extend_another_provider(navi_home: Path) -> None:
    registry = _load()

    class Extension:
        navi_extends = ("linear",)

        @hookimpl(tryfirst=True)
        def validate(
            self, provider: IntegrationProvider, credentials: Credentials
        ) -> list[FieldProblem]:
            return [FieldProblem("apiKey", "refused by the extension")]

    registry.register_plugin(Extension(), "extension")
    problems = registry.validate("linear", {"apiKey": "lin_api_" + "x" * 40})
    assert [p.message for p in problems] == ["refused by the extension"]


def test_a_hook_answering_the_wrong_type_is_the_plugins_error(navi_home: Path) -> None:
    registry = _load()

    class Wrong:
        navi_extends = ("linear",)

        @hookimpl(tryfirst=True)
        def health_check(
            self, provider: IntegrationProvider, credentials: Credentials, timeout: float
        ) -> str:
            return "fine"

    registry.register_plugin(Wrong(), "wrong", distribution="navi-wrong", version="1.0")
    with pytest.raises(PluginError, match=r"navi-wrong 1\.0: hook 'health_check' for provider"):
        registry.health_check("linear", Credentials({"apiKey": "k"}), 1.0)
