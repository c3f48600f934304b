"""Where the master key comes from: env var, OS keyring, key file (and why not the keyring)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from navi_integrations import IntegrationService, MasterKeyError
from navi_integrations.store.crypto import EnvKeySource, FileKeySource, KeyringKeySource, key_source

TOKEN = "ntn_" + "K3yr1ng" * 6


class MemoryKeyring(KeyringBackend):
    """A real keyring backend (the keyring plugin API) kept in memory.

    Stands in for the OS keyring (Secret Service, macOS Keychain), which needs
    a desktop session this machine does not have.
    """

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Any:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEYRING", "1")
    yield backend
    keyring.set_keyring(previous)


def test_without_a_usable_keyring_the_key_file_says_why(
    navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEYRING", "1")
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        source = key_source(navi_home)
    finally:
        keyring.set_keyring(previous)
    assert isinstance(source, FileKeySource)
    assert "no usable OS keyring (Keyring)" in source.description


def test_keyring_holds_the_key_and_rotation_retires_through_it(
    navi_home: Path, memory_keyring: MemoryKeyring, navi_registry: Any
) -> None:
    service = IntegrationService(registry=navi_registry)
    assert isinstance(service.keys, KeyringKeySource)
    service.connect("notion", {"token": TOKEN})
    assert not (navi_home / "master.key").exists()
    first = service.keys.current().key_id
    assert TOKEN not in str(memory_keyring.entries)

    report = service.rotate_keys()
    assert report.dropped_keys == [first]
    assert service.keys.current().key_id == report.key_id != first
    assert ("navi-integrations", f"key-{first}") not in memory_keyring.entries
    fresh = IntegrationService(registry=navi_registry)
    assert fresh.get_token("notion").value.get_secret_value() == TOKEN


def test_env_key_wins_and_bad_keys_are_refused(
    navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEY", "00" * 32)
    assert isinstance(key_source(navi_home), EnvKeySource)
    assert key_source(navi_home).current().secret == bytes(32)
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEY", "too-short")
    with pytest.raises(MasterKeyError, match="not 32 bytes in base64 or hex"):
        key_source(navi_home).current()
