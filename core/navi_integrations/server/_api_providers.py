"""The providers' own files: ``GET /api/providers/{provider}/icon``, the SVG icon a plugin ships.

The registry found and checked each icon when the plugins loaded
(:mod:`navi_integrations.plugins.icons`); this route only serves the checked
bytes, as ``image/svg+xml`` with a policy that forbids everything an image
does not need. It needs a caller like every API route: the page's ``<img>``
carries its session cookie, and a page on another site cannot probe which
plugins are installed (the cookie is SameSite=Strict; the resource is
same-origin only). :func:`icon_url` is where the provider documents point.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from ..errors import ProviderNotFound
from ..plugins.icons import MEDIA_TYPE, Icon, is_remote
from ._api_common import ERRORS, Caller, Provider, service_of

__all__ = ["ICON_HEADERS", "icon_url", "router"]

router = APIRouter(responses=ERRORS)

#: Sent with every icon: never sniffed as another type, nothing it may load or run (inline
#: styles excepted: SVGs use them), not embeddable by another site, cached for an hour and
#: revalidated by its ETag (the URL the documents give changes with the bytes).
ICON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "private, max-age=3600",
}


def _icon(request: Request, provider_id: str) -> Icon | None:
    try:
        icon: Icon | None = service_of(request).registry.icon(provider_id)
    except ProviderNotFound:
        return None
    return icon


def icon_url(request: Request, provider_id: str) -> str | None:
    """Where this server serves the provider's icon (an absolute path that changes with the
    icon's bytes), or None when it serves none."""
    icon = _icon(request, provider_id)
    if icon is None:
        return None
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{root}/api/providers/{quote(provider_id, safe='')}/icon?v={icon.digest}"


def _etag(icon: Icon) -> str:
    return f'"{icon.digest}"'


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/api/providers/{provider}/icon",
    tags=["providers"],
    response_class=Response,
    responses={
        200: {
            "description": "The provider's SVG icon, as its plugin ships it",
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        404: {"description": "Unknown provider, or it has no icon this server serves"},
    },
)
def provider_icon(
    request: Request,
    provider: Provider,
    _who: Caller,
    v: Annotated[
        str | None,
        Query(max_length=64, description="The icon's digest (the documents' iconUrl has it)"),
    ] = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The provider's icon (``iconUrl`` in ``GET /api/credentials/providers``): the SVG file
    its plugin ships, checked when it loaded. 404 when the provider gives none, gives a URL
    (never fetched) or its file was refused (``navi-int plugins`` says why)."""
    doc = service_of(request).catalog.document(provider)  # unknown: 404 ProviderNotFound
    icon = _icon(request, provider)
    if icon is None:
        return _no_icon(doc)
    etag = _etag(icon)
    headers = {**ICON_HEADERS, "ETag": etag}
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(icon.data, media_type=MEDIA_TYPE, headers=headers)


def _no_icon(doc: Any) -> JSONResponse:
    declared: str = doc.get("icon") or ""
    name = doc["name"]
    if not declared:
        why, action, command = f"{name}'s plugin gives no icon", "none", None
    elif is_remote(declared):
        why, action, command = (
            f"{name}'s icon is a URL, which this server never fetches",
            "none",
            None,
        )
    else:
        why, action, command = (
            f"{name}'s icon file was refused when its plugin loaded",
            "fix_plugin",
            "navi-int plugins",
        )
    return JSONResponse(
        {
            "error": "IconNotFound",
            "message": f"no icon is served for {name}: {why}",
            "advice": {
                "action": action,
                "command": command,
                "hint": "the settings page shows the name's initial instead",
            },
        },
        status_code=404,
    )
