"""Credential values as handed to plugins: :class:`Credentials` (each value a ``SecretStr``)
and the ``{{field}}`` templates they fill."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping

from pydantic import SecretStr

from .placeholders import MissingValue, fill, placeholders

__all__ = ["Credentials", "MissingValue", "placeholders", "redact"]

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret (of 4 characters or more) and any bearer token replaced by
    ``[redacted]``: for error text a plugin or a provider wrote, which may quote a value."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _BEARER.sub(r"\1[redacted]", text)


class Credentials(Mapping[str, SecretStr]):
    """Credential values keyed by field, each a :class:`~pydantic.SecretStr`.

    Its repr lists the keys only, so logging a ``Credentials`` leaks nothing.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str | SecretStr] | None = None) -> None:
        self._values: dict[str, SecretStr] = {
            key: value if isinstance(value, SecretStr) else SecretStr(value)
            for key, value in (values or {}).items()
        }

    def __getitem__(self, key: str) -> SecretStr:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials(keys={sorted(self._values)!r})"

    def redact(self, text: str) -> str:
        """``text`` with each of these values replaced by ``[redacted]`` (see :func:`redact`)."""
        return redact(text, (v.get_secret_value() for v in self._values.values()))

    def reveal(self, key: str) -> str:
        """Return the plain value of ``key``. Use it only where the secret is sent."""
        return self._values[key].get_secret_value()

    def fill(self, template: str, *, defaults: Mapping[str, str] | None = None) -> str:
        """Fill ``{{field}}`` placeholders of ``template`` from these credentials.

        An empty or absent value falls back to ``defaults`` (the fields'
        declared defaults). Raises :class:`MissingValue` (a ``KeyError``)
        naming the first placeholder with neither.
        """
        filled = self.fill_or_omit(template, defaults=defaults)
        assert filled is not None  # nothing is optional here
        return filled

    def fill_or_omit(
        self,
        template: str,
        *,
        defaults: Mapping[str, str] | None = None,
        optional: Collection[str] = (),
    ) -> str | None:
        """Like :meth:`fill`, but ``None`` when a field in ``optional`` has no value nor default.

        ``None`` means "leave this entry out" (an env variable, an MCP
        argument or header); a required field still raises :class:`MissingValue`.
        """
        return fill(
            template,
            lambda key: self._values[key].get_secret_value() if key in self._values else None,
            defaults=defaults,
            optional=optional,
        )
