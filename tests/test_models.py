"""Provider models: camelCase documents, template checks, URL overrides, secret hygiene."""

from __future__ import annotations

import pytest
from navi_integrations import (
    CredentialField,
    Credentials,
    IntegrationProvider,
    SseMcpServer,
    StdioMcpServer,
)
from navi_integrations.models import check_credential_values, env_url_name
from pydantic import SecretStr, ValidationError

SECRET = "sk_live_do_not_print_7f3a9c"


def _provider(**extra: object) -> IntegrationProvider:
    base: dict[str, object] = {
        "id": "acme",
        "name": "Acme",
        "description": "test",
        "authType": "api_key",
        "credentials": [
            {"key": "apiKey", "label": "API key", "pattern": "sk_[a-z_0-9]+", "patternHint": "sk_…"}
        ],
        "api": {"baseUrl": "https://api.acme.test", "urls": {"me": "https://api.acme.test/me"}},
    }
    base.update(extra)
    return IntegrationProvider.model_validate(base)


def test_document_uses_camel_case_and_round_trips() -> None:
    provider = _provider(
        mcp={"command": "npx", "args": ["-y", "acme-mcp"], "env": {"K": "{{apiKey}}"}}
    )
    document = provider.to_document()
    assert document["authType"] == "api_key"
    assert document["credentials"][0]["patternHint"] == "sk_…"
    assert document["setupGuide"] == {"summary": "", "steps": []}
    assert document["defaults"] == {
        "enabledGlobally": True,
        "mcpEnabled": True,
        "skillEnabled": True,
    }
    assert document["mcp"]["transport"] == "stdio"
    assert IntegrationProvider.model_validate(document) == provider


def test_mcp_transports_are_discriminated() -> None:
    sse = _provider(
        mcp={"transport": "sse", "url": "https://x.test/sse", "headers": {"A": "{{apiKey}}"}}
    )
    assert isinstance(sse.mcp, SseMcpServer)
    stdio = _provider(mcp={"command": "npx"})
    assert isinstance(stdio.mcp, StdioMcpServer)
    with pytest.raises(ValidationError, match="transport"):
        _provider(mcp={"transport": "carrier-pigeon", "url": "x"})


def test_unknown_placeholder_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=r"mcp.env.TOKEN uses unknown placeholder\(s\) \{\{apikey\}\}"
    ):
        _provider(mcp={"command": "npx", "env": {"TOKEN": "{{apikey}}"}})


def test_oauth_runtime_placeholder_allowed_and_sections_required() -> None:
    with pytest.raises(ValidationError, match="needs an 'oauth' section"):
        _provider(authType="oauth")
    provider = _provider(
        authType="oauth",
        credentials=[],
        oauth={
            "authUrl": "https://a.test/auth",
            "tokenUrl": "https://a.test/token",
            "scopes": {"read": "Read things"},
            "services": ["things"],
            "serviceScopes": {"things": ["read"]},
        },
        env={"ACME_TOKEN": "{{accessToken}}"},
    )
    assert provider.template_fields() == {"accessToken"}
    with pytest.raises(ValidationError, match="scope 'write' of service 'things' is not in scopes"):
        _provider(
            authType="oauth",
            oauth={
                "authUrl": "a",
                "tokenUrl": "t",
                "scopes": {"read": "r"},
                "services": ["things"],
                "serviceScopes": {"things": ["write"]},
            },
        )


def test_browser_auth_is_accepted_by_the_schema() -> None:
    assert _provider(authType="browser").auth_type == "browser"


def test_url_overrides_follow_the_env_convention(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = _provider()
    assert env_url_name("acme", "me") == "NAVI_ACME_ME_URL"
    assert env_url_name("my-tool", "api") == "NAVI_MY_TOOL_API_URL"
    assert provider.url("me") == "https://api.acme.test/me"
    monkeypatch.setenv("NAVI_ACME_ME_URL", "http://127.0.0.1:9/me")
    assert provider.url("me") == "http://127.0.0.1:9/me"
    with pytest.raises(KeyError):
        provider.url("nothing")


def test_credentials_never_show_their_values() -> None:
    creds = Credentials({"apiKey": SECRET})
    assert SECRET not in repr(creds)
    assert SECRET not in str(dict(creds))
    assert creds.reveal("apiKey") == SECRET
    assert creds.fill("Bearer {{ apiKey }}") == f"Bearer {SECRET}"
    assert isinstance(creds["apiKey"], SecretStr)


def test_field_checks_say_what_is_expected_without_quoting_the_value() -> None:
    provider = _provider()
    problems = check_credential_values(provider, {"apiKey": "pk_" + SECRET, "extra": "x"})
    text = " | ".join(map(str, problems))
    assert "extra: unknown field (expected: apiKey)" in text
    assert "apiKey: API key is malformed: expected sk_…" in text
    assert SECRET not in text
    assert check_credential_values(provider, {}) == [
        check_credential_values(provider, {"apiKey": ""})[0]
    ]
    assert "whitespace" in str(check_credential_values(provider, {"apiKey": "sk_a "})[0])
    assert check_credential_values(provider, {"apiKey": "sk_abc"}) == []


def test_field_pattern_must_compile() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        CredentialField(key="k", label="K", pattern="([")


def test_the_typed_provider_document_is_the_models_json() -> None:
    """``ProviderDocument`` (what core logic reads by key, typed for mypy) names exactly the
    keys the model writes, section by section, and requires only what is always there."""
    from navi_integrations import models
    from navi_integrations.documents import (
        CliDocument,
        DefaultsDocument,
        FieldDocument,
        OAuthDocument,
        ProviderDocument,
        SkillDocument,
    )

    def aliases(model: type[models.BaseModel]) -> set[str]:
        return {f.alias or name for name, f in model.model_fields.items()}

    for typed, model in (
        (ProviderDocument, models.IntegrationProvider),
        (FieldDocument, models.CredentialField),
        (OAuthDocument, models.OAuthConfig),
        (CliDocument, models.CliConfig),
        (SkillDocument, models.SkillConfig),
        (DefaultsDocument, models.ProviderDefaults),
    ):
        assert set(typed.__annotations__) == aliases(model), typed.__name__
        required = {f.alias or name for name, f in model.model_fields.items() if f.is_required()}
        assert required <= typed.__required_keys__, typed.__name__

    from navi_integrations.plugins.registry import Registry

    for provider in Registry().load().providers():  # the five plugins, as the catalog has them
        doc = provider.to_document()
        assert (
            ProviderDocument.__required_keys__ <= set(doc) <= set(ProviderDocument.__annotations__)
        )
        for section, typed_section in (("oauth", OAuthDocument), ("cli", CliDocument)):
            if section in doc:
                assert set(doc[section]) <= set(typed_section.__annotations__)
        for field in doc.get("credentials", []):
            assert FieldDocument.__required_keys__ <= set(field)
