"""Advice: what fixes a failed check or call, worded by the recovery rules
(:func:`navi_integrations.health.recovery.classify`) for the provider's auth type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import (
    Advice,
)

if TYPE_CHECKING:
    from ..errors import Advice
    from ..results import HealthResult
    from ._parts import Parts

__all__ = ["Advisor"]


class Advisor:
    """Turns a failed check or call into its recovery action and advice."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    def advice_for(
        self,
        provider_id: str,
        result: HealthResult,
        *,
        project_id: str | None = None,
        connecting: bool = False,
    ) -> Advice | None:
        """What fixes a failed check or call (``connecting``: during ``connect`` itself)."""
        if result.ok:
            return None
        return self.classify(provider_id, result, project_id=project_id, connecting=connecting)[1]

    def classify(
        self,
        provider_id: str,
        result: HealthResult,
        *,
        project_id: str | None = None,
        connecting: bool = False,
    ) -> tuple[str, Advice | None]:
        """(recovery action, advice) for a failed check or call."""
        from ..health.recovery import classify

        doc = self._parts.catalog.document(provider_id)
        cli = doc.get("cli")
        error = classify(
            provider_id,
            doc["name"],
            doc["authType"],
            result,
            project_id=project_id,
            auth_command=cli.get("authCommand") if cli and doc["authType"] == "cli" else None,
            connecting=connecting,
        )
        return error.action, error.advice
