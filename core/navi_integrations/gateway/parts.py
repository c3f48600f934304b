"""Parts of the gateway: its settings, the listings it saves between runs, and the
texts agents read."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp import types

    from ..errors import IntegrationError
    from ..health.recovery import RecoveryPolicy
    from .upstream import Upstream

__all__ = [
    "SEPARATOR",
    "GatewaySettings",
    "Listing",
    "ProviderState",
    "load_listings",
    "save_listing",
    "shape_key",
]

_log = logging.getLogger(__name__)

#: Between the provider id and the upstream's own name (provider ids never contain it).
SEPARATOR = "__"


def _env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True)
class GatewaySettings:
    """The gateway's bounds; ``from_env`` reads ``NAVI_GATEWAY_*`` overrides."""

    #: Longest wait for one answer from an upstream (seconds).
    call_timeout: float = 60.0
    #: Total time one agent request may spend on retries (seconds).
    budget: float = 30.0
    #: Attempts per agent request, the first included.
    max_attempts: int = 5
    #: Longest wait for an upstream to start and initialize (seconds).
    connect_timeout: float = 30.0
    #: Unrecovered failures in a row after which a provider is isolated.
    isolate_after: int = 3
    #: How long an isolated provider is answered without being called (seconds).
    isolate_seconds: float = 60.0
    #: How often the store is polled for connections and switches changed elsewhere.
    poll_interval: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Defaults, overridden by ``NAVI_GATEWAY_CALL_TIMEOUT``, ``_BUDGET``,
        ``_CONNECT_TIMEOUT``, ``_ISOLATE_AFTER``, ``_ISOLATE_SECONDS``, ``_POLL_INTERVAL``."""
        env = os.environ if environ is None else environ
        d = cls()
        return cls(
            call_timeout=_env_float(env, "NAVI_GATEWAY_CALL_TIMEOUT", d.call_timeout),
            budget=_env_float(env, "NAVI_GATEWAY_BUDGET", d.budget),
            connect_timeout=_env_float(env, "NAVI_GATEWAY_CONNECT_TIMEOUT", d.connect_timeout),
            isolate_after=int(_env_float(env, "NAVI_GATEWAY_ISOLATE_AFTER", d.isolate_after)),
            isolate_seconds=_env_float(env, "NAVI_GATEWAY_ISOLATE_SECONDS", d.isolate_seconds),
            poll_interval=_env_float(env, "NAVI_GATEWAY_POLL_INTERVAL", d.poll_interval),
        )

    def policy(self) -> RecoveryPolicy:
        """The recovery bounds of one agent request."""
        from ..health.recovery import RecoveryPolicy

        return RecoveryPolicy(
            max_attempts=self.max_attempts, budget_seconds=self.budget, max_wait=self.budget
        )


@dataclass
class Listing:
    """What one upstream offers, as it names things (not yet namespaced)."""

    tools: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "tools": self.tools,
            "resources": self.resources,
            "templates": self.templates,
            "prompts": self.prompts,
        }


def load_listings(path: Path) -> dict[str, dict[str, Any]]:
    """The listings saved by earlier runs, by server shape (empty when none or unreadable)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def save_listing(path: Path, key: str, listing: Listing) -> None:
    """Save one server's listing (atomically; a read-only data dir only costs speed)."""
    saved = load_listings(path)
    saved[key] = listing.to_json()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(saved), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        _log.warning("navi-gateway: cannot save listings: %s", exc)


def shape_key(server: Any) -> str:
    """A provider's server by what it runs (command and arguments, or URL), never by its
    secrets: the key its listing is saved under."""
    if server.transport == "stdio":
        shape = [server.transport, server.command, *server.args]
    else:
        shape = [server.transport, server.url.split("?")[0]]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:32]


def _default_listings_path() -> Path:
    from ..paths import data_dir

    return data_dir() / "gateway" / "listings.json"


def _explain(error: IntegrationError) -> str:
    """What the agent reads: what happened, then what fixes it (never a traceback)."""
    text = error.message.rstrip(".") + "."
    advice = str(error.advice) if error.advice is not None else ""
    return f"{text} {advice}".strip()


def _tool_error(text: str) -> types.CallToolResult:
    from mcp import types

    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)


@dataclass
class ProviderState:
    """The gateway's state for one provider in the scope."""

    provider_id: str
    name: str
    credential_scope: str | None
    upstream: Upstream | None = None
    listing: Listing | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    failures: int = 0
    isolated_until: float = 0.0
    last_error: str = ""
    health_written: float = 0.0
    #: Until when (monotonic) requests skip the store and go straight to the upstream.
    warm_until: float = 0.0
