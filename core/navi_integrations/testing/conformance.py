"""The conformance check every provider plugin runs in its own tests.

::

    from navi_integrations.testing import check_provider

    def test_conformance(navi_registry):
        check_provider(
            navi_registry, "linear",
            valid={"apiKey": "lin_api_" + "a" * 40},
            invalid=[{"apiKey": "not-a-key"}],
        )

It raises ``AssertionError`` listing every contract the provider breaks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Mapping, Sequence

from ..agent.skills import skills_dir
from ..models import IntegrationProvider
from ..plugins.registry import Registry

__all__ = ["HEAVY_MODULES", "check_provider", "skills_dir"]

#: Modules a plugin must not import at import time (they load when a feature needs them).
HEAVY_MODULES = ("httpx", "authlib", "sqlalchemy", "sqlmodel", "cryptography")


def check_provider(
    registry: Registry,
    provider_id: str,
    *,
    valid: Mapping[str, str],
    invalid: Sequence[Mapping[str, str]] = (),
) -> None:
    """Assert that ``provider_id`` follows the plugin contracts.

    :param valid: credential values ``validate`` must accept (``{}`` for
        providers without fields).
    :param invalid: credential sets ``validate`` must refuse; the secret
        values must not appear in the messages.
    """
    failures: list[str] = []
    provider = registry.get(provider_id)
    owner = registry.owner(provider_id)
    # Only this provider's plugin is judged: another installed plugin's breakage is not ours.
    problems = [
        str(p)
        for p in registry.problems()
        if p.plugin == owner.name or (p.distribution and p.distribution == owner.distribution)
    ]
    if problems:
        failures.append("load problems: " + "; ".join(problems))
    plugin = registry.pm.get_plugin(owner.name)

    _check_model(provider, failures)
    _check_validate(registry, provider, valid, invalid, failures)
    module_name = getattr(plugin, "__name__", None)
    if isinstance(module_name, str) and module_name in sys.modules:
        _check_import_cost(module_name, failures)
        _check_skills(provider, module_name, failures)
    assert not failures, f"provider '{provider_id}' breaks the contract:\n- " + "\n- ".join(
        failures
    )


def _check_model(provider: IntegrationProvider, failures: list[str]) -> None:
    document = provider.to_document()
    again = IntegrationProvider.model_validate(json.loads(json.dumps(document)))
    if again != provider:
        failures.append("the provider does not survive a JSON round trip")
    if not provider.name.strip() or not provider.description.strip():
        failures.append("name and description must not be empty")
    if provider.auth_type != "none" and not provider.setup_guide.steps:
        failures.append("setupGuide needs at least one step")
    for spec in provider.credentials:
        if spec.pattern and not spec.pattern_hint:
            failures.append(f"field '{spec.key}' has a pattern but no patternHint for users")
    if provider.skill is not None and provider.setup_skill not in (None, provider.skill.setup):
        failures.append("setupSkill and skill.setup disagree")


def _check_validate(
    registry: Registry,
    provider: IntegrationProvider,
    valid: Mapping[str, str],
    invalid: Sequence[Mapping[str, str]],
    failures: list[str],
) -> None:
    accepted = registry.validate(provider.id, valid)
    if accepted:
        failures.append(f"validate refused the valid example: {'; '.join(map(str, accepted))}")
    if provider.credentials and not invalid:
        failures.append("give at least one invalid example to check validate against")
    for example in invalid:
        refused = registry.validate(provider.id, example)
        if not refused:
            failures.append(f"validate accepted an invalid example (fields {sorted(example)})")
        text = " ".join(str(p) for p in refused)
        for key, value in example.items():
            spec = provider.field(key)
            if value and len(value) >= 4 and (spec is None or spec.secret) and value in text:
                failures.append(f"a validate message quotes the secret value of '{key}'")


def _check_import_cost(module_name: str, failures: list[str]) -> None:
    code = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "print(','.join(m for m in sys.argv[2].split(',') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, module_name, ",".join(HEAVY_MODULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        failures.append(f"importing {module_name} failed: {out.stderr.strip().splitlines()[-1:]}")
    elif out.stdout.strip():
        failures.append(f"importing {module_name} imports {out.stdout.strip()} (load them lazily)")


def _check_skills(provider: IntegrationProvider, module_name: str, failures: list[str]) -> None:
    from ..agent.skills import read_skill, skill_problems, skill_warnings
    from ..errors import SkillWarning

    if provider.skill is None:
        return
    folder = skills_dir(module_name)
    for role, skill_name in (("usage", provider.skill.usage), ("setup", provider.skill.setup)):
        if skill_name is None:
            continue
        if folder is None or not (folder / skill_name / "SKILL.md").is_file():
            failures.append(
                f"skill '{skill_name}' has no {module_name}/skills/{skill_name}/SKILL.md"
            )
            continue
        problems = skill_problems(folder / skill_name)
        failures += [f"skill {p}" for p in problems]
        for warning in skill_warnings(folder / skill_name):
            warnings.warn(SkillWarning(f"skill {warning}"), stacklevel=3)
        if problems:
            continue  # it may not even be readable
        skill = read_skill(folder / skill_name)
        if role == "setup" and not skill.triggers:
            failures.append(f"skill '{skill_name}': a setup skill needs metadata.triggers")
        if role == "usage" and provider.mcp is not None and skill.mcp != provider.id:
            failures.append(f"skill '{skill_name}': its metadata.mcp must name '{provider.id}'")
