"""Testing helpers for plugin authors (also used by navi-integrations' own plugins).

The pytest plugin (:mod:`navi_integrations.testing.pytest_plugin`) is
registered through ``pytest11`` and offers the fixtures ``navi_home``,
``navi_registry``, ``navi_register``, ``navi_service`` and ``local_http_server``
(each documented there; ``Register`` is ``navi_register``'s type). This package
exports :func:`check_provider` (the conformance check) and the local HTTP
server helper. Names load lazily so that pytest start-up stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "HEAVY_MODULES",
    "LocalHTTPServer",
    "Register",
    "Reply",
    "Request",
    "check_provider",
    "self_signed",
    "write_distribution",
]

_WHERE = {
    "HEAVY_MODULES": "conformance",
    "check_provider": "conformance",
    "LocalHTTPServer": "http",
    "Register": "pytest_plugin",
    "Reply": "http",
    "Request": "http",
    "write_distribution": "dists",
    "self_signed": "tls",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
