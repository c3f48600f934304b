"""A project's manifest: the integrations a repository needs, committed as
``.navi/integrations.toml`` — never a secret.

::

    version = 1                 # optional (1 is the only version)

    [project]
    id = "acme"                 # optional; else derived from the repository

    [integrations.linear]
    account = "work"            # the account to prefer (optional)
    mcp = true                  # this project's switches (optional; unset = inherit)
    skill = false
    enabled = true

    [integrations.google]
    services = ["calendar", "gmail"]                                # OAuth services it needs
    scopes = ["https://www.googleapis.com/auth/drive.readonly"]     # or scopes, one by one

    [integrations.notion]
    optional = true             # reported when missing or unhealthy; `check` still passes

:func:`find_manifest` walks up from a directory to the nearest
``.navi/integrations.toml``, stopping at the repository root (the directory
holding ``.git``) or the filesystem root; :func:`load_manifest` parses and
validates one. Validation is strict, so a typo fails instead of being ignored:
unknown keys and wrong types are refused, and so is anything that looks like a
secret (a key such as ``token`` or ``clientSecret``, or a value shaped like an
API key) — each teammate runs ``navi-int connect`` instead. Error messages name
the file and the key, never the value.

The project id is the manifest's ``[project].id`` when set, else
:func:`derive_project_id`: the repository's ``origin`` remote as
``owner/name``, else the repository directory's name.

Plain values only: this module reads files and asks ``git`` for a remote; what
the manifest means for the store is the service's business
(:mod:`navi_integrations.service.manifests`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidInput
from .scopes import check_account_name, check_project_id

__all__ = [
    "MANIFEST_PATH",
    "Manifest",
    "ManifestEntry",
    "derive_project_id",
    "find_manifest",
    "load_manifest",
    "project_id_from_remote",
    "repository_root",
]

#: Where a repository keeps its manifest, relative to its root.
MANIFEST_PATH = Path(".navi") / "integrations.toml"

_PROVIDER_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}[a-z0-9]$|^[a-z]$")
_TOP_KEYS = frozenset({"version", "project", "integrations"})
_PROJECT_KEYS = frozenset({"id"})
_ENTRY_KEYS = frozenset({"account", "optional", "services", "scopes", "enabled", "mcp", "skill"})
#: Key names (lower case, without ``_`` and ``-``) that hold secrets: never in a manifest.
_SECRET_WORDS = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "privatekey",
    "credential",
    "bearer",
    "cookie",
    "authorization",
)
#: Value shapes of the providers' secrets (Linear, GitHub, Slack, Google, Notion, OpenAI-style
#: keys, JWTs): refused wherever they appear, even under a harmless key.
_SECRET_VALUE = re.compile(
    r"lin_api_|gh[pousr]_[A-Za-z0-9]{20}|github_pat_|xox[abposr]-|ya29\.|1//0|GOCSPX-"
    r"|ntn_[A-Za-z0-9]{20}|secret_[A-Za-z0-9]{20}|sk-[A-Za-z0-9_-]{20}|eyJ[A-Za-z0-9_-]{10,}\."
)
#: A long run of random-looking characters (upper and lower case letters and digits).
_OPAQUE = re.compile(r"[A-Za-z0-9_\-]{32,}")
_NEVER_SECRETS = "; each teammate runs navi-int connect"


@dataclass(frozen=True)
class ManifestEntry:
    """One integration a manifest names: what the project needs of one provider.

    ``enabled``, ``mcp`` and ``skill`` are the project's switches; ``None`` leaves the
    switch unset (the project inherits the global one).
    """

    provider: str
    required: bool = True
    #: The account to prefer (a name of one of the provider's accounts), if any.
    account: str | None = None
    #: OAuth services the project needs (e.g. ``calendar``), in the manifest's order.
    services: tuple[str, ...] = ()
    #: OAuth scopes the project needs, beyond (or instead of) whole services.
    scopes: tuple[str, ...] = ()
    enabled: bool | None = None
    mcp: bool | None = None
    skill: bool | None = None

    @property
    def switches(self) -> dict[str, bool]:
        """The switches the manifest sets (``enabled``, ``mcp``, ``skill``), unset ones left out."""
        found = {"enabled": self.enabled, "mcp": self.mcp, "skill": self.skill}
        return {name: value for name, value in found.items() if value is not None}


@dataclass(frozen=True)
class Manifest:
    """A parsed ``.navi/integrations.toml``.

    ``project_id`` is the manifest's own ``[project].id`` (``None`` when it sets none:
    :meth:`resolved_project_id` derives one from the repository).
    """

    path: Path
    project_id: str | None
    integrations: tuple[ManifestEntry, ...]

    @property
    def root(self) -> Path:
        """The project directory: the one holding ``.navi/``."""
        return self.path.parent.parent

    def resolved_project_id(self, override: str | None = None) -> str:
        """The project id to act on: ``override`` (``--project``), else the manifest's, else
        the one derived from the repository (:func:`derive_project_id`)."""
        if override is not None:
            return check_project_id(override)
        if self.project_id is not None:
            return self.project_id
        return derive_project_id(self.root)


# -- finding -----------------------------------------------------------------------------


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a folder, or the file a
    worktree has), or ``None``."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def find_manifest(start: Path) -> Path | None:
    """The nearest ``.navi/integrations.toml`` at or above ``start``, looking no higher than
    the repository root (the directory holding ``.git``) or, outside a repository, the
    filesystem root; ``None`` when there is none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / MANIFEST_PATH
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


