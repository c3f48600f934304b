"""What the registry reports about plugins: each plugin, and what could not be loaded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["LoadProblem", "PluginInfo"]


@dataclass(frozen=True)
class PluginInfo:
    """A registered plugin: its name, where it comes from, and the providers it declares."""

    name: str
    distribution: str
    version: str
    providers: tuple[str, ...] = ()
    builtin: bool = False

    def to_document(self) -> dict[str, Any]:
        """JSON document with camelCase keys."""
        return {**asdict(self), "providers": list(self.providers)}


@dataclass(frozen=True)
class LoadProblem:
    """Something that could not be loaded: a plugin, or one provider definition."""

    plugin: str
    distribution: str | None
    version: str | None
    message: str

    def __str__(self) -> str:
        origin = f"{self.distribution} {self.version}" if self.distribution else self.plugin
        return f"{origin}: {self.message}"

    def to_document(self) -> dict[str, Any]:
        """JSON document with camelCase keys."""
        return {
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "error": self.message,
        }
