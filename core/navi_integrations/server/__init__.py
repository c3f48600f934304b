"""The HTTP API and the settings page (``navi-int serve``; the ``server`` extra).

::

    from navi_integrations.server import create_app

    app = create_app()            # an ASGI app: run it with uvicorn, or mount it
    host_app.mount("/integrations", app)

Every route parses its input, calls one :class:`~navi_integrations.IntegrationService`
method and renders the result document the CLI's ``--json`` prints too. Access
control, the Host check, the change stream (``/api/events``) and ``/metrics``
are in this package; no workflow is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .security import api_token, api_token_path

if TYPE_CHECKING:
    from .app import ServerSettings, create_app

__all__ = ["ServerSettings", "api_token", "api_token_path", "create_app"]


def __getattr__(name: str) -> Any:
    # The app needs FastAPI (the 'server' extra); .security does not, and the gateway
    # (the 'gateway' extra) shares it: import the app only when it is asked for.
    if name in ("ServerSettings", "create_app"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