# -- parsing -----------------------------------------------------------------------------


def load_manifest(path: Path) -> Manifest:
    """Read and validate a manifest; :class:`InvalidInput` naming the file and the key.

    Refused: a file that is not TOML, an unknown key, a value of the wrong type, an invalid
    provider id, account name or project id, and anything that looks like a secret.
    """
    import tomllib

    path = path.resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such manifest") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InvalidInput(f"{path}: cannot read the manifest: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message names line and column, not the text
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
    return parse_manifest(data, path)


def parse_manifest(data: Mapping[str, Any], path: Path) -> Manifest:
    """Validate a manifest's parsed TOML (``path`` is named in every message)."""
    _refuse_secrets(data, path, ())
    _known_keys(data, _TOP_KEYS, path, "")
    version = data.get("version", 1)
    if isinstance(version, bool) or version != 1:
        raise InvalidInput(
            f"{path}: version must be 1", hint="this navi-integrations reads manifest version 1"
        )
    project = _table(data, "project", path, "")
    _known_keys(project, _PROJECT_KEYS, path, "project.")
    project_id: str | None = None
    if "id" in project:
        raw = project["id"]
        if not isinstance(raw, str):
            raise InvalidInput(f"{path}: project.id must be a string")
        try:
            project_id = check_project_id(raw)
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: project.id: {exc.message}") from None
    integrations = _table(data, "integrations", path, "")
    entries = tuple(_entry(provider, value, path) for provider, value in integrations.items())
    return Manifest(path=path, project_id=project_id, integrations=entries)


def _entry(provider: str, value: object, path: Path) -> ManifestEntry:
    where = f"integrations.{provider}"
    if not _PROVIDER_ID.fullmatch(provider):
        raise InvalidInput(
            f"{path}: {_quoted(where)} does not name a provider id",
            hint="provider ids are lower-case letters, digits and -, e.g. integrations.linear",
        )
    if not isinstance(value, dict):
        raise InvalidInput(f"{path}: {where} must be a table ([{where}])")
    _known_keys(value, _ENTRY_KEYS, path, where + ".")
    account = value.get("account")
    if account is not None:
        if not isinstance(account, str):
            raise InvalidInput(f"{path}: {where}.account must be a string")
        try:
            check_account_name(account)  # the store's rule
        except InvalidInput as exc:
            hint = exc.advice.hint if exc.advice else None
            raise InvalidInput(f"{path}: {where}.account: {exc.message}", hint=hint) from None
    optional = _flag(value, "optional", path, where)
    return ManifestEntry(
        provider=provider,
        required=not optional,
        account=account,
        services=_names(value, "services", path, where),
        scopes=_names(value, "scopes", path, where),
        enabled=_flag(value, "enabled", path, where),
        mcp=_flag(value, "mcp", path, where),
        skill=_flag(value, "skill", path, where),
    )


def _table(data: Mapping[str, Any], key: str, path: Path, prefix: str) -> Mapping[str, Any]:
    found = data.get(key, {})
    if not isinstance(found, dict):
        raise InvalidInput(f"{path}: {prefix}{key} must be a table ([{prefix}{key}])")
    return found


def _flag(table: Mapping[str, Any], key: str, path: Path, where: str) -> bool | None:
    value = table.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InvalidInput(f"{path}: {where}.{key} must be true or false")


