"""The MCP gateway (``navi-int gateway``): one MCP server for the agent, in front of every
connected, enabled, MCP-enabled provider's server, with credentials, recovery, health and
an audit on every tool call. Needs the ``gateway`` extra (the ``mcp`` SDK).

::

    from navi_integrations import IntegrationService
    from navi_integrations.gateway import Gateway

    gateway = Gateway(IntegrationService(), project_id="acme-site")
    asyncio.run(gateway.run_stdio())          # or: uvicorn.run(gateway.asgi_app())

Over HTTP, every request needs the HTTP API's bearer token (``navi-int api-token``),
a loopback ``Host`` at the serving port and no foreign ``Origin`` (see ``.access``).
"""

from __future__ import annotations

from .core import SEPARATOR, Gateway, GatewaySettings

__all__ = ["SEPARATOR", "Gateway", "GatewaySettings"]
