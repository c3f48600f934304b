"""The credential-read rules: one set, for the service and the fast read path alike.

Every read of a credential — the service's ``get_credentials``, and the
driver-only reads of ``navi-int token``, ``run`` and ``list``
(:mod:`navi_integrations.store.direct`) — answers the same questions, and
this module is the one place that answers them:

* which stored row is in effect (:func:`in_effect`: the project's own enabled
  credentials, else the user's; the ``enabled`` switch resolved as
  :func:`~navi_integrations.scopes.resolve` does);
* how a sealed value is opened (:func:`open_row`: bound to provider and
  scope, with the errors a wrong key and a damaged row give);
* when a use is written down (:func:`touch_due`: ``last_used_at`` at most
  once a minute per row) and by which statement (:data:`TOUCH_SQL`);
* when an OAuth token is renewed first (:func:`refresh_due`, with the margin
  of :func:`refresh_margin`);
* what an audit entry of a read holds (:func:`audit_entry`, written by
  :data:`~navi_integrations.store.queries.statements.AUDIT_INSERT_SQL`);
* how ``{{field}}`` templates are filled (:func:`navi_integrations.placeholders.fill`).

It imports neither SQLAlchemy nor pydantic (a test keeps it so): the fast
path loads it in every ``navi-int token``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import DecryptionFailed, InvalidCiphertext, InvalidInput, scope_label
from ..statuses import credential_in_effect as in_effect

if TYPE_CHECKING:
    from ..documents import ProviderDocument
    from .keys import MasterKey

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "LAST_USED_RESOLUTION_MS",
    "TOUCH_SQL",
    "RevealedSecret",
    "audit_entry",
    "grant_times",
    "in_effect",
    "now_ms",
    "open_row",
    "refresh_due",
    "refresh_margin",
    "touch_due",
]

Row = Mapping[str, Any]

#: ``last_used_at`` is written at most this often per credential row (milliseconds).
LAST_USED_RESOLUTION_MS = 60_000
#: Seconds before expiry at which an OAuth token is renewed, unless
#: ``NAVI_INTEGRATIONS_REFRESH_MARGIN`` says otherwise.
DEFAULT_REFRESH_MARGIN = 300.0

#: Records a use of one credential row (``:id``) at ``:now``.
TOUCH_SQL = "UPDATE credentials SET last_used_at = :now WHERE id = :id"


def now_ms() -> int:
    """Milliseconds since the epoch: the store's time unit."""
    return int(time.time() * 1000)


def touch_due(last_used_at: int | None, now: int) -> bool:
    """Whether a read at ``now`` writes the row's ``last_used_at`` (never written, or more
    than :data:`LAST_USED_RESOLUTION_MS` ago)."""
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION_MS


def refresh_margin(environ: Mapping[str, str] | None = None) -> float:
    """Seconds before expiry at which tokens are renewed (``NAVI_INTEGRATIONS_REFRESH_MARGIN``).

    Raises :class:`InvalidInput` for a value that is not a number of seconds.
    """
    raw = (os.environ if environ is None else environ).get("NAVI_INTEGRATIONS_REFRESH_MARGIN")
    if not raw:
        return DEFAULT_REFRESH_MARGIN
    try:
        margin = float(raw)
    except ValueError:
        margin = -1.0
    if not margin >= 0:  # also NaN
        raise InvalidInput(
            f"NAVI_INTEGRATIONS_REFRESH_MARGIN must be a number of seconds, not {raw!r}",
            hint="for example NAVI_INTEGRATIONS_REFRESH_MARGIN=300",
        )
    return margin


def refresh_due(auth_type: str, values: Mapping[str, Any], margin: float, now: int) -> bool:
    """Whether an OAuth access token in ``values`` expires within ``margin`` seconds of
    ``now`` (ms), so that it is renewed before it is handed out.

    ``values`` maps field names to plain strings or ``SecretStr``; an unreadable
    ``expiresAt`` counts as expired (the refresher then renews or says why not).
    """
    if auth_type != "oauth" or "accessToken" not in values or "expiresAt" not in values:
        return False
    raw = values["expiresAt"]
    text = raw if isinstance(raw, str) else raw.get_secret_value()
    try:
        expires = int(text)
    except ValueError:
        return True
    return expires - now < margin * 1000