def _names(table: Mapping[str, Any], key: str, path: Path, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidInput(f"{path}: {where}.{key} must be a list of strings")
    return tuple(dict.fromkeys(value))  # in order, each once


def _known_keys(table: Mapping[str, Any], known: frozenset[str], path: Path, prefix: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(known), n=1, cutoff=0.6)
        hint = f"did you mean {prefix}{close[0]}?" if close else None
        allowed = ", ".join(sorted(known))
        raise InvalidInput(
            f"{path}: unknown key {_quoted(prefix + unknown[0])} (allowed: {allowed})", hint=hint
        )


def _refuse_secrets(value: object, path: Path, keys: tuple[str, ...]) -> None:
    """Refuse secret-named keys and secret-shaped values anywhere in the manifest."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = (*keys, str(key))
            # A provider id names a plugin, not a value: [integrations.secret-manager] is fine.
            if keys != ("integrations",) and _secret_name(str(key)):
                raise InvalidInput(
                    f"{path}: a manifest never holds secrets: {_quoted('.'.join(where))} is a "
                    f"secret's name{_NEVER_SECRETS}",
                    hint="remove it from the file (and from the repository's history if it held"
                    " a real value)",
                )
            _refuse_secrets(item, path, where)
    elif isinstance(value, list):
        for item in value:
            _refuse_secrets(item, path, keys)
    elif isinstance(value, str) and _secret_shaped(value):
        raise InvalidInput(
            f"{path}: a manifest never holds secrets: the value of "
            f"{_quoted('.'.join(keys))} looks like a credential{_NEVER_SECRETS}",
            hint="remove it from the file (and revoke it if it is real)",
        )


def _secret_name(key: str) -> bool:
    flat = key.lower().replace("_", "").replace("-", "")
    return any(word in flat for word in _SECRET_WORDS)


def _secret_shaped(value: str) -> bool:
    if _SECRET_VALUE.search(value):
        return True
    for run in _OPAQUE.findall(value):
        classes = (
            any(c.islower() for c in run),
            any(c.isupper() for c in run),
            any(c.isdigit() for c in run),
        )
        if all(classes):
            return True
    return False


def _quoted(key: str) -> str:
    # The key as the file spells it, cut short: a key is named, a value never is.
    return key if len(key) <= 80 and key.isprintable() else repr(key[:80]) + "…"


# -- the project id ----------------------------------------------------------------------


def derive_project_id(root: Path, *, timeout: float = 5.0) -> str:
    """The project id of the repository at ``root``: its ``origin`` remote as
    ``owner/name`` (``git@github.com:Acme/site.git`` → ``acme/site``), else the directory's
    name; in lower case, made a valid project id (see
    :func:`~navi_integrations.scopes.check_project_id`).

    Without git, outside a repository or without an ``origin`` remote: the directory's name.
    """
    remote = _origin_url(root, timeout)
    found = project_id_from_remote(remote) if remote else None
    return found or _slug(root.resolve().name) or "project"


def _origin_url(root: Path, timeout: float) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it hangs
        return None
    url = done.stdout.strip()
    return url if done.returncode == 0 and url else None


_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?[^/:]+:(?!//)(?P<path>.+)$")


def project_id_from_remote(url: str) -> str | None:
    """``owner/name`` of a git remote URL (scp-like ``git@host:owner/name.git``,
    ``https://host/owner/name``, ``ssh://git@host:22/owner/name.git``; a local path gives
    its directory's name), as a valid project id; ``None`` when it names nothing usable.

    Credentials in the URL (``https://user:token@host/...``) are dropped: only the path is used.
    """
    from urllib.parse import urlsplit

    url = url.strip()
    if re.match(r"^[A-Za-z]:[\\/]", url):  # a Windows path, not host:path
        url = url.replace("\\", "/")
    if "://" in url:
        path = urlsplit(url).path
        if urlsplit(url).scheme == "file":
            path = path.rstrip("/").rsplit("/", 1)[-1]
    elif (match := _SCP_LIKE.match(url)) and not re.match(r"^(?:[/.]|[A-Za-z]:/)", url):
        path = match["path"]
    else:  # a local path
        path = url.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    path = path.strip("/")
    path = path.removesuffix(".git").strip("/")
    return _slug(path)


def _slug(text: str) -> str | None:
    # Lower case: the same repository cloned as Acme/Site or acme/site is one project.
    slug = re.sub(r"[^A-Za-z0-9._:@/+-]+", "-", text)
    slug = re.sub(r"^[^A-Za-z0-9]+", "", slug.lower())[:128].rstrip("-")
    if not slug:
        return None
    try:
        return check_project_id(slug)
    except InvalidInput:
        return None
