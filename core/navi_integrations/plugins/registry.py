"""The plugin manager: loads provider plugins, isolates broken ones, answers for providers.

Loading happens in :meth:`Registry.load` (never at import time). Each entry
point of the ``navi_integrations`` group is imported and registered on its
own; one that fails to import, registers an unknown hook or a wrapper is
recorded as a :class:`LoadProblem` and skipped. Providers are collected
from the ``describe`` hook lazily, the first time they are needed; each
provider's icon file is found and checked then (:mod:`.icons`): a refused one
is a load problem, and the provider loads without it.

Environment switches:

``NAVI_INTEGRATIONS_PLUGINS``
    comma-separated allow-list of plugin names (entry-point or distribution
    names); when set, only those external plugins load. Set it empty to load
    none (built-in plugins still load).
``NAVI_INTEGRATIONS_BLOCK_PLUGINS``
    comma-separated plugin names never to load (built-in ones included).
``NAVI_INTEGRATIONS_TRACE``
    when set to 1, every hook call is written to stderr with the plugin that
    answered and the time taken (argument values are never written).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import pluggy
from pydantic import ValidationError

from .. import _deprecation
from .._delegate import delegate
from ..errors import (
    FieldProblem,
    NaviError,
    PluginError,
    ProviderDefinitionError,
    ProviderNotFound,
)
from ..models import Credentials, IntegrationProvider, check_credential_values

if TYPE_CHECKING:
    from ..models import McpServer
    from ..results import HealthResult
    from .discovery import Candidate
from . import icons
from ._loading import Origin, PluginLoader, describe_error
from .icons import Icon
from .info import LoadProblem, PluginInfo

__all__ = ["Registry"]


@dataclass
class _Providers:
    by_id: dict[str, IntegrationProvider] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)
    #: Provider ids refused (e.g. declared twice), with why: said by every later lookup.
    refused: dict[str, str] = field(default_factory=dict)
    #: The checked SVG icon of each provider that has one the server can serve.
    icons: dict[str, Icon] = field(default_factory=dict)


class Registry:
    """Plugins and the providers they declare; the single way core code calls hooks.

    A host app usually makes one per process::

        registry = Registry()
        registry.load()                       # entry points + built-in plugins
        registry.register_provider(my_provider)  # optional, programmatic
        linear = registry.get("linear")

    Registering plugins (``register_plugin``, ``register_provider``,
    ``unregister``) belongs to its :attr:`loader`, a
    :class:`~navi_integrations.plugins._loading.PluginLoader`; the registry
    adds the providers and the hook calls.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.loader = PluginLoader(environ, on_change=self._changed)
        self._providers: _Providers | None = None

    register_plugin = delegate("loader", PluginLoader.register_plugin)
    register_provider = delegate("loader", PluginLoader.register_provider)
    unregister = delegate("loader", PluginLoader.unregister)

    def load(
        self,
        *,
        entry_points: bool = True,
        builtins: bool = True,
        candidates: list[Candidate] | None = None,
    ) -> Self:
        """Register the built-in plugins and every allowed entry point (idempotent); returns
        the registry. See :meth:`PluginLoader.load`."""
        self.loader.load(entry_points=entry_points, builtins=builtins, candidates=candidates)
        return self

    @property
    def pm(self) -> pluggy.PluginManager:
        """The pluggy manager the plugins are registered on."""
        return self.loader.pm

    @property
    def generation(self) -> int:
        """Incremented whenever the set of plugins changes (for snapshot holders)."""
        return self.loader.generation

    def _changed(self) -> None:
        self._providers = None

    # -- providers -------------------------------------------------------

    def _collect(self) -> _Providers:
        if self._providers is not None:
            return self._providers
        self.load()
        found: _Providers = _Providers()
        declared: dict[str, list[tuple[str, IntegrationProvider]]] = {}
        for impl in reversed(self.pm.hook.describe.get_hookimpls()):
            name = impl.plugin_name
            try:
                answer = self._call(impl, "describe", {})
            except PluginError as exc:
                found.problems.append(self.loader.problem_of(name, exc.message))
                continue
            for item in _as_items(answer):
                if isinstance(item, ProviderDefinitionError):
                    found.problems.append(self.loader.problem_of(name, str(item)))
                    continue
                try:
                    provider = _as_provider(item)
                except (ValidationError, TypeError) as exc:
                    message = f"describe returned an invalid provider: {describe_error(exc)}"
                    found.problems.append(self.loader.problem_of(name, message))
                    continue
                if provider.auth_type == "browser":
                    found.problems.append(
                        self.loader.problem_of(
                            name,
                            f"provider '{provider.id}' uses browser auth: "
                            "browser auth is not supported yet (PRD F7); not loaded",
                        )
                    )
                    continue
                declared.setdefault(provider.id, []).append((name, provider))
        for provider_id, claims in declared.items():
            files = [(n, p) for n, p in claims if getattr(p, "source", None) is not None]
            if files and len(files) < len(claims):
                # A user's provider file reusing an installed provider's id: the installed
                # one wins, the file is refused, and the file is named.
                for _name, provider in files:
                    others = " and ".join(
                        self.loader.origin_text(n) for n, _ in claims if (n, _) not in files
                    )
                    found.problems.append(
                        LoadProblem(
                            str(getattr(provider, "source", "")),
                            None,
                            None,
                            f"provider id '{provider_id}' is already provided by {others}; "
                            "this file is ignored: rename the file and its id, or remove it",
                        )
                    )
                claims = [c for c in claims if c not in files]
            if len(claims) > 1:
                owners = " and ".join(self.loader.origin_text(n) for n, _ in claims)
                for name, _ in claims:
                    found.problems.append(
                        self.loader.problem_of(
                            name,
                            f"provider id '{provider_id}' is declared by {owners}; "
                            "refused for both: uninstall one of them",
                        )
                    )
                found.refused[provider_id] = (
                    f"it is declared twice, by {owners}; both were refused: uninstall one"
                )
                continue
            name, provider = claims[0]
            found.by_id[provider_id] = provider
            found.owner[provider_id] = name
            self._read_icon(name, provider, found)
        self._providers = found
        return found

    def _read_icon(
        self, plugin_name: str, provider: IntegrationProvider, found: _Providers
    ) -> None:
        """Find and check the provider's icon file once; a refusal is a load problem (the
        provider still loads, shown with its initial). See :mod:`.icons`."""
        if not provider.icon or icons.is_remote(provider.icon):
            return  # no icon, or a URL: never fetched
        source = getattr(provider, "source", None)  # a user's provider file
        base = source.parent if isinstance(source, Path) else None
        if base is None:
            base = icons.plugin_dir(self.pm.get_plugin(plugin_name))
        try:
            icon = icons.resolve(provider.icon, base)
        except icons.IconRefused as exc:
            message = (
                f"the icon '{provider.icon}' of provider '{provider.id}' is refused: "
                f"{exc.reason}; the settings page shows its initial instead"
            )
            if isinstance(source, Path):
                found.problems.append(LoadProblem(str(source), None, None, message))
            else:
                found.problems.append(self.loader.problem_of(plugin_name, message))
            return
        if icon is not None:
            found.icons[provider.id] = icon

    def icon(self, provider_id: str) -> Icon | None:
        """The provider's checked SVG icon; None when it has none the server can serve (no
        icon, a URL, or a refused file: :meth:`problems` says why)."""
        self.get(provider_id)
        return self._collect().icons.get(provider_id)

    def providers(self) -> list[IntegrationProvider]:
        """Every loaded provider, sorted by id."""
        found = self._collect()
        return [found.by_id[k] for k in sorted(found.by_id)]

    def get(self, provider_id: str) -> IntegrationProvider:
        """The provider with this id; :class:`ProviderNotFound` (with a suggestion) if none."""
        found = self._collect()
        try:
            return found.by_id[provider_id]
        except KeyError:
            if provider_id in found.refused:
                raise ProviderNotFound(provider_id, refused=found.refused[provider_id]) from None
            raise ProviderNotFound.among(provider_id, found.by_id) from None

    def refused(self) -> dict[str, str]:
        """Provider ids that were refused (declared twice…), with the reason."""
        return dict(self._collect().refused)

    def owner(self, provider_id: str) -> PluginInfo:
        """The plugin that declares ``provider_id``."""
        self.get(provider_id)
        name = self._collect().owner[provider_id]
        return self._info(name)

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution, version and providers."""
        self._collect()
        return [self._info(name) for name in sorted(self.loader.origins)]

    def _info(self, name: str) -> PluginInfo:
        origin = self.loader.origins[name]
        owned = tuple(sorted(p for p, n in self._collect().owner.items() if n == name))
        return PluginInfo(name, origin.distribution, origin.version, owned, origin.builtin)

    def problems(self) -> list[LoadProblem]:
        """Plugins and provider definitions that could not be loaded, with the reason."""
        return [*self.loader.load_problems, *self._collect().problems]

    # -- per-provider hooks ----------------------------------------------

    def _dispatch_impls(self, hook_name: str, provider_id: str) -> list[pluggy.HookImpl]:
        """The implementations a provider's hook is aimed at, in pluggy's calling order.

        The plugin that described the provider, plugins that declare they extend
        it (a ``navi_extends`` collection of provider ids on the plugin), and
        the core's built-ins; never another provider's plugin, so one plugin
        never sees another provider's credentials, and its bugs stay its own.
        """
        owner = self._collect().owner.get(provider_id)
        chosen = []
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            name = impl.plugin_name
            origin = self.loader.origins.get(name)
            extends = getattr(impl.plugin, "navi_extends", ()) or ()
            if name == owner or (origin is not None and origin.builtin) or provider_id in extends:
                chosen.append(impl)
        return chosen

    def _call_provider_hook(
        self, hook_name: str, provider: IntegrationProvider, **kwargs: Any
    ) -> tuple[Any, str | None]:
        """Call a first-answer hook for one provider: (answer, plugin that gave it)."""
        args = {"provider": provider, **kwargs}
        for impl in self._dispatch_impls(hook_name, provider.id):
            answer = self._call(impl, hook_name, args, provider.id)
            if answer is not None:
                return answer, impl.plugin_name
        return None, None

    def call_provider_hook(
        self, hook_name: str, provider: IntegrationProvider, **kwargs: Any
    ) -> Any:
        """Deprecated since 0.2.0 (removed in 0.5.0): call the typed method instead.

        Calls a first-answer hook for one provider and returns the first answer
        that is not ``None`` (or ``None``), as 0.1.0 did; the implementations are
        those :meth:`health_check` and its siblings call. Use
        :meth:`health_check`, :meth:`mcp_config`, :meth:`refresh`,
        :meth:`validate` or :meth:`runtime_credentials`, which also check the
        type of the answer.
        """
        _deprecation.warn(
            "Registry.call_provider_hook",
            "Registry.health_check/mcp_config/refresh/validate/runtime_credentials",
        )
        answer, _plugin = self._call_provider_hook(hook_name, provider, **kwargs)
        return answer

    def _typed(
        self, hook_name: str, provider_id: str, expected: type | tuple[type, ...], **kwargs: Any
    ) -> Any:
        provider = self.get(provider_id)
        answer, plugin = self._call_provider_hook(hook_name, provider, **kwargs)
        if answer is not None and not isinstance(answer, expected):
            assert plugin is not None
            raise self.loader.plugin_error(
                plugin,
                f"hook '{hook_name}' for provider '{provider_id}' returned "
                f"{type(answer).__name__}, not {_type_names(expected)}",
            )
        return answer

    def health_check(
        self, provider_id: str, credentials: Credentials, timeout: float
    ) -> HealthResult | None:
        """The ``health_check`` hook for a provider (None: no plugin checks it)."""
        from ..results import HealthResult

        answer: HealthResult | None = self._typed(
            "health_check", provider_id, HealthResult, credentials=credentials, timeout=timeout
        )
        return answer

    def mcp_config(self, provider_id: str, credentials: Credentials) -> McpServer | None:
        """The ``mcp_config`` hook: the provider's filled MCP server (None: it has none)."""
        from ..models import HttpMcpServer, SseMcpServer, StdioMcpServer

        answer: McpServer | None = self._typed(
            "mcp_config",
            provider_id,
            (StdioMcpServer, SseMcpServer, HttpMcpServer),
            credentials=credentials,
        )
        return answer

    def refresh(self, provider_id: str, credentials: Credentials) -> Credentials | None:
        """The ``refresh`` hook: renewed credentials (None: no plugin can renew them)."""
        answer: Credentials | None = self._typed(
            "refresh", provider_id, Credentials, credentials=credentials
        )
        return answer

    def runtime_credentials(self, provider_id: str, credentials: Credentials) -> Credentials:
        """The ``runtime_credentials`` hook: credentials plus values known only at use."""
        answer: Credentials | None = self._typed(
            "runtime_credentials", provider_id, Credentials, credentials=credentials
        )
        return credentials if answer is None else answer

    def plugin_module(self, provider_id: str) -> str | None:
        """The module name of the plugin that describes ``provider_id`` (for its skills)."""
        owner = self.owner(provider_id)
        plugin = self.pm.get_plugin(owner.name)
        module = getattr(plugin, "__name__", None)
        return module if isinstance(module, str) else None

    def _call(
        self,
        impl: pluggy.HookImpl,
        hook_name: str,
        args: Mapping[str, Any],
        provider_id: str | None = None,
    ) -> Any:
        start = time.perf_counter()
        try:
            answer = impl.function(*(args[name] for name in impl.argnames))
        except NaviError:
            raise  # a deliberate, documented answer (e.g. GrantRevoked from refresh)
        except Exception as exc:
            origin = self.loader.origins.get(impl.plugin_name, Origin("<unknown>", ""))
            target = f" for provider '{provider_id}'" if provider_id else ""
            text = describe_error(exc)
            credentials = args.get("credentials")
            if isinstance(credentials, Credentials):  # its text may quote a value it was given
                text = credentials.redact(text)
            raise PluginError(
                impl.plugin_name,
                f"raised in hook '{hook_name}'{target}: {text}",
                distribution=origin.distribution,
                version=origin.version or None,
            ) from exc
        if self.loader.trace:
            took = (time.perf_counter() - start) * 1000
            target = f"[{provider_id}] " if provider_id else ""
            kind = "None" if answer is None else type(answer).__name__
            print(
                f"navi trace: {hook_name} {target}{impl.plugin_name} -> {kind} ({took:.2f} ms)",
                file=sys.stderr,
            )
        return answer

    def validate(
        self, provider_id: str, values: Mapping[str, str] | Credentials
    ) -> list[FieldProblem]:
        """Check credential values against the declared fields and the ``validate`` hook.

        The hook is asked once every required field is present; its problem
        for a field replaces the generic one (it says more). Returns the
        problems, empty when the values are acceptable.
        """
        provider = self.get(provider_id)
        credentials = values if isinstance(values, Credentials) else Credentials(values)
        problems = check_credential_values(provider, credentials)
        if any(p.field not in credentials or not provider.field(p.field) for p in problems):
            return problems  # missing or unknown fields: the plugin cannot judge the rest
        answer, plugin = self._call_provider_hook("validate", provider, credentials=credentials)
        if answer is None:
            return problems
        if not isinstance(answer, list) or not all(isinstance(p, FieldProblem) for p in answer):
            assert plugin is not None
            raise self.loader.plugin_error(
                plugin, "hook 'validate' must return a list of FieldProblem or None"
            )
        # The plugin's message is more specific than the generic pattern check.
        specific = {p.field for p in answer}
        return [*answer, *(p for p in problems if p.field not in specific)]


def _as_items(answer: object) -> Iterable[object]:
    if answer is None:
        return ()
    if isinstance(answer, IntegrationProvider | ProviderDefinitionError | Mapping):
        return (answer,)
    if isinstance(answer, Sequence) and not isinstance(answer, str):
        return answer
    return (answer,)


def _as_provider(item: object) -> IntegrationProvider:
    if isinstance(item, IntegrationProvider):
        return item
    if isinstance(item, Mapping):
        return IntegrationProvider.model_validate(item)
    raise TypeError(f"expected an IntegrationProvider, got {type(item).__name__}")


def _type_names(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(k.__name__ for k in kinds)
