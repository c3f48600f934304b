"""Every statement the library writes as SQL text, importable without SQLAlchemy.

The fast read path (:mod:`navi_integrations.store.direct`) runs them through
the DB-API driver, and :class:`~navi_integrations.store.queries.Queries`
runs its hot reads through :meth:`Store.fetch`; the other statements are
built with SQLAlchemy in this package's other modules. ``:name`` parameters
(SQLAlchemy's text style, sqlite3's named style; converted for psycopg);
``{providers}`` expands to one parameter per id. Nothing is imported here, so
that ``navi-int token`` pays for none of the rest of the package.
"""

__all__ = [
    "AUDIT_INSERT_SQL",
    "CHANGE_MARKER_SQL",
    "CREDENTIALS_IN_SCOPE_SQL",
    "CREDENTIAL_VIEW_SQL",
    "DUE_SQL",
    "HEALTH_IN_SCOPE_SQL",
    "RATE_LIMIT_SQL",
    "SCHEMA_REVISION_SQL",
    "STATUS_OF_SQL",
    "SWITCHES_IN_SCOPE_SQL",
]

#: The alembic revision the database is at.
SCHEMA_REVISION_SQL = "SELECT version_num FROM alembic_version"

#: Both scopes' credentials of one provider, every account, each row with both scopes'
#: "enabled" switch and the account each scope uses (columns:
#: :data:`navi_integrations.statuses.CREDENTIAL_COLUMNS`): every token read.
#: Two equality lookups joined by UNION ALL, not ``IN (:pid, '')``: SQLite builds a
#: temporary index for an IN list on every run, a third of this statement's cost.
CREDENTIAL_VIEW_SQL = """
SELECT c.id, c.project_id, c.account, c.value, c.key_id, c.enabled, c.last_used_at,
  dp.enabled AS project_enabled, dg.enabled AS global_enabled,
  dp.account AS project_account, dg.account AS global_account
FROM credentials c
LEFT JOIN integration_defaults dp ON dp.provider = :provider AND dp.project_id = :pid
LEFT JOIN integration_defaults dg ON dg.provider = :provider AND dg.project_id = ''
WHERE c.provider = :provider AND c.project_id = :pid
UNION ALL
SELECT c.id, c.project_id, c.account, c.value, c.key_id, c.enabled, c.last_used_at,
  dp.enabled AS project_enabled, dg.enabled AS global_enabled,
  dp.account AS project_account, dg.account AS global_account
FROM credentials c
LEFT JOIN integration_defaults dp ON dp.provider = :provider AND dp.project_id = :pid
LEFT JOIN integration_defaults dg ON dg.provider = :provider AND dg.project_id = ''
WHERE c.provider = :provider AND c.project_id = '' AND :pid <> ''
"""

#: Credential rows (no values) of some providers in the user scope and project ``:pid``.
CREDENTIALS_IN_SCOPE_SQL = """
SELECT id, provider, project_id, account, enabled, last_error, last_used_at FROM credentials
WHERE provider IN ({providers}) AND project_id IN (:pid, '')
"""

#: Switch rows of some providers in the user scope and project ``:pid``.
SWITCHES_IN_SCOPE_SQL = """
SELECT provider, project_id, enabled, mcp_enabled, skill_enabled, account
FROM integration_defaults
WHERE provider IN ({providers}) AND project_id IN (:pid, '')
"""

#: Health rows of some providers in the user scope and project ``:pid``.
HEALTH_IN_SCOPE_SQL = """
SELECT provider, project_id, account, status, rate_limited_until, error_message,
  last_check_at, last_success_at, metadata
FROM integration_status
WHERE provider IN ({providers}) AND project_id IN (:pid, '')
"""

#: One audit entry (:meth:`Queries.record_audit` writes the same columns through SQLAlchemy).
AUDIT_INSERT_SQL = """
INSERT INTO audit (kind, provider, project_id, caller, tool, duration_ms, outcome, at)
VALUES (:kind, :provider, :project_id, :caller, :tool, :duration_ms, :outcome, :at)
"""

#: The health row of one credential row (one account) and its consecutive error count.
STATUS_OF_SQL = """
SELECT s.status, c.error_count FROM credentials c LEFT JOIN integration_status s
  ON s.provider = c.provider AND s.project_id = c.project_id AND s.account = c.account
WHERE c.provider = :provider AND c.project_id = :pid AND c.account = :account
"""

#: The Retry-After deadline of one credential row (one account).
RATE_LIMIT_SQL = """
SELECT rate_limited_until FROM integration_status
WHERE provider = :provider AND project_id = :pid AND account = :account
"""

#: Credential rows whose access token expires, or whose idle refresh token must be
#: exercised, by ``:cutoff`` (epoch ms): two index ranges (ix_credentials_expires_at,
#: ix_credentials_refresh_by), never a scan. ``expires_at = 0``: not known yet (a row
#: stored before schema 0006), looked at once.
DUE_SQL = """
SELECT id, provider, project_id, account, expires_at, refresh_by FROM credentials
WHERE expires_at <= :cutoff
UNION
SELECT id, provider, project_id, account, expires_at, refresh_by FROM credentials
WHERE refresh_by <= :cutoff
"""

#: A cheap fingerprint of every row a status document depends on: it changes when any
#: process connects, disconnects, switches or records health (see Queries.change_marker).
CHANGE_MARKER_SQL = """
SELECT
  (SELECT COUNT(*) FROM credentials) AS credentials,
  (SELECT COALESCE(MAX(updated_at), 0) FROM credentials) AS credentials_at,
  (SELECT COUNT(*) FROM integration_status) AS status,
  (SELECT COALESCE(MAX(last_check_at), 0) FROM integration_status) AS checked_at,
  (SELECT COALESCE(MAX(rate_limited_until), 0) FROM integration_status) AS held_until,
  (SELECT COUNT(*) FROM integration_defaults) AS switches,
  (SELECT COALESCE(SUM((LENGTH(id) + 1) * (
      CASE WHEN enabled IS NULL THEN 0 WHEN enabled THEN 1 ELSE 2 END
    + CASE WHEN mcp_enabled IS NULL THEN 0 WHEN mcp_enabled THEN 3 ELSE 6 END
    + CASE WHEN skill_enabled IS NULL THEN 0 WHEN skill_enabled THEN 9 ELSE 18 END)), 0)
   FROM integration_defaults) AS switch_sum
"""
