"""The fast read path: `token`, `list` and `run` read the store through the DB-API driver.

On SQLite and PostgreSQL, as processes: the answers equal the service's, no
SQLAlchemy, SQLModel, pydantic, httpx or authlib is imported (``-X importtime``
says what a process imported), and whatever the direct path cannot answer
alone (a write due, a token to refresh, a schema to create or migrate) goes to
the service.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from navi_integrations import (
    DecryptionFailed,
    IntegrationDisabled,
    IntegrationService,
    InvalidInput,
    NaviError,
    NotConnected,
    ProviderNotFound,
)
from navi_integrations.plugins.catalog import load_catalog
from navi_integrations.statuses import provider_statuses
from navi_integrations.store import direct
from navi_integrations.store.engine import Store
from navi_integrations.store.queries import statements

from .cli_helpers import table_row
from .conftest import InstallFn
from .test_registry import GOOD

LINEAR = "lin_api_" + "FastPath" * 5
LINEAR_P1 = "lin_api_" + "Project1" * 5
SLACK = {"botToken": "xoxb-1111-2222-FastPathSlackSecret", "teamId": "T0FASTPATH"}
#: What the fast path must never import (nor alembic, which comes with SQLAlchemy).
HEAVY = {"sqlalchemy", "sqlmodel", "pydantic", "pydantic_core", "httpx", "authlib", "alembic"}
OTHER_KEY = "ab" * 32


def navi_traced(*args: str, env: dict[str, str] | None = None) -> tuple[Any, set[str]]:
    """Run ``navi-int ARGS`` with ``-X importtime``: the process and the top-level modules
    it imported (its stderr keeps only the lines that are not import times)."""
    import os

    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "navi_integrations.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    pattern = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$")
    modules, rest = set(), []
    for line in proc.stderr.splitlines():
        found = pattern.match(line)
        if found:
            modules.add(found.group(1).split(".")[0])
        elif not line.startswith("import time:"):  # the header line
            rest.append(line)
    proc.stderr = "\n".join(rest)
    return proc, modules


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Processes and the service use the same database (SQLite, then PostgreSQL)."""
    monkeypatch.setenv("NAVI_INTEGRATIONS_DB_URL", store_url)
    return store_url


@pytest.fixture
def warm(database: str, navi_home: Path) -> None:
    """The provider cache exists (as after any first command), written by a process."""
    out = subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "plugins", "--json"],
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr


@pytest.fixture
def svc(database: str, navi_registry: Any) -> IntegrationService:
    """The service on the test's database (creates the schema)."""
    return IntegrationService(store=Store(database), registry=navi_registry)


def _doc(svc: IntegrationService, provider_id: str) -> dict[str, Any]:
    return svc.catalog.document(provider_id)


def _used_now(svc: IntegrationService) -> None:
    """Record every credential as just used (as a read would, without refreshing anything)."""
    from sqlalchemy import text

    with svc.store.write() as conn:
        conn.execute(
            text("UPDATE credentials SET last_used_at = :now"), {"now": time.time() * 1000}
        )


# -- token -----------------------------------------------------------------


def test_token_answers_through_the_driver_alone(svc: IntegrationService, warm: None) -> None:
    svc.connect("linear", {"apiKey": LINEAR})
    svc.connect("linear", {"apiKey": LINEAR_P1}, project_id="p1")
    svc.get_token("linear")  # last_used_at recorded: reads in the next minute write nothing
    svc.get_token("linear", project_id="p1")

    out, modules = navi_traced("token", "linear")
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, LINEAR, "")
    assert not modules & HEAVY, modules & HEAVY
    assert "importlib_metadata" not in modules  # the provider cache was checked without it

    out, modules = navi_traced("token", "linear", "--project", "p1", "--json")
    assert json.loads(out.stdout) == svc.get_token("linear", project_id="p1").to_document()
    assert not modules & HEAVY

    out, modules = navi_traced("token", "linear", "--project", "p2")  # inherits the user's
    assert out.stdout.strip() == LINEAR and not modules & HEAVY


