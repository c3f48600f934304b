"""The fast read path: ``token``, ``run`` and ``list`` through the DB-API driver alone.

Agents call ``navi-int token`` and ``navi-int run`` in loops, and most of
their cost was importing SQLAlchemy, SQLModel and pydantic to run one
``SELECT``. This module reads the tables that SQLModel and alembic own with
the driver directly (``sqlite3``; ``psycopg`` for PostgreSQL), decrypts with
:mod:`navi_integrations.store.crypto`, and applies the same rules as the
service (:mod:`navi_integrations.statuses`).

Each reader returns ``None`` when it cannot answer alone, and the caller then
asks :class:`~navi_integrations.IntegrationService` instead:

* the URL is neither ``sqlite:///…`` nor PostgreSQL through psycopg, the
  database does not exist yet, or its schema is not at
  :data:`~navi_integrations.store.schema.SCHEMA_REVISION` (the service
  creates or migrates it);
* a write is due: ``last_used_at`` is recorded at most once a minute per
  credential, and writes stay with the store's SQLAlchemy code (one owner of
  the schema, one locking discipline) — so a loop pays the full path at
  most once a minute;
* an OAuth token expires within ``NAVI_INTEGRATIONS_REFRESH_MARGIN``
  seconds (default 300) and must be refreshed;
* the provider authenticates through a CLI (its token comes from a hook);
* any error it is not sure about (driver errors, a malformed key or margin).

What it can answer itself it answers exactly as the service does: the same
:class:`~navi_integrations.errors.NotConnected`,
:class:`~navi_integrations.errors.IntegrationDisabled` and
:class:`~navi_integrations.errors.DecryptionFailed`, with the same text.
Connections are opened read-only (SQLite ``mode=ro``, a read-only
transaction on PostgreSQL) with the engine's settings, and closed before
returning, so that a fallback in the same process starts from a clean state.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from ..errors import DecryptionFailed, MasterKeyError, scope_label
from ..paths import data_dir
from ..statuses import credential_in_effect, provider_statuses, token_field
from .schema import BUSY_TIMEOUT_MS, SCHEMA_REVISION, configure_sqlite, database_url

# Imported where used: `list` decrypts nothing, and plain `token` builds no document
# (each frozen dataclass a module defines costs about 2 % of the whole process).
if TYPE_CHECKING:
    from pydantic import SecretStr

    from ..documents import ProviderStatus, Token
    from .crypto import KeySource, MasterKey

__all__ = [
    "CREDENTIALS_IN_SCOPE_SQL",
    "CREDENTIAL_SQL",
    "HEALTH_IN_SCOPE_SQL",
    "LAST_USED_RESOLUTION_MS",
    "REFRESH_MARGIN_SECONDS",
    "SCHEMA_REVISION_SQL",
    "SWITCHES_IN_SCOPE_SQL",
    "credentials",
    "env_for",
    "statuses",
    "token",
]

#: ``last_used_at`` is written at most this often per credential (milliseconds).
LAST_USED_RESOLUTION_MS = 60_000
#: Default of ``NAVI_INTEGRATIONS_REFRESH_MARGIN`` (the token refresher's margin, seconds).
REFRESH_MARGIN_SECONDS = 300.0

# The statements. ``:name`` parameters (SQLAlchemy's text style, sqlite3's named
# style; converted for psycopg); ``{providers}`` expands to one parameter per id.

#: The alembic revision the database is at.
SCHEMA_REVISION_SQL = "SELECT version_num FROM alembic_version"

#: One provider's credential rows in the user scope and project ``:pid``, each with both
#: scopes' "enabled" switch (columns: :data:`navi_integrations.statuses.CREDENTIAL_COLUMNS`).
CREDENTIAL_SQL = """
SELECT c.id, c.project_id, c.value, c.key_id, c.enabled, c.last_used_at,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = c.provider AND d.project_id = :pid) AS project_enabled,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = c.provider AND d.project_id = '') AS global_enabled
FROM credentials c
WHERE c.provider = :provider AND c.project_id IN (:pid, '')
"""

#: Credential rows (no values) of some providers in the user scope and project ``:pid``.
CREDENTIALS_IN_SCOPE_SQL = """
SELECT provider, project_id, enabled FROM credentials
WHERE provider IN ({providers}) AND project_id IN (:pid, '')
"""

#: Switch rows of some providers in the user scope and project ``:pid``.
SWITCHES_IN_SCOPE_SQL = """
SELECT provider, project_id, enabled, mcp_enabled, skill_enabled FROM integration_defaults
WHERE provider IN ({providers}) AND project_id IN (:pid, '')
"""

#: Health rows of some providers in the user scope and project ``:pid``.
HEALTH_IN_SCOPE_SQL = """
SELECT provider, project_id, status, rate_limited_until FROM integration_status
WHERE provider IN ({providers}) AND project_id IN (:pid, '')
"""

Row = Mapping[str, Any]
Document = Mapping[str, Any]


class _CannotAnswer(Exception):
    """The direct path cannot answer alone: the caller falls back to the service."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _expand(sql: str, provider_ids: Sequence[str]) -> tuple[str, dict[str, str]]:
    names = [f"p{i}" for i in range(len(provider_ids))]
    text = sql.format(providers=", ".join(f":{n}" for n in names))
    return text, dict(zip(names, provider_ids, strict=True))


