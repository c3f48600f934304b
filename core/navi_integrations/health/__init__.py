"""Health: checks, the tracker of each connection's state, recovery and change events.

0.1's flat ``navi_integrations.health`` module held the tracker's names; they
still import from here until 0.5.0, with a :class:`DeprecationWarning`.
"""

from typing import Any

# 0.1's names: name -> "module:attr" where it lives now (until 0.5.0).
_MOVED = {
    **{
        name: f"{__name__}.tracker:{name}"
        for name in ("FAILED_AFTER_ERRORS", "NEEDS_USER", "HealthRecord", "HealthTracker")
    },
    "ChangeEvent": f"{__name__}.events:ChangeEvent",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from .. import _deprecation

        return _deprecation.moved(__name__, name, _MOVED[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
