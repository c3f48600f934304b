"""What the gateway records about calls, written off the request path.

A tool call's audit entry goes to a :class:`~navi_integrations.service.audit.DeferredAudit`
(batched: one transaction for the calls of each 50 ms), a provider's success to its health
row at most once a second, from one writer thread. :meth:`Bookkeeping.close` writes
everything still queued, so stopping the gateway loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..service import IntegrationService
    from .parts import ProviderState

__all__ = ["Bookkeeping"]

_log = logging.getLogger(__name__)

#: Fewest seconds between two health writes of one provider's successes.
SUCCESS_INTERVAL = 1.0


class Bookkeeping:
    """The audit and health writes of one gateway's calls."""

    def __init__(self, service: IntegrationService, project_id: str | None) -> None:
        self._service = service
        self._project_id = project_id
        self._audit = service.audit.deferred()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="navi-gateway-store")

    def tool_call(
        self, provider_id: str, *, caller: str, tool: str, duration_ms: int, outcome: str
    ) -> None:
        """Queue the audit entry of one tool call (never its arguments or answer)."""
        self._audit.add(
            "tool_call",
            provider_id,
            project_id=self._project_id,
            caller=caller,
            tool=tool,
            duration_ms=duration_ms,
            outcome=outcome,
        )

    def success(self, state: ProviderState) -> None:
        """Note a provider's success for health, at most once a second."""
        now = time.monotonic()
        if now - state.health_written < SUCCESS_INTERVAL:
            return
        state.health_written = now
        self._submit(self._service.record_success, state.provider_id, project_id=self._project_id)

    def close(self) -> None:
        """Write what is queued; later writes happen at once."""
        self._writer.shutdown(wait=True)
        self._audit.close()

    def _submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception as exc:  # bookkeeping must never fail a call
                _log.warning("navi-gateway: cannot record to the store: %s", exc)

        with contextlib.suppress(RuntimeError):  # shutting down
            self._writer.submit(run)
