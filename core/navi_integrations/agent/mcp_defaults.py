"""Built-in plugin: the default ``mcp_config``, which fills the provider's declared ``mcp``.

Registered ``trylast``: a plugin answers first when its server needs more
than filling ``{{field}}`` placeholders.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..models import Credentials, IntegrationProvider, McpServer
from .mcp import fill_mcp_server


@hookimpl(trylast=True)
def mcp_config(provider: IntegrationProvider, credentials: Credentials) -> McpServer | None:
    """Fill the declared ``mcp`` section (``None`` for providers without one)."""
    return fill_mcp_server(provider, credentials)