def _last_used(svc: IntegrationService) -> int | None:
    from sqlalchemy import text

    with svc.store.read() as conn:
        found: int | None = conn.execute(text("SELECT last_used_at FROM credentials")).scalar()
    return found


def test_the_first_read_after_connect_is_answered_by_the_fast_path(
    svc: IntegrationService, warm: None
) -> None:
    svc.connect("linear", {"apiKey": LINEAR})
    used = _last_used(svc)  # connecting counts as a use: the first read writes nothing
    assert used is not None and abs(used - time.time() * 1000) < 60_000

    first, modules = navi_traced("token", "linear")
    assert first.stdout.strip() == LINEAR
    assert not modules & HEAVY

    second, modules = navi_traced("token", "linear")
    assert second.stdout.strip() == LINEAR and not modules & HEAVY
    assert _last_used(svc) == used  # at most once a minute per row

    with svc.store.write() as conn:  # a minute later, the next read records the use again
        from sqlalchemy import text

        conn.execute(text("UPDATE credentials SET last_used_at = :t"), {"t": used - 61_000})
    again, modules = navi_traced("token", "linear")
    assert again.stdout.strip() == LINEAR
    assert not modules & HEAVY  # the fast path writes it itself (store.reads.TOUCH_SQL)
    touched = _last_used(svc)
    assert touched is not None and touched >= used


def _same_error(
    fast: pytest.ExceptionInfo[NaviError], slow: pytest.ExceptionInfo[NaviError]
) -> None:
    assert type(fast.value) is type(slow.value)
    assert str(fast.value) == str(slow.value)
    assert fast.value.to_document() == slow.value.to_document()  # message and advice


def test_errors_read_exactly_like_the_service(svc: IntegrationService, warm: None) -> None:
    svc.connect("linear", {"apiKey": LINEAR})
    svc.connect("slack", SLACK)
    linear, slack = _doc(svc, "linear"), _doc(svc, "slack")

    cases: list[tuple[str, dict[str, Any], type[NaviError]]] = [
        ("notion", {}, NotConnected),
        ("notion", {"project_id": "p1"}, NotConnected),
        ("linear", {"field": "teamId"}, InvalidInput),  # a value the credentials lack
    ]
    _used_now(svc)  # fresh last_used_at: the fast path answers on its own
    svc.disable("slack", project_id="p1")
    cases.append(("slack", {"project_id": "p1"}, IntegrationDisabled))
    for provider_id, options, kind in cases:
        with pytest.raises(kind) as fast:
            direct.token(_doc(svc, provider_id), **options)
        with pytest.raises(kind) as slow:
            svc.get_token(provider_id, **options)
        _same_error(fast, slow)

    # Another master key: the row's key is unknown.
    other = {"NAVI_INTEGRATIONS_KEY": OTHER_KEY}
    import os

    other_service = IntegrationService(
        store=svc.store, registry=svc.registry, environ={**os.environ, **other}
    )
    with pytest.raises(DecryptionFailed) as fast:
        direct.token(linear, environ={**os.environ, **other})
    with pytest.raises(DecryptionFailed) as slow:
        other_service.get_token("linear")
    _same_error(fast, slow)
    assert "the master key does not match" in str(fast.value)

    # A value copied from another provider's row does not decrypt.
    from sqlalchemy import text

    with svc.store.write() as conn:
        conn.execute(
            text(
                "UPDATE credentials SET value = (SELECT value FROM credentials"
                " WHERE provider = 'slack') WHERE provider = 'linear'"
            )
        )
    with pytest.raises(DecryptionFailed) as fast:
        direct.token(linear)
    with pytest.raises(DecryptionFailed) as slow:
        svc.get_token("linear")
    _same_error(fast, slow)
    assert "damaged" in str(fast.value)
    assert direct.token(slack) is not None  # other rows still read
    out, modules = navi_traced("token", "slack", "--field", "nope")
    with pytest.raises(NaviError) as slow:
        svc.get_token("slack", field="nope")
    assert (out.returncode, out.stderr) == (slow.value.exit_code, f"Error: {slow.value}")
    assert not modules & HEAVY

    # As a process: one line, the service's words, still without SQLAlchemy.
    out, modules = navi_traced("token", "notion", "--project", "p1")
    assert out.returncode == 1
    assert out.stderr == (
        "Error: notion is not connected (project p1). Run: navi-int connect notion --project p1"
    )
    assert not modules & HEAVY


