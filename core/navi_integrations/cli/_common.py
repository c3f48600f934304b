"""Helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import Any

import click

from ..registry import Registry

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (camelCase keys).")


def registry() -> Registry:
    """The process's registry, loaded once per CLI invocation."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    root.ensure_object(dict)
    found = root.obj.get("registry")
    if found is None:
        found = Registry().load()
        root.obj["registry"] = found
    assert isinstance(found, Registry)
    return found


def echo_json(document: Any) -> None:
    """Print a JSON document, pretty and stable."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Left-aligned plain-text table."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
