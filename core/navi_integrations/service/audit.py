"""The audit trail: who read which token, which tool the gateway called (never a value),
and the change marker that tells a server another process changed something."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..scopes import Scope
from ..store import reads

if TYPE_CHECKING:
    from ._parts import Parts

__all__ = ["AuditKind", "AuditTrail"]

#: What an audit entry records: a credential handed out, or a tool called through the gateway.
AuditKind = Literal["token_read", "tool_call"]


class AuditTrail:
    """Audit entries and change detection, over the queries."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    def audit_token_read(
        self, provider_id: str, project_id: str | None, caller: str, *, outcome: str = "ok"
    ) -> None:
        """Record that ``caller`` read ``provider_id``'s token in a scope (never the value)."""
        self.record_audit(
            "token_read", provider_id, project_id=project_id, caller=caller, outcome=outcome
        )

    def record_audit(
        self,
        kind: AuditKind,
        provider_id: str,
        *,
        project_id: str | None = None,
        caller: str = "",
        tool: str | None = None,
        duration_ms: int | None = None,
        outcome: str = "ok",
    ) -> None:
        """Append one audit entry: a token read, or a gateway tool call with its duration."""
        entry = reads.audit_entry(
            kind,
            provider_id,
            Scope.of(project_id).project_id,
            caller,
            outcome=outcome,
            tool=tool,
            duration_ms=duration_ms,
        )
        self._parts.queries.audit.record_audit(entry)

    def audit_log(
        self, *, limit: int = 100, kind: AuditKind | None = None, provider: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit entries first, as documents: ``{kind, provider, scope, projectId,
        caller, tool, durationMs, outcome, at}`` (``at`` in epoch milliseconds)."""
        rows = self._parts.queries.audit.audit_entries(limit=limit, kind=kind, provider=provider)
        return [
            {
                "kind": r["kind"],
                "provider": r["provider"],
                "scope": "project" if r["project_id"] else "user",
                "projectId": r["project_id"] or None,
                "caller": r["caller"],
                "tool": r["tool"],
                "durationMs": r["duration_ms"],
                "outcome": r["outcome"],
                "at": r["at"],
            }
            for r in rows
        ]

    def change_marker(self) -> tuple[Any, ...]:
        """A value that changes whenever any process changes a connection, switch or health
        (one cheap query): poll it to notice changes made elsewhere."""
        return self._parts.queries.audit.change_marker()