def test_token_reads_are_audited_like_the_service(svc: IntegrationService, warm: None) -> None:
    svc.connect("linear", {"apiKey": LINEAR})
    _used_now(svc)
    ok, modules = navi_traced("token", "linear", "--project", "p1")
    assert ok.stdout.strip() == LINEAR and not modules & HEAVY
    refused, modules = navi_traced("token", "notion", "--json")
    assert refused.returncode == 1 and not modules & HEAVY
    fast = svc.audit_log(kind="token_read")  # newest first

    svc.get_token("linear", project_id="p1", caller="cli")
    with pytest.raises(NotConnected):
        svc.get_token("notion", caller="cli")
    slow = svc.audit_log(kind="token_read")[:2]

    def without_time(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "at"} for e in entries]

    assert len(fast) == 2
    assert without_time(fast) == without_time(slow)
    assert [(e["provider"], e["outcome"]) for e in fast] == [
        ("notion", "NotConnected"),
        ("linear", "ok"),
    ]
    assert LINEAR not in json.dumps(fast)


def test_rows_sealed_with_a_retired_key_still_read(svc: IntegrationService) -> None:
    from navi_integrations.store.crypto import generate_key

    svc.connect("linear", {"apiKey": LINEAR})
    svc.keys.promote(generate_key("test"))  # the row keeps the old key, now retired
    _used_now(svc)
    found = direct.token(_doc(svc, "linear"))
    assert found is not None
    assert found.to_document() == svc.get_token("linear").to_document()


# -- what only the service can answer ---------------------------------------


def test_no_database_yet_goes_to_the_service(
    database: str, navi_registry: Any, navi_home: Path, warm: None
) -> None:
    from navi_integrations.plugins.catalog import Catalog

    docs = Catalog.from_registry(navi_registry)
    assert direct.token(docs.document("linear")) is None
    assert direct.statuses({"linear": docs.document("linear")}) is None
    out, modules = navi_traced("list", "--json")  # the service creates the schema
    assert out.returncode == 0, out.stderr
    assert "alembic" in modules
    out, modules = navi_traced("list", "--json")
    assert out.returncode == 0 and not modules & HEAVY


def test_an_older_schema_is_migrated_by_the_service(
    database: str, navi_registry: Any, warm: None
) -> None:
    Store(database, migrate=False).upgrade("0003")
    from navi_integrations.plugins.catalog import Catalog

    docs = Catalog.from_registry(navi_registry)
    assert direct.statuses({"linear": docs.document("linear")}) is None
    out, modules = navi_traced("token", "linear")
    assert out.stderr.startswith("Error: linear is not connected")
    assert "alembic" in modules  # migrated to the head on the way
    from navi_integrations.store.schema import SCHEMA_REVISION

    assert Store(database, migrate=False).current_revision() == SCHEMA_REVISION
    out, modules = navi_traced("token", "linear")
    assert out.stderr.startswith("Error: linear is not connected") and not modules & HEAVY


def test_tokens_to_refresh_and_cli_tokens_go_to_the_service(svc: IntegrationService) -> None:
    import os

    google = _doc(svc, "google")
    base = {"clientId": "cid.apps.googleusercontent.com", "clientSecret": "GOCSPX-secret"}
    expiring = {
        **base,
        "accessToken": "ya29.soon",
        "refreshToken": "1//r",
        "expiresAt": str(int((time.time() + 100) * 1000)),
    }
    svc.store_credentials("google", expiring)
    _used_now(svc)
    assert direct.token(google) is None  # within the 300 s margin: the refresher renews it
    short_margin = {**os.environ, "NAVI_INTEGRATIONS_REFRESH_MARGIN": "10"}
    found = direct.token(google, environ=short_margin)
    assert found is not None
    assert found.to_document() == {
        "type": "oauth",
        "value": "ya29.soon",
        "expiresAt": int(expiring["expiresAt"]),
    }
    bad_margin = {**os.environ, "NAVI_INTEGRATIONS_REFRESH_MARGIN": "x"}
    with pytest.raises(InvalidInput, match="NAVI_INTEGRATIONS_REFRESH_MARGIN"):
        direct.token(google, environ=bad_margin)
    with pytest.raises(InvalidInput, match="NAVI_INTEGRATIONS_REFRESH_MARGIN"):
        IntegrationService(environ=bad_margin).get_token("google")

    svc.store_credentials("github", {"host": "github.com"})
    _used_now(svc)
    assert direct.token(_doc(svc, "github")) is None  # the token comes from gh, through a hook


