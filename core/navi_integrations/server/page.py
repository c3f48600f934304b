"""The settings page (PRD F6): a server-rendered shell and a plain JavaScript module.

No build step: ``static/settings.js`` is a hand-written ES module that reads
the same API a script uses (``/api/credentials/providers``), renders the
cards (each with its plugin's icon from ``iconUrl``, or the name's initial),
and follows ``/api/events`` to update without reloading. The page loads
nothing from elsewhere (its CSP), and has its own favicon. The browser
gets its session from the one-time login code ``navi-int serve`` prints.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import InvalidInput, NaviError
from ..scopes import check_project_id
from .security import SESSION_COOKIE

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).parent / "static"

#: Everything the page loads comes from this server; nothing may frame it.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") + "/"


def _shell(request: Request, title: str, body: str) -> str:
    base = html.escape(_base(request))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<base href="{base}">
<title>{html.escape(title)}</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="icon" href="favicon.ico" sizes="32x32">
<link rel="stylesheet" href="static/settings.css">
</head>
<body>
{body}
</body>
</html>
"""


#: The selector's option for typing a project id the store does not know yet.
_NEW = "__new__"


@router.get("/", response_class=HTMLResponse)
def settings_page(
    request: Request,
    project: Annotated[str | None, Query(max_length=128)] = None,
    new: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """The settings page, or the login form without a session.

    ``?project=ID`` opens that project (a link keeps the choice); the selector's
    "new id" choice sends ``project=__new__&new=ID``, checked as the CLI checks
    ``--project`` and redirected to ``?project=ID``.
    """
    settings = request.app.state.settings
    session = settings.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return HTMLResponse(_shell(request, "Sign in · Integrations", _LOGIN), headers=_HEADERS)
    problem = ""
    chosen = settings.project_id
    try:
        if project == _NEW:
            typed = check_project_id((new or "").strip())
            return RedirectResponse(f"{_base(request)}?project={quote(typed)}", status_code=303)
        if project:
            chosen = check_project_id(project)
    except InvalidInput as exc:
        problem = f"Not a project id: {exc.message}. Showing {chosen or 'all projects'}."
    known = set(request.app.state.service.project_ids())
    known |= {p for p in (settings.project_id, chosen) if p}
    options = [("", "All projects", not chosen)]
    options += [(p, p, p == chosen) for p in sorted(known)]
    options.append((_NEW, "New project id…", False))
    body = _PAGE.format(
        csrf=html.escape(session.csrf),
        project=html.escape(chosen or "", quote=True),
        options="\n".join(
            f'<option value="{html.escape(v, quote=True)}"{" selected" if s else ""}>'
            f"{html.escape(label)}</option>"
            for v, label, s in options
        ),
        problem=html.escape(problem),
        hidden="" if problem else " hidden",
    )
    return HTMLResponse(_shell(request, "Integrations", body), headers=_HEADERS)


#: The navi mark: public (the login page shows it too), cached for a day, never sniffed.
_FAVICON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "public, max-age=86400",
}


@router.get("/favicon.svg")
def favicon_svg() -> Response:
    """The page's icon (the navi mark, linked from every page's head)."""
    data = (STATIC_DIR / "favicon.svg").read_bytes()
    return Response(data, media_type="image/svg+xml", headers=_FAVICON_HEADERS)


@router.get("/favicon.ico")
def favicon_ico() -> Response:
    """The same mark as a 32 px ICO, for browsers and tools that ask for /favicon.ico."""
    data = (STATIC_DIR / "favicon.ico").read_bytes()
    return Response(data, media_type="image/x-icon", headers=_FAVICON_HEADERS)


