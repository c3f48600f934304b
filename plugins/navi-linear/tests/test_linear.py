"""Linear plugin: contract conformance and credential validation."""

from __future__ import annotations

from navi_integrations import Registry
from navi_integrations.testing import check_provider

KEY = "lin_api_" + "Ab3" * 13 + "x"


def test_conformance(navi_registry: Registry) -> None:
    check_provider(
        navi_registry,
        "linear",
        valid={"apiKey": KEY},
        invalid=[{"apiKey": "lin_api_short"}, {"apiKey": "Bearer " + KEY}, {}],
    )


def test_validate_explains_common_mistakes(navi_registry: Registry) -> None:
    def problem(value: str) -> str:
        [found] = navi_registry.validate("linear", {"apiKey": value})
        return found.message

    assert problem("Bearer " + KEY) == "paste the key alone, without the 'Bearer ' prefix"
    assert "OAuth access token" in problem("lin_oauth_" + "a" * 40)
    assert "expected a personal API key: 'lin_api_'" in problem("sk-" + "a" * 40)
    assert problem("") == "Personal API key is required"


def test_api_url_is_overridable(navi_registry: Registry, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    linear = navi_registry.get("linear")
    assert linear.url("api") == "https://api.linear.app/graphql"
    monkeypatch.setenv("NAVI_LINEAR_API_URL", "http://127.0.0.1:8080/graphql")
    assert linear.url("api") == "http://127.0.0.1:8080/graphql"
