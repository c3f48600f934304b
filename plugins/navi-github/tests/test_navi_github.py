"""GitHub plugin: contract conformance and the optional host field."""

from __future__ import annotations

from navi_integrations import Registry
from navi_integrations.testing import check_provider


def test_conformance(navi_registry: Registry) -> None:
    check_provider(
        navi_registry,
        "github",
        valid={},
        invalid=[{"host": "https://github.example.com"}, {"host": "not a host"}],
    )
    assert navi_registry.icon("github") is not None  # icon.svg ships and passes the checks


def test_enterprise_host_is_accepted(navi_registry: Registry) -> None:
    assert navi_registry.validate("github", {"host": "github.example.com"}) == []
    [problem] = navi_registry.validate("github", {"host": "https://github.example.com/"})
    assert problem.message == "give the host name only, e.g. github.example.com"


def test_signs_in_through_gh(navi_registry: Registry) -> None:
    github = navi_registry.get("github")
    assert github.auth_type == "cli" and github.cli is not None
    assert (github.cli.command, github.cli.auth_command) == ("gh", "gh auth login")
    assert github.mcp is not None and github.mcp.transport == "stdio"
