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

from .app import ServerSettings, create_app
from .security import api_token, api_token_path

__all__ = ["ServerSettings", "api_token", "api_token_path", "create_app"]
