"""Reading credential values from the command line: --field KEY=VALUE and --stdin."""

from __future__ import annotations

import json
import sys

import click


def parse_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got '{key}'", param_hint="--field")
        values[key.strip()] = value
    return values


def read_stdin() -> dict[str, str]:
    text = sys.stdin.read()
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"stdin is not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise click.BadParameter("stdin JSON must be an object of field values")
        return {str(k): str(v) for k, v in data.items()}
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise click.BadParameter(f"stdin line {number}: expected KEY=VALUE")
        values[key.strip()] = value.strip()
    return values
