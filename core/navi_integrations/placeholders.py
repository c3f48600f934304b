"""``{{field}}`` templates (MCP commands, env variables, API headers) and how they are filled.

Plain strings only, no pydantic: :meth:`Credentials.fill_or_omit
<navi_integrations.credentials.Credentials.fill_or_omit>` and the fast read
path (``navi-int run``) fill through :func:`fill`, the one rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping

__all__ = ["MissingValue", "env_url_name", "fill", "placeholders", "same_resource"]

# A pattern string, compiled (and cached) by re on first use: `navi-int token` fills nothing.
_PLACEHOLDER = r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}"


class MissingValue(KeyError):
    """A template names a field that has no value and no default (``field`` says which)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field

    def __str__(self) -> str:
        return f"no '{self.field}' value"


def placeholders(template: str) -> set[str]:
    """Return the field names referenced by ``{{field}}`` placeholders in ``template``."""
    return set(re.findall(_PLACEHOLDER, template))


def fill(
    template: str,
    value_of: Callable[[str], str | None],
    *,
    defaults: Mapping[str, str] | None = None,
    optional: Collection[str] = (),
) -> str | None:
    """Fill each ``{{field}}`` of ``template`` with ``value_of(field)``.

    An empty or absent value falls back to ``defaults`` (the fields' declared
    defaults). ``None`` when a field in ``optional`` has neither: "leave this
    entry out" (an env variable, an MCP argument or header). A required field
    with neither raises :class:`MissingValue`.
    """
    omitted = False

    def _value(match: re.Match[str]) -> str:
        nonlocal omitted
        key = match.group(1)
        value = value_of(key)
        if value:
            return value
        if defaults and defaults.get(key):
            return defaults[key]
        if key in optional:
            omitted = True
            return ""
        raise MissingValue(key)

    filled = re.sub(_PLACEHOLDER, _value, template)
    return None if omitted else filled


def env_url_name(provider_id: str, name: str) -> str:
    """Name of the env var overriding URL ``name`` of a provider: ``NAVI_<ID>_<NAME>_URL``."""
    norm = re.sub(r"[^A-Za-z0-9]+", "_", f"{provider_id}_{name}").upper()
    return f"NAVI_{norm}_URL"


def same_resource(granted: str, url: str) -> bool:
    """Whether a grant bound to ``granted`` (RFC 8707) may be sent to the server at ``url``:
    the same URL, a trailing slash aside."""
    return granted.rstrip("/") == url.rstrip("/")
