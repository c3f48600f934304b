"""The provider cache: a fresh one answers without importing plugins; any change rebuilds it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from navi_integrations.plugins import catalog as catalog_module
from navi_integrations.plugins.catalog import load_catalog

from .conftest import InstallFn
from .test_registry import GOOD


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts how often the catalog is rebuilt from the plugins (a spy around the real build)."""
    calls: list[int] = []
    real = catalog_module._build

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog_module, "_build", spy)
    return calls


def test_second_process_imports_no_plugin(navi_home: Path) -> None:
    code = (
        "import sys; from navi_integrations.plugins.catalog import load_catalog;"
        "c = load_catalog(); print(len(c.provider_ids()),"
        " sorted(m for m in ('navi_linear', 'pydantic.main') if m in sys.modules))"
    )
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    count, imported = run()
    assert imported.strip() == "['navi_linear', 'pydantic.main']"  # built the first time
    count_again, imported_again = run()
    assert (count_again, imported_again.strip()) == (count, "[]")


def test_changes_rebuild_the_cache(
    navi_home: Path, install_plugin: InstallFn, builds: list[int]
) -> None:
    assert "acme" not in load_catalog().provider_ids()
    load_catalog()
    assert len(builds) == 1

    module = install_plugin("navi-acme", GOOD.format(id="acme", name="Acme"))
    assert load_catalog().document("acme")["name"] == "Acme"
    assert len(builds) == 2

    # An edit to an installed plugin's source (editable installs) is seen.
    source = next(p for p in sys.path if (Path(p) / f"{module}.py").exists())
    path = Path(source) / f"{module}.py"
    time.sleep(0.01)
    path.write_text(GOOD.format(id="acme", name="Acme Renamed"))
    sys.modules.pop(module, None)
    assert load_catalog().document("acme")["name"] == "Acme Renamed"

    # So is a user-defined provider file.
    (navi_home / "providers").mkdir()
    (navi_home / "providers" / "q.toml").write_text(
        'id = "q"\nname = "Q"\nbase_url = "https://q.example"\n'
    )
    assert "q" in load_catalog().provider_ids()
    assert len(builds) == 4


def test_damaged_cache_is_rebuilt(navi_home: Path, builds: list[int]) -> None:
    first = load_catalog().provider_ids()
    cache = navi_home / "cache" / "providers.json"
    cache.write_text("{not json")
    assert load_catalog().provider_ids() == first
    assert len(builds) == 2
    assert load_catalog().provider_ids() == first
    assert len(builds) == 2


def test_cache_can_be_turned_off(
    navi_home: Path, builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAVI_INTEGRATIONS_NO_CACHE", "1")
    load_catalog()
    load_catalog()
    assert len(builds) == 2
    assert not (navi_home / "cache" / "providers.json").exists()


def test_switches_are_part_of_the_key(
    navi_home: Path, builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "linear" in load_catalog().provider_ids()
    monkeypatch.setenv("NAVI_INTEGRATIONS_BLOCK_PLUGINS", "linear")
    assert "linear" not in load_catalog().provider_ids()
    assert len(builds) == 2
