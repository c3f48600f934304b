"""Loading plugins: built-ins, entry points and host-app objects on one pluggy manager.

:class:`PluginLoader` is the collaborator of :class:`~navi_integrations.plugins.registry.Registry`
that registers plugins: each one on its own, so one that fails to import,
implements an unknown hook or a wrapper, or reuses a plugin name is recorded
as a :class:`LoadProblem` and skipped while the rest load. It also knows
where each plugin came from (its distribution and version), which every
error about a plugin names. The registry adds the providers and the hook calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import pluggy
from pydantic import ValidationError

from .. import hookspecs
from ..errors import PluginError
from .discovery import BUILTIN_PLUGINS, CORE_DISTRIBUTION, Candidate, blocked, discover
from .info import LoadProblem

if TYPE_CHECKING:
    from ..models import IntegrationProvider

__all__ = ["Origin", "PluginLoader", "describe_error"]


@dataclass
class Origin:
    """Where a registered plugin came from: its distribution and version, built in or not."""

    distribution: str
    version: str
    builtin: bool = False


class PluginLoader:
    """Registers plugins on a pluggy manager (``pm``), isolating broken ones.

    ``environ`` holds the switches the registry's docstring lists.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._on_change = on_change
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        #: Where each registered plugin came from, by plugin name.
        self.origins: dict[str, Origin] = {}
        #: Plugins that could not be registered, with why.
        self.load_problems: list[LoadProblem] = []
        self._loaded = False
        #: Incremented whenever the set of plugins changes (for snapshot holders).
        self.generation = 0
        #: Whether hook calls are traced to stderr (``NAVI_INTEGRATIONS_TRACE``).
        self.trace = self._environ.get("NAVI_INTEGRATIONS_TRACE", "") not in ("", "0")

    # -- loading ---------------------------------------------------------

    def load(
        self,
        *,
        entry_points: bool = True,
        builtins: bool = True,
        candidates: list[Candidate] | None = None,
    ) -> Self:
        """Register the built-in plugins and every allowed entry point. Idempotent.

        ``candidates`` are entry points already discovered (internal use).
        """
        if self._loaded:
            return self
        self._loaded = True
        if builtins:
            self._load_builtins(blocked(self._environ))
        if entry_points:
            for candidate in discover(self._environ) if candidates is None else candidates:
                self._load_entry_point(candidate)
        return self

    def _load_builtins(self, block: set[str]) -> None:
        import importlib

        from .._version import __version__

        for name, module_name in BUILTIN_PLUGINS:
            if name in block:
                continue
            module = importlib.import_module(module_name)
            self._register(module, name, Origin(CORE_DISTRIBUTION, __version__, builtin=True))

    def _load_entry_point(self, c: Candidate) -> None:
        if c.name in self.origins:
            other = self.origins[c.name]
            self._problem(
                c.name,
                c.distribution,
                c.version,
                f"plugin name '{c.name}' is already used by {other.distribution} "
                f"{other.version}; not loaded",
            )
            return
        try:
            plugin = c.entry_point.load()
        except Exception as exc:  # a broken plugin must not break the others
            self._problem(
                c.name, c.distribution, c.version, f"failed to import: {describe_error(exc)}"
            )
            return
        self._register(plugin, c.name, Origin(c.distribution, c.version))

    def register_plugin(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str = "<host app>",
        version: str = "",
    ) -> str:
        """Register a plugin object (module, class or instance with hook implementations).

        For host apps and tests. Returns the name it was registered under.
        Raises :class:`PluginError` if it implements an unknown hook or a wrapper.
        """
        name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
        problem = self._register(plugin, name, Origin(distribution, version), record=False)
        if problem is not None:
            raise PluginError(name, problem, distribution=distribution, version=version or None)
        return name

    def register_provider(
        self, provider: IntegrationProvider, *, distribution: str = "<host app>"
    ) -> str:
        """Register a provider object directly, without a plugin; returns the plugin name."""

        class _StaticProvider:
            @hookspecs.hookimpl
            def describe(self) -> IntegrationProvider:
                return provider

        return self.register_plugin(
            _StaticProvider(), f"provider:{provider.id}", distribution=distribution
        )

    def unregister(self, name: str) -> None:
        """Remove a registered plugin by name (no error if absent)."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin, name)
        self.origins.pop(name, None)
        self.changed()

    def _register(
        self, plugin: object, name: str, origin: Origin, *, record: bool = True
    ) -> str | None:
        message: str | None = None
        try:
            self.pm.register(plugin, name)
        except ValueError as exc:  # already registered under that name, or blocked
            message = str(exc)
        except pluggy.PluginValidationError as exc:
            message = f"invalid hook implementation: {exc}"
        else:
            message = self._check_impls(plugin)
            if message is not None:
                self.pm.unregister(plugin, name)
        if message is not None:
            if record:
                self._problem(name, origin.distribution, origin.version, message)
            return message
        self.origins[name] = origin
        self.changed()
        return None

    def _check_impls(self, plugin: object) -> str | None:
        callers = self.pm.get_hookcallers(plugin) or []
        for caller in callers:
            if not caller.has_spec():
                import difflib

                known = [name for name in dir(hookspecs) if not name.startswith("_")]
                close = difflib.get_close_matches(caller.name, known, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else "misspelt?"
                return f"implements unknown hook '{caller.name}' ({hint})"
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    return f"hook '{caller.name}' is a wrapper: navi hooks refuse wrappers"
        return None

    def _problem(self, plugin: str, dist: str | None, version: str | None, message: str) -> None:
        self.load_problems.append(LoadProblem(plugin, dist, version, message))

    def changed(self) -> None:
        """The set of plugins changed: what was derived from it is stale."""
        self.generation += 1
        if self._on_change is not None:
            self._on_change()

    # -- origins ---------------------------------------------------------

    def origin_text(self, plugin_name: str) -> str:
        origin = self.origins.get(plugin_name)
        if origin is None:
            return plugin_name
        return f"{origin.distribution} {origin.version}".strip()

    def problem_of(self, plugin_name: str, message: str) -> LoadProblem:
        origin = self.origins.get(plugin_name)
        if origin is None:
            return LoadProblem(plugin_name, None, None, message)
        return LoadProblem(plugin_name, origin.distribution, origin.version, message)

    def plugin_error(self, plugin: str, message: str) -> PluginError:
        origin = self.origins.get(plugin, Origin("<unknown>", ""))
        return PluginError(
            plugin, message, distribution=origin.distribution, version=origin.version or None
        )


def describe_error(exc: BaseException) -> str:
    """One line saying what went wrong (a validation error: its first problem and where)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"]) or "provider"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{loc}: {first['msg']}{more}"
    return f"{type(exc).__name__}: {exc}"
