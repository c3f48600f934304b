"""The scope resolver, property-tested against a small reference model, and through the store."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from navi_integrations.scopes import Switches, resolve

tri = st.none() | st.booleans()
switches = st.builds(Switches, tri, tri, tri)
full = st.builds(Switches, st.booleans(), st.booleans(), st.booleans())


def reference(
    defaults: Switches,
    global_row: Switches | None,
    project_row: Switches | None,
    user_cred: bool | None,
    project_cred: bool | None,
) -> tuple[bool, bool, bool, str | None]:
    """The rules as a table lookup: the first layer that says something wins."""
    layers = [row for row in (project_row, global_row) if row is not None] + [defaults]
    values = []
    for name in ("enabled", "mcp_enabled", "skill_enabled"):
        said = [getattr(layer, name) for layer in layers if getattr(layer, name) is not None]
        values.append(said[0])
    scope = "project" if project_cred is True else "user" if user_cred is True else None
    return values[0], values[1], values[2], scope


@settings(max_examples=500)
@given(full, st.none() | switches, st.none() | switches, tri, tri)
def test_resolver_matches_the_reference_model(
    defaults: Switches,
    global_row: Switches | None,
    project_row: Switches | None,
    user_cred: bool | None,
    project_cred: bool | None,
) -> None:
    got = resolve(defaults, global_row, project_row, user_cred, project_cred)
    assert (got.enabled, got.mcp_enabled, got.skill_enabled, got.credential_scope) == reference(
        defaults, global_row, project_row, user_cred, project_cred
    )
    assert got.connected == (got.credential_scope is not None)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["enable", "disable", "mcp", "skill", "connect", "disconnect"]),
        st.sampled_from([None, "p1"]),
        st.booleans(),
    ),
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPERATIONS)
def test_service_agrees_with_the_reference_after_any_operations(
    navi_service: Any, operations: list[tuple[str, str | None, bool]]
) -> None:
    """Random operations through the real service and SQLite store, checked against the model."""
    service = navi_service
    for project in (None, "p1"):  # hypothesis reuses the fixture: start clean
        service.disconnect("notion", project_id=project)
    from navi_integrations.store.tables import DEFAULTS

    with service.store.write() as conn:
        conn.execute(DEFAULTS.delete())
    rows: dict[str | None, dict[str, bool | None]] = {None: {}, "p1": {}}
    creds: dict[str | None, bool | None] = {None: None, "p1": None}
    token = "ntn_" + "x" * 40
    for op, project, flag in operations:
        if op in ("enable", "disable"):
            getattr(service, op)("notion", project_id=project)
            rows[project]["enabled"] = op == "enable"
        elif op == "mcp":
            service.update_settings("notion", project_id=project, mcp_enabled=flag)
            rows[project]["mcp_enabled"] = flag
        elif op == "skill":
            service.update_settings("notion", project_id=project, skill_enabled=flag)
            rows[project]["skill_enabled"] = flag
        elif op == "connect":
            service.connect("notion", {"token": token}, project_id=project)
            creds[project] = True
        else:
            service.disconnect("notion", project_id=project)
            creds[project] = None
    defaults = Switches(True, True, True)
    for project in (None, "p1"):
        got = service.effective("notion", project_id=project)
        expected = reference(
            defaults,
            Switches(**rows[None]) if rows[None] else None,
            Switches(**rows["p1"]) if project and rows["p1"] else None,
            creds[None],
            creds["p1"] if project else None,
        )
        assert (got.enabled, got.mcp_enabled, got.skill_enabled, got.credential_scope) == expected


def test_project_ids_are_whole_strings_and_refusals_say_what_is_wrong() -> None:
    from navi_integrations import InvalidInput, Scope

    cases = {
        "ok\n": "(3 characters): '\\n' is not allowed",  # `$` alone would accept it
        "a b": "(3 characters): ' ' is not allowed",
        "-x": "it starts with '-'",
        "": "an empty id",
        "x" * 129: "longer than 128 characters",
        5: "a value of type int, not a string",
        Scope.project("p3"): "pass its .project_id",
    }
    for value, reason in cases.items():
        try:
            Scope.of(value)  # type: ignore[arg-type]
        except InvalidInput as exc:
            assert reason in exc.message, (value, exc.message)
        else:
            raise AssertionError(f"{value!r} was accepted")
    assert Scope.of("acme-site.v2").project_id == "acme-site.v2"
