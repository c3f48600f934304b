"""The service facade on SQLite and PostgreSQL: connect, scopes, switches, tokens, outcomes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from navi_integrations import (
    CredentialsInvalid,
    IntegrationDisabled,
    NotConnected,
    ProviderNotFound,
)

LINEAR_USER = "lin_api_" + "U5er" * 10
LINEAR_PROJECT = "lin_api_" + "Pr0j" * 10
SLACK = {"botToken": "xoxb-1111-2222-SlackSecretValue99", "teamId": "T0123ABCD"}


def test_connect_validates_first_and_stores_nothing_when_invalid(service: Any) -> None:
    with pytest.raises(CredentialsInvalid, match="expected a personal API key") as caught:
        service.connect("linear", {"apiKey": "lin_api_tooshort"})
    assert "lin_api_tooshort" not in str(caught.value)
    with pytest.raises(NotConnected, match="Run: navi-int connect linear"):
        service.get_token("linear")
    with pytest.raises(ProviderNotFound):
        service.connect("linaer", {"apiKey": LINEAR_USER})


def test_project_credentials_override_user_credentials(service: Any) -> None:
    service.connect("linear", {"apiKey": LINEAR_USER})
    assert service.get_token("linear").value.get_secret_value() == LINEAR_USER
    assert service.get_token("linear", project_id="p1").value.get_secret_value() == LINEAR_USER
    service.connect("linear", {"apiKey": LINEAR_PROJECT}, project_id="p1")
    assert service.get_token("linear", project_id="p1").value.get_secret_value() == LINEAR_PROJECT
    assert service.get_token("linear", project_id="p2").value.get_secret_value() == LINEAR_USER
    assert service.get_token("linear").value.get_secret_value() == LINEAR_USER
    assert service.disconnect("linear", project_id="p1") is True
    assert service.disconnect("linear", project_id="p1") is False
    assert service.get_token("linear", project_id="p1").value.get_secret_value() == LINEAR_USER


def test_switches_inherit_from_global_and_defaults(service: Any) -> None:
    service.connect("linear", {"apiKey": LINEAR_USER})
    google = service.effective("google")
    assert (google.enabled, google.mcp_enabled, google.skill_enabled) == (True, False, True)

    service.disable("linear", project_id="p1")
    with pytest.raises(IntegrationDisabled, match="Run: navi-int enable linear --project p1"):
        service.get_token("linear", project_id="p1")
    assert service.get_token("linear", project_id="p2")  # other projects unaffected

    service.disable("linear")
    with pytest.raises(IntegrationDisabled):
        service.get_token("linear", project_id="p2")  # p2 inherits the global switch
    service.enable("linear", project_id="p2")
    assert service.get_token("linear", project_id="p2")  # explicit project value wins

    service.update_settings("linear", mcp_enabled=False)
    service.update_settings("linear", project_id="p3", skill_enabled=False)
    p3 = service.effective("linear", project_id="p3")
    assert (p3.enabled, p3.mcp_enabled, p3.skill_enabled) == (False, False, False)


def test_status_document_has_the_prd_shape(service: Any) -> None:
    service.connect("slack", SLACK)
    service.disable("slack", project_id="p1")
    service.update_settings("slack", project_id="p1", mcp_enabled=False)
    document = service.status_document(project_id="p1")
    slack = next(i for i in document["integrations"] if i["provider"] == "slack")
    # its accounts (named connections): the one connected is the default and in use
    accounts = slack.pop("accounts")
    assert slack.pop("accountInUse") == "default"
    assert [(a["name"], a["scope"], a["default"], a["inUse"], a["health"]) for a in accounts] == [
        ("default", "global", True, True, "unknown")
    ]
    assert slack == {
        "provider": "slack",
        "name": "Slack",
        "authType": "api_key",
        "hasCredentials": True,
        "credentialScope": "global",
        "projectId": "p1",
        "rateLimitedUntil": None,
        "account": None,  # what a settings page shows: "Connected as …", the last error
        "lastCheckAt": None,
        "lastError": None,
        # what is set for the project itself (None: inherited from the global switch)
        "projectSwitches": {"enabled": False, "mcpEnabled": False, "skillEnabled": None},
        "status": {
            "global": {
                "enabled": True,
                "mcpEnabled": True,
                "skillEnabled": True,
                "health": "unknown",
            },
            "project": {
                "enabled": False,
                "mcpEnabled": False,
                "skillEnabled": True,
                "health": "disabled",
            },
        },
    }
    linear = next(i for i in document["integrations"] if i["provider"] == "linear")
    assert (linear["hasCredentials"], linear["credentialScope"]) == (False, None)
    assert "project" not in service.status_document()["integrations"][0]["status"]


def test_token_document_and_last_used(service: Any) -> None:
    """``connect`` counts as a use; a read within LAST_USED_RESOLUTION_MS of the last recorded
    use writes nothing, and one after it records the new use."""
    from navi_integrations.service import LAST_USED_RESOLUTION_MS
    from navi_integrations.store.tables import Credential

    def last_used() -> int:
        with service.store.read() as conn:
            return int(conn.execute(Credential.__table__.select()).one().last_used_at)

    before = int(time.time() * 1000)
    service.connect("linear", {"apiKey": LINEAR_USER})
    connected = last_used()
    assert connected >= before
    token = service.get_token("linear")
    assert token.to_document() == {"type": "api_key", "value": LINEAR_USER, "expiresAt": None}
    assert LINEAR_USER not in repr(token)
    assert last_used() == connected  # within the resolution: no write
    with service.store.write() as conn:  # the last use was long ago
        conn.execute(
            Credential.__table__.update().values(last_used_at=connected - LAST_USED_RESOLUTION_MS)
        )
    service.get_token("linear")
    assert last_used() >= before


def test_errors_are_counted_redacted_and_reset(service: Any) -> None:
    service.connect("slack", SLACK)
    secret = SLACK["botToken"]
    for _ in range(3):
        service.record_error("slack", f"401 from slack.com with Bearer {secret} (token {secret})")
    status = service.status()[[s.provider for s in service.status()].index("slack")]
    assert status.health == "failed"
    from navi_integrations.store.tables import Credential, IntegrationStatus

    with service.store.read() as conn:
        row = conn.execute(Credential.__table__.select()).one()
        health = conn.execute(IntegrationStatus.__table__.select()).one()
    assert row.error_count == 3
    assert secret not in row.last_error and "[redacted]" in row.last_error
    assert secret not in health.error_message
    service.record_success("slack")
    with service.store.read() as conn:
        row = conn.execute(Credential.__table__.select()).one()
    assert (row.error_count, row.last_error) == (0, None)
    assert next(s for s in service.status() if s.provider == "slack").health == "healthy"


def test_subscribers_hear_connection_and_health_changes(service: Any) -> None:
    from navi_integrations import ChangeEvent

    events: list[ChangeEvent] = []

    def broken(event: ChangeEvent) -> None:
        raise RuntimeError("host app bug")

    service.subscribe(broken)  # must not stop the others or the operation
    unsubscribe = service.subscribe(events.append)
    service.connect("slack", SLACK)
    service.record_error("slack", "503 from Slack")
    service.record_error("slack", "503 from Slack")
    service.record_error("slack", "503 from Slack")
    service.record_success("slack")
    service.disable("slack", project_id="p1")
    service.disconnect("slack")
    unsubscribe()
    service.connect("slack", SLACK)
    assert [(e.kind, e.before, e.after, e.project_id) for e in events] == [
        ("connection", None, "connected", None),
        ("health", "unknown", "degraded", None),
        ("health", "degraded", "failed", None),
        ("health", "failed", "healthy", None),
        ("connection", None, "disabled", "p1"),
        ("connection", None, "disconnected", None),
    ]


def test_deferred_audit_writes_every_entry_by_close(service: Any) -> None:
    """Audit entries queued off the request path: none lost on close."""
    deferred = service.audit.deferred(max_delay=0.5)
    for n in range(120):
        deferred.add("tool_call", "linear", caller=f"agent/{n}", tool="echo", duration_ms=n)
    deferred.close()
    entries = service.audit_log(kind="tool_call", limit=500)
    assert sorted(e["durationMs"] for e in entries) == list(range(120))
    assert deferred.lost == 0
    deferred.add("tool_call", "linear", caller="late")  # after close: written at once
    assert service.audit_log(kind="tool_call", limit=1)[0]["caller"] == "late"
