"""Built-in plugin: the default ``refresh`` for OAuth providers (generic refresh-token grant).

Registered ``trylast``: a provider plugin whose refresh differs implements
``refresh`` itself and answers first.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..models import Credentials, IntegrationProvider


@hookimpl(trylast=True)
def refresh(provider: IntegrationProvider, credentials: Credentials) -> Credentials | None:
    """Renew the access token of any provider with an ``oauth`` section."""
    if provider.auth_type != "oauth" or provider.oauth is None:
        return None
    from ._token_endpoint import refresh as refresh_token

    return refresh_token(provider, credentials)
