"""``navi-int mcp add|remove``: any remote MCP server as a user-defined provider.

``mcp add NAME URL`` writes ``<config dir>/providers/NAME.toml`` (the same
format as any user-defined provider, with an ``[mcp]`` table). Without
``--header`` the server is expected to authorize with MCP authorization:
``navi-int connect NAME`` signs in when it asks. With ``--header`` the
headers are all it needs: their values are stored encrypted as the
connection's credentials (the file names them, ``{{headerX}}``, never holds
them), so the server is connected at once.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from ._common import BadInput, catalog, project_option, scope_text, service

__all__ = ["mcp"]

_PROVIDER_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}[a-z0-9]$|^[a-z]$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an HTTP token (RFC 9110)


@click.group()
def mcp() -> None:
    """Declare remote MCP servers as providers (like `claude mcp add --transport http`)."""


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or "=" in name:
        name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep:  # the whole text may be a value: never repeat it
        raise BadInput("--header takes 'Name: value' or Name=value")
    if not name or not _HEADER_NAME.match(name):
        raise BadInput(f"--header takes 'Name: value' or Name=value (got a header named {name!r})")
    if not value:
        raise BadInput(f"--header {name} has no value")
    return name, value


def _field_key(header: str) -> str:
    """The credential field holding a header's value: ``X-Api-Key`` -> ``headerXApiKey``."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", header) if w]
    return ("header" + "".join(w[:1].upper() + w[1:] for w in words))[:64]


def _toml_text(
    name: str,
    display: str,
    url: str,
    transport: str,
    headers: dict[str, str],
    client_id: str | None,
    project_id: str | None,
) -> str:
    def q(text: str) -> str:
        # A JSON string is a TOML basic string once DEL is escaped too (TOML forbids it raw);
        # characters beyond the BMP stay whole (JSON's surrogate pairs are not TOML).
        return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")

    lines = [
        "# Written by `navi-int mcp add`; edit freely (see `navi-int plugins` for problems).",
        f"id = {q(name)}",
        f"name = {q(display)}",
        f"description = {q(f'MCP server at {url}')}",
    ]
    if project_id:
        lines += ["", "[defaults]", "enabled_globally = false"]
    for header in headers:
        key = _field_key(header)
        lines += ["", "[[fields]]", f"key = {q(key)}", f"label = {q(header + ' header')}"]
        lines += ["secret = true"]
    lines += ["", "[mcp]", f"url = {q(url)}", f"transport = {q(transport)}"]
    if client_id:
        lines.append(f"client_id = {q(client_id)}")
    if headers:
        lines.append('authorization = "none"')
        lines += ["", "[mcp.headers]"]
        lines += [f"{q(h)} = {q('{{' + _field_key(h) + '}}')}" for h in headers]
    return "\n".join(lines) + "\n"


@mcp.command("add")
@click.argument("name")
@click.argument("url")
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="A header the server needs (repeat); its value is stored encrypted.",
)
@click.option(
    "--transport",
    type=click.Choice(["http", "sse"]),
    default="http",
    show_default=True,
    help="Streamable HTTP, or the older HTTP+SSE.",
)
@click.option("--display-name", default=None, help="The name shown (default: NAME).")
@click.option("--client-id", default=None, help="An OAuth client registered for navi beforehand.")
@project_option
@click.option("--force", is_flag=True, help="Replace a server of the same name added before.")
def add(
    name: str,
    url: str,
    headers: tuple[str, ...],
    transport: str,
    display_name: str | None,
    client_id: str | None,
    project_id: str | None,
    force: bool,
) -> None:
    """Add the MCP server at URL as the provider NAME.

    With --project ID it is switched on for that project only, and the
    header values are stored in that project's scope.
    """
    from urllib.parse import urlsplit

    from ..paths import custom_providers_dir, write_atomic

    if not _PROVIDER_ID.match(name):
        raise BadInput(
            f"'{name}' is not a valid name: lowercase letters, digits and dashes, "
            "starting with a letter"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"URL must be an http:// or https:// URL with a host (got {url!r})")
    given = dict(_header(h) for h in headers)
    folder = custom_providers_dir()
    path = folder / f"{name}.toml"
    known = catalog()
    if name in known.provider_ids() and not path.exists():
        owner = known.owner(name).name
        raise BadInput(f"'{name}' is already a provider (from {owner}): choose another name")
    if path.exists() and not force:
        raise BadInput(f"{path} exists: use --force to replace it, or choose another name")
    text = _toml_text(name, display_name or name, url, transport, given, client_id, project_id)
    folder.mkdir(parents=True, exist_ok=True)
    _check_loads(folder, name, text)  # before anything is replaced
    old_url = _declared_url(path)
    write_atomic(path, text)
    _forget_loaded()
    doc = catalog().document(name)
    svc = service()
    if old_url is not None and old_url != url:
        # A grant is bound to the server it was issued for: it never goes to the new URL.
        forgotten = svc.forget_provider(name)
        if forgotten:
            click.echo(f"Deleted {forgotten} stored connection(s) made for {old_url}.")
    if project_id:
        svc.enable(name, project_id=project_id)
    click.echo(f"Added {doc['name']} ({url}) as provider '{name}': {path}")
    if given:
        values = {_field_key(h): v for h, v in given.items()}
        svc.connect(name, values, project_id=project_id, test=False)
        click.echo(f"Stored its header value(s), encrypted ({scope_text(project_id)}).")
        return
    scope = f" --project {project_id}" if project_id else ""
    click.echo(f"Next: navi-int connect {name}{scope}  (signs in if the server asks for it)")


@mcp.command("remove")
@click.argument("name")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask to confirm.")
def remove(name: str, assume_yes: bool) -> None:
    """Remove the MCP server NAME added with `mcp add`, and its stored credentials."""
    from ..paths import custom_providers_dir

    path = custom_providers_dir() / f"{name}.toml"
    if not _PROVIDER_ID.match(name) or not path.is_file():
        raise BadInput(f"no MCP server named '{name}' was added ({path} does not exist)")
    if not assume_yes:
        if not sys.stdin.isatty():
            raise BadInput("confirm with --yes (stdin is not a terminal)")
        click.confirm(f"Remove {name} and its stored credentials in every scope?", abort=True)
    removed = service().forget_provider(name)
    path.unlink()
    _forget_loaded()
    click.echo(f"Removed {name} ({removed} stored connection(s) deleted).")


def _check_loads(folder: Path, name: str, text: str) -> None:
    """Load the file as ``navi-int plugins`` will, from a scratch copy: a file that would not
    load is refused and the one in place (if any) is kept."""
    import tempfile

    from ..errors import ProviderDefinitionError
    from ..plugins.custom_providers import load_file

    with tempfile.TemporaryDirectory(dir=folder, prefix=".mcp-add-") as scratch:
        trial = Path(scratch) / f"{name}.toml"
        trial.write_text(text, encoding="utf-8")
        try:
            load_file(trial)
        except ProviderDefinitionError as exc:
            raise BadInput(f"cannot add {name}: {exc.message}") from None


def _declared_url(path: Path) -> str | None:
    """The ``[mcp] url`` of the file there, if it has one."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    url = (data.get("mcp") or {}).get("url")
    return url if isinstance(url, str) else None


def _forget_loaded() -> None:
    """Drop this invocation's registry, catalog and service: the provider files changed."""
    root = click.get_current_context().find_root()
    for key in ("registry", "catalog", "service"):
        (root.obj or {}).pop(key, None)
