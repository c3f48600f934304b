"""Who may call the API: the bearer token, browser sessions from one-time login codes,
CSRF tokens, and the Host check against DNS rebinding.

The bearer token and the loopback rules are :mod:`navi_integrations.loopback`'s
(shared with the MCP gateway), re-exported here. Sessions and login codes live in
the server's memory: a restart logs the browser out, which is what a
loopback tool wants.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from ..loopback import (
    LOOPBACK_NAMES,
    api_token,
    api_token_path,
    host_allowed,
    is_loopback,
    same_secret,
)

__all__ = [
    "LOOPBACK_NAMES",
    "SESSION_COOKIE",
    "Session",
    "Sessions",
    "api_token",
    "api_token_path",
    "host_allowed",
    "is_loopback",
    "same_secret",
]

SESSION_COOKIE = "navi_session"
#: How long a login code printed by ``navi-int serve`` stays valid (seconds).
LOGIN_CODE_TTL = 600.0
#: How long a browser session lasts without use (seconds).
SESSION_TTL = 12 * 3600.0


@dataclass
class Session:
    """A browser session: its id (the cookie), its CSRF token, and when it expires."""

    id: str
    csrf: str
    expires: float


class Sessions:
    """One-time login codes and the browser sessions they open (in memory)."""

    def __init__(self) -> None:
        self._codes: dict[str, float] = {}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new_code(self) -> str:
        """A one-time login code (valid :data:`LOGIN_CODE_TTL` seconds)."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = time.monotonic() + LOGIN_CODE_TTL
        return code

    def redeem(self, code: str) -> Session | None:
        """Open a session with a login code, which is then spent (None: unknown or expired)."""
        with self._lock:
            now = time.monotonic()
            self._codes = {c: t for c, t in self._codes.items() if t > now}
            found = next((c for c in self._codes if hmac.compare_digest(c, code)), None)
            if found is None:
                return None
            del self._codes[found]
            session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), 0.0)
            session.expires = now + SESSION_TTL
            self._sessions[session.id] = session
            return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, its expiry extended (None: none or expired)."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            now = time.monotonic()
            if session is None or session.expires <= now:
                self._sessions.pop(session_id, None)
                return None
            session.expires = now + SESSION_TTL
            return session

    def end(self, session_id: str | None) -> None:
        """Log a session out."""
        with self._lock:
            self._sessions.pop(session_id or "", None)
