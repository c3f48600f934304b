"""How a public name is retired: it keeps working for at least one minor release, and
each use warns with :class:`DeprecationWarning`, naming its replacement and the release
that removes it (the README's "Compatibility"; CHANGELOG.md lists each one).

Three shapes of retired names are served from here:

* a function, method or constant kept where it was: :func:`warn` at its use;
* a name that moved out of a module that still exists: the module's ``__getattr__``
  returns :func:`moved` for the names in its table;
* a module that moved as a whole (0.1's flat layout, ``navi_integrations.registry``…):
  :data:`MOVED_MODULES` lists what each old module held, and :func:`install_finder`
  lets ``import navi_integrations.registry`` find a stand-in that forwards (and warns).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

__all__ = ["MOVED_MODULES", "REMOVED_IN", "install_finder", "moved", "warn"]

#: The release that removes what 0.3.0 deprecates.
REMOVED_IN = "0.5.0"

_ROOT = "navi_integrations"


def warn(old: str, new: str, *, removed_in: str = REMOVED_IN, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (both as a user writes them)."""
    warnings.warn(
        f"{old} is deprecated: use {new} instead ({old} is removed in {removed_in})",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def moved(old_module: str, name: str, target: str, *, stacklevel: int = 3) -> Any:
    """The object ``target`` (``"package.module:attr"``) that ``old_module.name`` was,
    after a warning that names where it lives now. A target may end with a space and the
    replacement as a user writes it, where that is not the object itself (an adapter)."""
    module_name, _, rest = target.partition(":")
    attr, _, say = rest.partition(" ")
    warn(f"{old_module}.{name}", say or f"{module_name}.{attr}", stacklevel=stacklevel + 1)
    return getattr(importlib.import_module(module_name), attr)


def _m(module: str, *names: str) -> dict[str, str]:
    return {name: f"{_ROOT}.{module}:{name}" for name in names}


#: 0.1's modules that moved as a whole: old module -> {name: "new.module:attr"}.
MOVED_MODULES: Mapping[str, Mapping[str, str]] = {
    "builtin": {},
    "builtin.custom_providers": _m(
        "plugins.custom_providers", "CustomProviderFile", "load_file", "describe"
    ),
    "builtin.http_health": _m("health.http_health", "endpoint_url", "health_check"),
    "builtin.mcp_defaults": _m("agent.mcp_defaults", "mcp_config"),
    "builtin.oauth_refresh": _m("auth.oauth_refresh", "refresh"),
    "catalog": {
        **_m("plugins.catalog", "Catalog", "load_catalog"),
        **_m("plugins.info", "LoadProblem", "PluginInfo"),
    },
    "checks": {
        **_m("errors", "ProviderFailure"),
        **_m("health.checks", "failure_of", "http_check", "parse_retry_after"),
    },
    "crypto": {
        **_m("errors", "InvalidCiphertext"),
        **_m("store.keys", "KeySource", "key_source"),
        **_m("store.crypto", "MasterKey", "Sealed", "associated_data", "open_sealed", "seal"),
    },
    "discovery": _m(
        "plugins.discovery", "ENTRY_POINT_GROUP", "Candidate", "discover", "env_list", "fingerprint"
    ),
    "mcp": {
        **_m("agent.mcp", "FORMATS", "McpConfig", "fill_mcp_server"),
        **_m("service", "build_mcp_config"),
    },
    "oauth": {
        **_m("errors", "GrantRevoked", "OAuthFailed"),
        **_m("auth.oauth", "OAuthSignIn", "SignInResult"),
        "refresh": f"{_ROOT}.auth._token_endpoint:refresh",
    },
    "recovery": {
        **_m("errors", "IntegrationError"),
        **_m("health.recovery", "Action", "RecoveryPolicy", "classify"),
        **_m("service", "acall_with_recovery", "call_with_recovery"),
    },
    "registry": _m("plugins.registry", "Registry"),
    "rotation": _m("store.rotation", "RotationReport", "rotate"),
    "skills": {
        **_m("agent.skills", "Skill", "framework_skills_dir", "install", "read_skill"),
        **_m("agent.skills", "skill_problems"),
        "enabled_skills": f"{_ROOT}._deprecation:enabled_skills"
        " IntegrationService.skills(project_id=...)",
    },
    "tokens": {
        **_m("store.reads", "DEFAULT_REFRESH_MARGIN"),
        **_m("auth.refresh", "TokenRefresher"),
    },
}


def enabled_skills(service: Any, *, project_id: str | None = None) -> list[Any]:
    """0.1's ``skills.enabled_skills(service)``: now ``service.skills(project_id=…)``."""
    skills: list[Any] = service.skills(project_id=project_id)
    return skills


class _Forwarder(ModuleType):
    """A stand-in for a module that moved: each name is looked up where it lives now."""

    _table: Mapping[str, str]

    def __getattr__(self, name: str) -> Any:
        target = self._table.get(name)
        if target is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        return moved(self.__name__, name, target)

    def __dir__(self) -> list[str]:
        return sorted(self._table)


class _MovedModules:
    """A meta path finder and loader for :data:`MOVED_MODULES` (nothing else)."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        short = fullname.removeprefix(_ROOT + ".")
        if short == fullname or short not in MOVED_MODULES:
            return None
        from importlib.machinery import ModuleSpec

        is_package = any(other.startswith(short + ".") for other in MOVED_MODULES)
        return ModuleSpec(fullname, cast("Loader", _MovedModules), is_package=is_package)

    @staticmethod
    def create_module(spec: Any) -> ModuleType:
        module = _Forwarder(spec.name)
        module._table = MOVED_MODULES[spec.name.removeprefix(_ROOT + ".")]
        return module

    @staticmethod
    def exec_module(module: ModuleType) -> None:
        if module.__spec__ is not None and module.__spec__.submodule_search_locations is not None:
            module.__path__ = []


def install_finder() -> None:
    """Let 0.1's module paths import (once per process)."""
    if not any(f is _MovedModules for f in sys.meta_path):
        sys.meta_path.append(_MovedModules)
