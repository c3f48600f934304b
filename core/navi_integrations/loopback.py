"""Loopback access shared by the HTTP API and the MCP gateway: the bearer token, the
names a loopback server answers to, and constant-time comparison.

The bearer token lives in ``<data dir>/api-token`` (mode 0600, created on
first use); ``navi-int api-token`` prints it. One token opens both servers.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from .paths import data_dir, private_dir

__all__ = [
    "LOOPBACK_NAMES",
    "api_token",
    "api_token_path",
    "host_allowed",
    "is_loopback",
    "same_secret",
]

#: The names a loopback server answers to (anything else is DNS rebinding or a mistake).
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


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


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