def test_key_problems_are_left_to_the_service(svc: IntegrationService, navi_home: Path) -> None:
    from navi_integrations.errors import MasterKeyError

    svc.connect("linear", {"apiKey": LINEAR})
    _used_now(svc)
    key = navi_home / "master.key"
    key.rename(navi_home / "elsewhere.key")
    assert direct.token(_doc(svc, "linear")) is None
    with pytest.raises(MasterKeyError, match="key"):
        IntegrationService(store=svc.store, registry=svc.registry).get_token("linear")
    assert not key.exists()  # reading never creates a key


def test_other_databases_go_to_the_service(svc: IntegrationService) -> None:
    import os

    linear = _doc(svc, "linear")
    for url in ("sqlite://", "mysql+pymysql://u@127.0.0.1/db", "sqlite:///x.db?mode=ro"):
        env = {**os.environ, "NAVI_INTEGRATIONS_DB_URL": url}
        assert direct.token(linear, environ=env) is None
        assert direct.statuses({"linear": linear}, environ=env) is None
    unreachable = {**os.environ, "NAVI_INTEGRATIONS_DB_URL": "postgresql://u@127.0.0.1:9/db"}
    assert direct.statuses({"linear": linear}, environ=unreachable) is None


# -- list ------------------------------------------------------------------


GOOGLE_SCOPE = "https://www.googleapis.com/auth/"


def _mixed_state(svc: IntegrationService) -> None:
    """Scopes, switches, an account and an OAuth grant: nothing that needs advice."""
    svc.connect("linear", {"apiKey": LINEAR})
    svc.connect("linear", {"apiKey": LINEAR_P1}, project_id="p1")
    svc.connect("slack", SLACK)
    svc.disable("slack", project_id="p1")
    svc.update_settings("linear", project_id="p1", mcp_enabled=False)
    svc.update_settings("google", skill_enabled=False)
    svc.record_success("linear", account="Ada")
    granted = " ".join(GOOGLE_SCOPE + s for s in ("spreadsheets", "gmail.readonly"))
    svc.store_credentials(
        "google",
        {
            "clientId": "cid.apps.googleusercontent.com",
            "clientSecret": "GOCSPX-secret",
            "accessToken": "ya29.token",
            "expiresAt": str(int((time.time() + 3600) * 1000)),
            "scope": granted,
        },
    )


def _errors(svc: IntegrationService) -> None:
    """Health that needs advice (worded by the service's recovery rules)."""
    svc.record_error(
        "linear", "rate limited", project_id="p1", kind="rate_limited", retry_after=600
    )
    svc.record_error("slack", "boom", kind="unavailable")


