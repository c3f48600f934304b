"""The service: :class:`IntegrationService`, the facade every surface and host app uses,
composed of collaborators with names of their own (see :mod:`._facade`); and the
functions host apps call with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ..credentials import Credentials
from ..documents import ProviderStatus, Token
from ..store.reads import LAST_USED_RESOLUTION_MS
from ._facade import IntegrationService
from .credentials import token_of

if TYPE_CHECKING:
    from ..agent.mcp import McpConfig
    from ..health.recovery import RecoveryPolicy

__all__ = [
    "LAST_USED_RESOLUTION_MS",
    "IntegrationService",
    "ProviderStatus",
    "Token",
    "acall_with_recovery",
    "build_mcp_config",
    "call_with_recovery",
    "token_of",
]

T = TypeVar("T")


def call_with_recovery(
    provider_id: str,
    fn: Callable[[Credentials], T],
    *,
    project_id: str | None = None,
    service: IntegrationService | None = None,
    policy: RecoveryPolicy | None = None,
) -> T:
    """Call ``fn(credentials)`` for a provider, recovering what can be recovered.

    See :mod:`navi_integrations.health.recovery`. Raises
    :class:`~navi_integrations.errors.IntegrationError` when it gives up.
    """
    from ..health.recovery import run_with_recovery

    context = _service(service).recovery_context(provider_id, project_id=project_id)
    return run_with_recovery(context, fn, policy)


async def acall_with_recovery(
    provider_id: str,
    fn: Callable[[Credentials], Awaitable[T]],
    *,
    project_id: str | None = None,
    service: IntegrationService | None = None,
    policy: RecoveryPolicy | None = None,
) -> T:
    """The async form of :func:`call_with_recovery` (``fn`` is a coroutine function)."""
    from ..health.recovery import run_with_recovery_async

    context = _service(service).recovery_context(provider_id, project_id=project_id)
    return await run_with_recovery_async(context, fn, policy)


def build_mcp_config(
    service: IntegrationService,
    *,
    runtime: str = "agent-sdk",
    project_id: str | None = None,
    env_refs: bool = False,
    gateway: bool = False,
) -> McpConfig:
    """The MCP config for ``runtime`` (same as ``service.mcp_config``): for host apps that
    inject servers at session start (``gateway``: one entry running ``navi-int gateway``)."""
    return service.mcp_config(
        runtime=runtime, project_id=project_id, env_refs=env_refs, gateway=gateway
    )


def _service(service: IntegrationService | None) -> IntegrationService:
    return service if service is not None else IntegrationService()