def open_row(
    key_for: Callable[[str], MasterKey | None],
    provider_id: str,
    scope_kind: str,
    project_id: str | None,
    key_id: str,
    blob: bytes,
    *,
    current: MasterKey | None = None,
) -> dict[str, str]:
    """Decrypt a credential row's value, bound to its provider and scope.

    ``key_for`` finds the master key with the row's ``key_id`` (current or
    retired). With ``current``, that key is tried first: when it opens the
    value it sealed it, and no key id (a SHA-256, and ``hashlib``'s import in a
    fresh process) is computed. Raises :class:`DecryptionFailed`: ``key`` when
    no key with the row's id is at hand ("the master key does not match"),
    ``damaged`` when that key refuses the value.
    """
    from .crypto import associated_data, open_values

    aad = associated_data(provider_id, scope_kind, project_id)
    if current is not None:
        try:
            return open_values(current, blob, aad)
        except InvalidCiphertext:
            pass  # sealed with another key, or damaged: the row's own key tells which
    key = key_for(key_id)
    if key is None:
        raise DecryptionFailed(provider_id, scope_label(project_id), "key")
    try:
        return open_values(key, blob, aad)
    except InvalidCiphertext:
        raise DecryptionFailed(provider_id, scope_label(project_id), "damaged") from None


def _idle_margin_ms(days: int) -> int:
    """How long before a refresh token's inactivity limit it is exercised: a tenth of the
    limit, at least a day (a daily ``refresh --due`` then never misses one)."""
    return max(86_400_000, days * 8_640_000)


def grant_times(
    doc: ProviderDocument, values: Mapping[str, Any], now: int
) -> tuple[int | None, int | None]:
    """The ``expires_at`` and ``refresh_by`` columns of a credential row about to hold
    ``values`` (stored at ``now``, ms): when its access token expires, and when its refresh
    token must be exercised before the provider's ``refreshTokenIdleDays`` limit. ``None``
    each where it does not apply; an unreadable ``expiresAt`` counts as due now."""
    if doc.get("authType") != "oauth":
        return None, None
    raw = values.get("expiresAt")
    expires: int | None = None
    if raw is not None:
        text = raw if isinstance(raw, str) else raw.get_secret_value()
        try:
            expires = int(text)
        except ValueError:
            expires = now
    oauth = doc.get("oauth")
    days = oauth.get("refreshTokenIdleDays") if oauth is not None else None
    refresh_by = None
    if days and "refreshToken" in values:
        refresh_by = now + days * 86_400_000 - _idle_margin_ms(days)
    return expires, refresh_by


def audit_entry(
    kind: str,
    provider_id: str,
    project_id: str | None,
    caller: str,
    *,
    outcome: str = "ok",
    tool: str | None = None,
    duration_ms: int | None = None,
    at: int | None = None,
) -> dict[str, Any]:
    """The audit row of a token read or a tool call (never a value), for
    :data:`~navi_integrations.store.queries.statements.AUDIT_INSERT_SQL`."""
    return {
        "kind": kind,
        "provider": provider_id,
        "project_id": project_id or "",
        "caller": caller[:255],
        "tool": tool,
        "duration_ms": duration_ms,
        "outcome": outcome[:32],
        "at": now_ms() if at is None else at,
    }


def row_scope_kind(row: Row) -> str:
    """``user`` or ``project``: the scope a credential row was sealed for."""
    return "project" if row["project_id"] else "user"


def open_in_effect(
    key_for: Callable[[str], MasterKey | None],
    doc: ProviderDocument,
    project_id: str | None,
    rows: Sequence[Row],
    *,
    require_enabled: bool,
    current: Callable[[], MasterKey] | None = None,
    account: str | None = None,
) -> tuple[Row, dict[str, str]]:
    """The row in effect among ``rows`` (:func:`in_effect`: ``account`` if named, else the
    one the scope uses) and its values, opened (:func:`open_row`, trying the ``current()``
    key first, asked for once a row applies)."""
    provider_id = str(doc["id"])
    scope, row = in_effect(
        doc, provider_id, project_id, rows, require_enabled=require_enabled, account=account
    )
    project = str(row["project_id"]) or None
    values = open_row(
        key_for,
        provider_id,
        scope,
        project,
        row["key_id"],
        row["value"],
        current=None if current is None else current(),
    )
    return row, values


class RevealedSecret:
    """A secret with :class:`pydantic.SecretStr`'s reading interface, without pydantic: what
    the fast path hands out where the service hands out a ``SecretStr``."""

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