def test_list_answers_through_the_driver_alone(svc: IntegrationService, warm: None) -> None:
    _mixed_state(svc)
    for scope in ([], ["--project", "p1"], ["--project", "p2"]):
        out, modules = navi_traced("list", "--json", *scope)
        assert out.returncode == 0, out.stderr
        assert not modules & HEAVY, modules & HEAVY
        project_id = scope[1] if scope else None
        assert json.loads(out.stdout) == svc.status_document(project_id=project_id)
    listing = json.loads(navi_traced("list", "--json", "--project", "p1")[0].stdout)
    entries = {i["provider"]: i for i in listing["integrations"]}
    assert entries["linear"]["status"]["project"]["mcpEnabled"] is False
    assert entries["google"]["services"] == ["sheets"]  # gmail needs gmail.send too
    assert entries["notion"]["account"] is None and "services" not in entries["notion"]
    assert entries["linear"]["account"] is None  # p1's own credentials were never checked
    user = json.loads(navi_traced("list", "--json")[0].stdout)
    assert next(i for i in user["integrations"] if i["provider"] == "linear")["account"] == "Ada"

    # A last error needs advice: --json asks the service; the table does not need it.
    _errors(svc)
    out, modules = navi_traced("list", "--json", "--project", "p1")
    assert "sqlalchemy" in modules
    assert json.loads(out.stdout) == svc.status_document(project_id="p1")
    assert (
        direct.status_document({pid: _doc(svc, pid) for pid in svc.catalog.provider_ids()}, "p1")
        is None
    )
    text, modules = navi_traced("list", "--project", "p1")
    assert table_row(text.stdout, "linear") == [
        "linear",
        "Linear",
        "API key",
        "project",
        "default",
        "yes",
        "no",
        "yes",
        "degraded",
    ]
    assert table_row(text.stdout, "slack") == [
        "slack",
        "Slack",
        "API key",
        "user",
        "default",
        "no",
        "yes",
        "yes",
        "disabled",
    ]
    assert "linear: rate limited until" in text.stdout
    assert not modules & HEAVY


def test_statuses_are_the_services_from_either_driver(svc: IntegrationService) -> None:
    """One implementation: rows read by SQLAlchemy (as mappings) or by the driver give
    the same statuses as ``service.status``."""
    import sqlalchemy as sa

    _mixed_state(svc)
    _errors(svc)
    ids = svc.catalog.provider_ids()
    docs = {pid: _doc(svc, pid) for pid in ids}
    for project_id in (None, "p1"):
        expected = svc.status(project_id=project_id)
        assert direct.statuses(docs, project_id) == expected
        params: dict[str, Any] = {"pid": project_id or ""}
        rows = []
        with svc.store.read() as conn:
            for sql in (
                statements.CREDENTIALS_IN_SCOPE_SQL,
                statements.SWITCHES_IN_SCOPE_SQL,
                statements.HEALTH_IN_SCOPE_SQL,
            ):
                names = {f"p{i}": pid for i, pid in enumerate(ids)}
                text = sql.format(providers=", ".join(f":{n}" for n in names))
                rows.append(conn.execute(sa.text(text), {**params, **names}).mappings().all())
        now = int(time.time() * 1000)
        assert provider_statuses(docs, project_id, *rows, now) == expected


# -- run ---------------------------------------------------------------------


def _run_env(svc: IntegrationService, ids: list[str], project_id: str | None) -> dict[str, str]:
    """The variables as ``navi-int run`` computes them on the service's path."""
    env = {}
    for pid in ids:
        doc = _doc(svc, pid)
        credentials = svc.get_credentials(pid, project_id=project_id)
        fields = doc.get("credentials") or []
        defaults = {f["key"]: f["default"] for f in fields if f.get("default")}
        optional = {f["key"] for f in fields if not f.get("required", True)}
        for var, template in (doc.get("env") or {}).items():
            value = credentials.fill_or_omit(template, defaults=defaults, optional=optional)
            if value is not None:
                env[var] = value
    return env


def test_env_for_fills_the_templates_like_run(svc: IntegrationService) -> None:
    svc.connect("linear", {"apiKey": LINEAR})
    svc.connect("slack", SLACK)
    filled = direct.env_for(["linear", "slack"], "p1", svc.catalog.document)
    assert (
        filled
        == _run_env(svc, ["linear", "slack"], "p1")
        == {
            "LINEAR_API_KEY": LINEAR,
            "SLACK_BOT_TOKEN": SLACK["botToken"],
            "SLACK_TEAM_ID": SLACK["teamId"],
        }
    )

    with pytest.raises(ProviderNotFound, match="Did you mean 'linear'"):
        direct.env_for(["linaer"], None, svc.catalog.document)
    with pytest.raises(NotConnected) as fast:
        direct.env_for(["linear", "notion"], None, svc.catalog.document)
    with pytest.raises(NotConnected) as slow_error:
        svc.get_credentials("notion")
    _same_error(fast, slow_error)

    # A template naming a value the credentials lack: run reports it in its own words.
    svc.store_credentials("slack", {"botToken": SLACK["botToken"]})
    svc.get_credentials("slack")
    assert direct.env_for(["slack"], None, svc.catalog.document) is None


