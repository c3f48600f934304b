"""Who may call the API: the bearer token, browser sessions from one-time login codes,
CSRF tokens, and the Host check against DNS rebinding.

The bearer token lives in ``<data dir>/api-token`` (mode 0600, created on
first use); ``navi-int api-token`` prints it. Sessions and login codes live in
the server's memory: a restart logs the browser out, which is what a
loopback tool wants.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import data_dir, private_dir

__all__ = [
    "LOOPBACK_NAMES",
    "SESSION_COOKIE",
    "Session",
    "Sessions",
    "api_token",
    "api_token_path",
    "host_allowed",
    "is_loopback",
]

#: The names a loopback server answers to (anything else is DNS rebinding or a mistake).
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SESSION_COOKIE = "navi_session"
#: How long a login code printed by ``navi-int serve`` stays valid (seconds).
LOGIN_CODE_TTL = 600.0
#: How long a browser session lasts without use (seconds).
SESSION_TTL = 12 * 3600.0


def api_token_path(directory: Path | None = None) -> Path:
    """Where the API's bearer token is kept."""
    return (directory or data_dir()) / "api-token"


def api_token(directory: Path | None = None) -> str:
    """The API's bearer token, created (0600) on first use."""
    path = api_token_path(directory)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    private_dir(path.parent)
    token = "navi_" + secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address) only accepts connections from this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    """Whether a request's ``Host`` header names this server (the port is not checked)."""
    if not header:
        return False
    name = header.strip().lower()
    if name.startswith("["):  # [::1]:3001
        name = name.split("]", 1)[0] + "]"
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    return name in allowed


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


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
