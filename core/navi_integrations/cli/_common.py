"""Helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ..plugins.catalog import Catalog

if TYPE_CHECKING:
    from ..documents import ProviderDocument
    from ..errors import Advice
    from ..plugins.registry import Registry
    from ..service import IntegrationService


class Failed(click.ClickException):
    """An operation failed (exit code 1): one line on stderr."""

    exit_code = 1


class BadInput(click.ClickException):
    """Usage or input error (exit code 2): one line on stderr."""

    exit_code = 2


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (camelCase keys).")


def _memo(key: str, make: Any) -> Any:
    root = click.get_current_context().find_root()
    root.ensure_object(dict)
    if key not in root.obj:
        root.obj[key] = make()
    return root.obj[key]


def registry() -> Registry:
    """The process's registry, loaded once per CLI invocation (imports every plugin)."""
    from ..plugins.registry import Registry

    found: Registry = _memo("registry", lambda: Registry().load())
    return found


def catalog() -> Catalog:
    """Providers and plugins as documents, from the cache when nothing changed."""
    from ..plugins.catalog import load_catalog

    found: Catalog = _memo("catalog", load_catalog)
    return found


def service() -> IntegrationService:
    """The service facade for this invocation (opens the store on first use)."""
    from ..service import IntegrationService

    found: IntegrationService = _memo("service", lambda: IntegrationService(catalog=catalog()))
    return found


def _project_id(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from ..errors import InvalidInput
    from ..scopes import check_project_id

    try:
        return check_project_id(value)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc)) from None


project_option = click.option(
    "--project",
    "project_id",
    metavar="ID",
    default=None,
    callback=_project_id,
    help="Act on this project's scope (default: the user scope, for all projects).",
)


def _account_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from ..errors import InvalidInput
    from ..scopes import check_account_name

    try:
        return check_account_name(value)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc)) from None


account_option = click.option(
    "--account",
    "account",
    metavar="NAME",
    default=None,
    callback=_account_name,
    help="One of the provider's accounts (default: the one the scope uses: the project's "
    "binding, else the default account).",
)


def scope_text(project_id: str | None) -> str:
    """How a scope is shown: "user scope" or "project P"."""
    return f"project {project_id}" if project_id else "user scope"


def advice_line(action: str | None, advice: Advice | None) -> str:
    """How the CLI shows a failure's advice: ``[reauth] Run: navi-int connect linear``."""
    text = str(advice) if advice is not None else ""
    return f"[{action or 'fail'}] {text}".rstrip()


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


def echo_guide(doc: ProviderDocument, indent: str = "  ") -> None:
    """Print a provider document's setup guide: summary, then numbered steps."""
    guide = doc.get("setupGuide") or {}
    if guide.get("summary"):
        click.echo(f"{indent}{guide['summary']}")
    for n, step in enumerate(guide.get("steps", []), 1):
        click.echo(f"{indent}{n}. {step['title']}")
        for extra in (step.get("detail"), step.get("url")):
            if extra:
                click.echo(f"{indent}   {extra}")
