"""Reading credential values from the command line: --field KEY=VALUE and --stdin.

Whatever is read here may be a secret, so no error message ever quotes a
value: they name the argument's position, the stdin line or the JSON key.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import click


def parse_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--field KEY=VALUE`` arguments as a mapping (a later KEY wins)."""
    values: dict[str, str] = {}
    for number, pair in enumerate(pairs, 1):
        key, sep, value = pair.partition("=")
        if not sep:  # the whole argument may be a secret pasted without its KEY=
            raise click.BadParameter(
                f"expected KEY=VALUE, got an argument without '=' (the {_ordinal(number)} "
                "--field; its text is not shown)",
                param_hint="--field",
            )
        if not key.strip():
            raise click.BadParameter(
                f"expected KEY=VALUE, the {_ordinal(number)} --field has no KEY before '='",
                param_hint="--field",
            )
        values[key.strip()] = value
    return values


def read_stdin() -> dict[str, str]:
    """Field values from stdin: a JSON object of strings, or KEY=VALUE lines (``#`` comments)."""
    text = sys.stdin.read()
    if text.lstrip().startswith("{"):
        return _json_fields(text)
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise click.BadParameter(f"stdin line {number}: expected KEY=VALUE")
        if not key.strip():
            raise click.BadParameter(f"stdin line {number}: expected KEY=VALUE, the KEY is empty")
        values[key.strip()] = value.strip()
    return values


def _json_fields(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position: some of json's messages quote the text they stopped at.
        raise click.BadParameter(
            f"stdin is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise click.BadParameter("stdin JSON must be an object of field values")
    values: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, str):
            values[key] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            values[key] = str(value)  # e.g. a numeric id written without quotes
        else:
            kind = {dict: "an object", list: "a list", bool: "true/false", float: "a number"}
            found = "null" if value is None else kind.get(type(value), type(value).__name__)
            raise click.BadParameter(
                f"stdin JSON: the value of {key!r} must be a string, not {found}"
            )
    return values


def secret_keys(doc: Mapping[str, Any]) -> set[str]:
    """The keys of a provider document's secret fields (declared ``type`` ``password``)."""
    return {
        str(field["key"])
        for field in doc.get("credentials") or []
        if field.get("type", "password") == "password"  # the model's default type
    }


def warn_secret_fields(doc: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    """Warn on stderr, in one line, when secret fields were given with ``--field``.

    ``fields`` are the ``--field`` arguments (``KEY=VALUE``) or just their
    keys. Argument lists are visible to every local user (``ps``) and land in
    the shell history; ``--stdin`` keeps them out. Returns the keys warned about.
    """
    secrets = secret_keys(doc)
    given = [key.strip() for key, _, _ in (field.partition("=") for field in fields)]
    found = [key for key in dict.fromkeys(given) if key in secrets]
    if found:
        flags = ", ".join(f"--field {key}=…" for key in found)
        which = "the secret" if len(found) == 1 else "secrets"
        click.echo(
            f"warning: {flags} puts {which} in the process list and shell history; "
            "pipe it with --stdin instead",
            err=True,
        )
    return found


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