class _Reader:
    """One read-only connection through the DB-API driver; rows come back as dicts."""

    def __init__(self, conn: Any, *, pyformat: bool, errors: type[Exception]) -> None:
        self._conn = conn
        self._pyformat = pyformat
        self.errors = errors

    def fetch(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        """Run one statement; each row as a mapping by column name."""
        if self._pyformat:  # psycopg: %(name)s
            sql = re.sub(r"(?<!:):([A-Za-z_]\w*)", r"%(\1)s", sql)
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql, dict(params))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the connection (ending its read-only transaction)."""
        self._conn.close()


def _connect_sqlite(path: str) -> _Reader:
    import sqlite3
    from urllib.parse import quote

    if not path or path == ":memory:" or not os.path.isfile(path):
        raise _CannotAnswer  # nothing stored yet: the service creates the database
    try:
        conn = sqlite3.connect(
            f"file:{quote(os.path.abspath(path))}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
    except sqlite3.Error:
        raise _CannotAnswer from None
    try:
        configure_sqlite(conn)
        conn.execute("BEGIN")  # one snapshot for every statement of this read
    except sqlite3.Error:
        conn.close()
        raise _CannotAnswer from None
    return _Reader(conn, pyformat=False, errors=sqlite3.Error)


def _connect_postgresql(url: str) -> _Reader:
    try:
        import psycopg
    except ImportError:
        raise _CannotAnswer from None
    try:
        conn = psycopg.connect(url, connect_timeout=10)
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
    except psycopg.Error:
        raise _CannotAnswer from None
    return _Reader(conn, pyformat=True, errors=psycopg.Error)


@contextmanager
def _reader(environ: Mapping[str, str]) -> Iterator[_Reader]:
    """A reader on the configured database at the expected schema, else :class:`_CannotAnswer`."""
    url = database_url(environ)
    if url.startswith("sqlite:///") and "?" not in url:
        reader = _connect_sqlite(url.removeprefix("sqlite:///"))
    elif url.startswith("postgresql+psycopg://"):
        reader = _connect_postgresql("postgresql://" + url.removeprefix("postgresql+psycopg://"))
    else:
        raise _CannotAnswer  # another SQLAlchemy dialect: only the engine knows it
    try:
        try:
            revision = reader.fetch(SCHEMA_REVISION_SQL, {})
        except reader.errors:
            raise _CannotAnswer from None  # no alembic_version: a database to create
        if [r["version_num"] for r in revision] != [SCHEMA_REVISION]:
            raise _CannotAnswer  # older (to migrate) or newer (the service says so)
        yield reader
    except reader.errors:
        raise _CannotAnswer from None
    finally:
        reader.close()


class _Keys:
    """The master keys, read as the service reads them (a malformed key: the service says so)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        from .crypto import key_source

        self._source: KeySource = key_source(data_dir(), environ)
        self._current: MasterKey | None = None
        self._by_id: dict[str, MasterKey] | None = None

    def current(self) -> MasterKey:
        """The key new values are sealed with (nearly every row's)."""
        if self._current is None:
            try:
                self._current = self._source.current()
            except MasterKeyError:
                raise _CannotAnswer from None
        return self._current

    def by_id(self, key_id: str) -> MasterKey | None:
        """The key whose id is ``key_id``, current or retired, if we have it."""
        if self._by_id is None:
            try:
                self._by_id = self._source.by_id()
            except MasterKeyError:
                raise _CannotAnswer from None
        return self._by_id.get(key_id)


def _open(keys: _Keys, provider_id: str, scope: str, row: Row) -> dict[str, str]:
    """Decrypt a credential row (bound to provider, scope and project), as the service does.

    The current key is tried first: when it authenticates the value, it is the
    key that sealed it, and no key id (a SHA-256) needs computing. Otherwise the
    row's key is looked up by id, and the errors are the service's: no such key
    ("the master key does not match"), or that key refuses the value ("damaged").
    """
    from .crypto import InvalidCiphertext, associated_data, open_sealed

    project_id = str(row["project_id"]) or None
    label = scope_label(project_id)
    blob, aad = bytes(row["value"]), associated_data(provider_id, scope, project_id)
    try:
        plain = open_sealed(keys.current(), blob, aad)
    except InvalidCiphertext:
        key = keys.by_id(str(row["key_id"]))
        if key is None:
            raise DecryptionFailed(provider_id, label, "key") from None
        try:
            plain = open_sealed(key, blob, aad)
        except InvalidCiphertext:
            raise DecryptionFailed(provider_id, label, "damaged") from None
    try:
        values = json.loads(plain)
    except ValueError:
        raise DecryptionFailed(provider_id, label, "damaged") from None
    if not isinstance(values, dict):
        raise DecryptionFailed(provider_id, label, "damaged")
    return {str(k): str(v) for k, v in values.items()}