@router.get("/login")
def login(request: Request, code: Annotated[str, Query(max_length=128)] = "") -> Response:
    """Spend a one-time login code: the browser gets its session cookie."""
    session = request.app.state.settings.sessions.redeem(code)
    if session is None:
        body = _LOGIN.replace(
            "<!--problem-->",
            '<p class="error" role="alert">That login code was already used or has expired. '
            "Run <code>navi-int serve</code> again for a new one.</p>",
        )
        return HTMLResponse(
            _shell(request, "Sign in · Integrations", body), status_code=401, headers=_HEADERS
        )
    response = RedirectResponse(_base(request), status_code=303, headers=_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        httponly=True,
        samesite="strict",
        path=_base(request),
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the browser session (a form post from the page: SameSite keeps it same-site)."""
    request.app.state.settings.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(_base(request), status_code=303, headers=_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path=_base(request))
    return response


@router.get("/oauth/callback", name="oauth_callback", response_class=HTMLResponse)
def oauth_callback(
    request: Request,
    state: Annotated[str, Query(max_length=256)] = "",
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """Where the provider sends the browser back: complete the sign-in (store, record health),
    then tell the page that opened the popup and close it.

    No session is asked for: SameSite=Strict keeps the cookie off this cross-site
    redirect. The ``state`` is the proof instead: unguessable, issued to an
    authenticated ``POST /api/credentials/{provider}/oauth``, spent once.
    """
    svc = request.app.state.service
    try:
        provider, result = svc.complete_sign_in(state, code=code, error=error)
    except NaviError as exc:
        ok, provider, text, status = False, "", exc.message, 400
    else:
        name = svc.catalog.document(provider)["name"]
        who = f" as {result.account}" if result.account else ""
        ok, text, status = True, f"Connected {name}{who}.", 200
        metrics = request.app.state.metrics
        metrics.setup_successes.labels(provider).inc()
        metrics.connected(provider)
    body = _DONE.format(
        ok="yes" if ok else "no",
        provider=html.escape(provider, quote=True),
        message=html.escape(text, quote=True),
        text=html.escape(text[:1].upper() + text[1:]),
    )
    title = "Signed in · Integrations" if ok else "Sign-in failed · Integrations"
    return HTMLResponse(_shell(request, title, body), status_code=status, headers=_HEADERS)


_DONE = """<main class="login oauth-done" data-ok="{ok}" data-provider="{provider}"
 data-message="{message}">
<h1>Integrations</h1>
<p role="status">{text}</p>
<p>You can close this window, or go <a href="./">back to the settings page</a>.</p>
</main>
<script type="module" src="static/oauth-done.js"></script>"""

_LOGIN = """<main class="login">
<h1>Integrations</h1>
<!--problem-->
<p>Open the link <code>navi-int serve</code> printed, or paste its login code.</p>
<form action="login" method="get">
<label for="code">Login code</label>
<input id="code" name="code" autocomplete="one-time-code" required>
<button type="submit">Sign in</button>
</form>
</main>"""

_PAGE = r"""<meta name="csrf-token" content="{csrf}">
<a class="skip" href="#connected">Skip to your integrations</a>
<header class="top">
<h1>Integrations</h1>
<meta name="navi-project" content="{project}">
<form class="project" id="project-form" action="" method="get">
<label for="project-select">Project</label>
<select id="project-select" name="project">
{options}
</select>
<span id="project-new-field" hidden>
<label for="project-new" class="sr-only">New project id</label>
<input id="project-new" name="new" placeholder="new project id" autocomplete="off"
 pattern="[A-Za-z0-9][A-Za-z0-9._:@\/+\-]{{0,127}}"
 title="Letters, digits and . _ : @ / + - (starting with a letter or digit), up to 128">
</span>
<button type="submit">Show</button>
</form>
</header>
<main>
<p class="tip">Tip: you can also set an integration up by chatting — ask your agent to
"connect Linear" and it walks you through it.</p>
<div id="announce" class="sr-only" aria-live="polite"></div>
<p id="problem" class="error" role="alert"{hidden}>{problem}</p>
<section aria-labelledby="connected-title">
<h2 id="connected-title">Connected</h2>
<div id="connected" class="cards" tabindex="-1"><p class="empty">Loading…</p></div>
</section>
<section aria-labelledby="available-title">
<h2 id="available-title">Available</h2>
<div id="available" class="cards"></div>
</section>
</main>
<dialog id="connect-dialog" aria-labelledby="connect-title">
<form id="connect-form" method="dialog">
<h2 id="connect-title">Connect</h2>
<div id="connect-guide"></div>
<div id="connect-fields"></div>
<div id="connect-problem" class="error" role="alert" hidden></div>
<div class="actions">
<button type="button" id="connect-cancel" class="secondary">Cancel</button>
<button type="submit" id="connect-submit">Test and save</button>
</div>
</form>
</dialog>
<form action="logout" method="post" class="logout"><button class="link">Sign out</button></form>
<script type="module" src="static/settings.js"></script>"""