def test_env_for_takes_defaults_and_leaves_out_optional_values(
    svc: IntegrationService, navi_register: Any
) -> None:
    from navi_integrations import IntegrationProvider

    navi_register(
        IntegrationProvider(
            id="acme",
            name="Acme",
            description="d",
            auth_type="api_key",
            credentials=[
                {"key": "apiKey", "label": "Key"},
                {"key": "region", "label": "Region", "type": "text", "default": "eu"},
                {"key": "team", "label": "Team", "type": "text", "required": False},
            ],
            env={"ACME_KEY": "{{apiKey}}", "ACME_REGION": "{{region}}", "ACME_TEAM": "{{team}}"},
        )
    )
    svc.store_credentials("acme", {"apiKey": "k-1"})
    _used_now(svc)
    filled = direct.env_for(["acme"], None, svc.catalog.document)
    assert filled == _run_env(svc, ["acme"], None) == {"ACME_KEY": "k-1", "ACME_REGION": "eu"}


# -- the provider cache, checked without discovery ----------------------------


def test_cache_check_sees_a_plugin_installed_next_to_known_ones(
    navi_home: Path, install_plugin: InstallFn
) -> None:
    install_plugin("navi-first", GOOD.format(id="first", name="First"))
    assert "first" in load_catalog().provider_ids()
    assert load_catalog().provider_ids() == load_catalog().provider_ids()
    cache = json.loads((navi_home / "cache" / "providers.json").read_text())
    assert cache["discovery"]["entryPoints"]  # the next check can skip discovery
    # Same sys.path entries; the new .dist-info changes its folder's time.
    time.sleep(0.01)
    install_plugin("navi-second", GOOD.format(id="second", name="Second"))
    assert {"first", "second"} <= set(load_catalog().provider_ids())


def test_cached_plugin_documents_become_objects_only_when_read(navi_home: Path) -> None:
    import dataclasses

    from navi_integrations.plugins import catalog as catalog_module
    from navi_integrations.plugins.info import LoadProblem, PluginInfo

    assert {f.name for f in dataclasses.fields(PluginInfo)} == catalog_module._PLUGIN_KEYS
    assert {f.name for f in dataclasses.fields(LoadProblem)} == catalog_module._PROBLEM_KEYS
    built = load_catalog()
    cached = load_catalog()
    assert cached.plugins == built.plugins and cached.problems == built.problems
    # A document the catalog did not write is not trusted: it is rebuilt.
    path = navi_home / "cache" / "providers.json"
    data = json.loads(path.read_text())
    data["plugins"][0]["extra"] = True
    path.write_text(json.dumps(data))
    assert load_catalog().plugins == built.plugins


def test_the_fast_path_shares_the_services_rules() -> None:
    """One module owns the credential-read rules, and neither side restates them."""
    import ast

    from navi_integrations.store import reads
    from navi_integrations.store.schema import SCHEMA_REVISION

    core = Path(reads.__file__).parents[1]
    rule_names = {"LAST_USED_RESOLUTION_MS", "DEFAULT_REFRESH_MARGIN", "TOUCH_SQL"}
    for module in (core / "store" / "direct.py", *sorted((core / "service").glob("*.py"))):
        tree = ast.parse(module.read_text())
        assigned = {
            t.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        assert not assigned & rule_names, module
        assert "RevealedSecret" not in classes and "_Revealed" not in classes, module
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, navi_integrations.store.reads as r; "
            "r.open_row; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'pydantic', 'sqlmodel')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "[]"
    from navi_integrations.store import engine

    assert engine.SCHEMA_REVISION == SCHEMA_REVISION