def _refresh_margin_ms(environ: Mapping[str, str]) -> float:
    raw = environ.get("NAVI_INTEGRATIONS_REFRESH_MARGIN")
    try:
        return (float(raw) if raw else REFRESH_MARGIN_SECONDS) * 1000
    except ValueError:
        raise _CannotAnswer from None


def _credentials(
    reader: _Reader,
    keys: _Keys,
    doc: Document,
    project_id: str | None,
    environ: Mapping[str, str],
) -> dict[str, str]:
    """The credentials ``get_credentials`` would return, when no write or hook is needed."""
    provider_id = str(doc["id"])
    if doc["authType"] == "cli":
        raise _CannotAnswer  # the token comes from the provider's runtime_credentials hook
    rows = reader.fetch(CREDENTIAL_SQL, {"provider": provider_id, "pid": project_id or ""})
    state, row = credential_in_effect(doc, provider_id, project_id, rows, require_enabled=True)
    assert state.credential_scope is not None
    values = _open(keys, provider_id, state.credential_scope, row)
    now = _now_ms()
    if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_RESOLUTION_MS:
        raise _CannotAnswer  # last_used_at is due: the service writes it
    if doc["authType"] == "oauth" and "accessToken" in values and "expiresAt" in values:
        try:
            expires_ms = int(values["expiresAt"])
        except ValueError:
            raise _CannotAnswer from None
        if expires_ms - now < _refresh_margin_ms(environ):
            raise _CannotAnswer  # the refresher renews it, once across callers
    return values


class _Revealed:
    """A secret with :class:`pydantic.SecretStr`'s reading interface, without pydantic."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The plain value (only ``navi-int token`` prints it)."""
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"


def credentials(
    doc: Document,
    *,
    project_id: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str] | None:
    """The values ``IntegrationService.get_credentials`` returns for the provider ``doc``
    describes, as plain strings; ``None`` when only the service can answer (see the module
    docstring).

    Raises the service's errors for what it can tell alone: :class:`NotConnected`,
    :class:`IntegrationDisabled`, :class:`DecryptionFailed`.
    """
    env = os.environ if environ is None else environ
    try:
        with _reader(env) as reader:
            return _credentials(reader, _Keys(env), doc, project_id, env)
    except _CannotAnswer:
        return None


def token(
    doc: Document,
    *,
    project_id: str | None = None,
    field: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Token | None:
    """What ``IntegrationService.get_token`` returns, or ``None`` (as :func:`credentials`).

    Also raises the service's error for a missing ``field`` or token.
    """
    from ..documents import Token

    values = credentials(doc, project_id=project_id, environ=environ)
    if values is None:
        return None
    chosen = token_field(doc, str(doc["id"]), values, field)
    expires = values.get("expiresAt")
    # Token.value is a SecretStr; _Revealed reads the same and keeps pydantic unloaded.
    value = cast("SecretStr", _Revealed(values[chosen]))
    return Token(doc["authType"], value, int(expires) if expires else None)


# As models._PLACEHOLDER; a pattern string, compiled (and cached by re) only by `run`.
_PLACEHOLDER = r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}"


def env_for(
    provider_ids: Sequence[str],
    project_id: str | None,
    document: Callable[[str], Document],
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str] | None:
    """The variables ``navi-int run --with`` sets: each provider's ``env`` templates filled
    from its credentials; ``None`` when only the service can answer.

    Providers are taken in order, as the slow path takes them: ``document``
    (the catalog's) raises for an unknown id, and the first provider that is
    not connected or disabled raises the service's error. A template naming a
    value the credentials lack also returns ``None``, so that ``run`` reports
    it in its own words.
    """
    env = os.environ if environ is None else environ
    filled: dict[str, str] = {}
    try:
        with _reader(env) as reader:
            keys = _Keys(env)
            for provider_id in provider_ids:
                doc = document(provider_id)
                values = _credentials(reader, keys, doc, project_id, env)
                for var, template in (doc.get("env") or {}).items():
                    filled[var] = _fill(template, values)
    except _CannotAnswer:
        return None
    return filled


def _fill(template: str, values: Mapping[str, str]) -> str:
    """``Credentials.fill`` without pydantic; a missing value leaves the answer to ``run``."""

    def value(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise _CannotAnswer from None

    return re.sub(_PLACEHOLDER, value, template)


def statuses(
    documents: Mapping[str, Document],
    project_id: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> list[ProviderStatus] | None:
    """What ``IntegrationService.status`` returns for these providers (id -> document, in
    order), or ``None`` when only the service can answer."""
    env = os.environ if environ is None else environ
    ids = list(documents)
    if not ids:
        return []
    params: dict[str, Any] = {"pid": project_id or ""}
    try:
        with _reader(env) as reader:
            rows = []
            for sql in (CREDENTIALS_IN_SCOPE_SQL, SWITCHES_IN_SCOPE_SQL, HEALTH_IN_SCOPE_SQL):
                text, names = _expand(sql, ids)
                rows.append(reader.fetch(text, {**params, **names}))
    except _CannotAnswer:
        return None
    credentials, switches, health = rows
    return provider_statuses(documents, project_id, credentials, switches, health, _now_ms())
