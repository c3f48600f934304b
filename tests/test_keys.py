"""Where the master key comes from: env var, OS keyring, key file (and why not the keyring)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from navi_integrations import IntegrationService, MasterKeyError
from navi_integrations.store.crypto import (
    EnvKeySource,
    FileKeySource,
    KeyringKeySource,
    MasterKeyMissing,
    generate_key,
    key_source,
    parse_key,
    write_key_file,
)

from .cli_helpers import navi

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


# -- the master key is never silently replaced ---------------------------------

NOTION = "ntn_" + "Fi1eKey" * 6
LINEAR = "lin_api_" + "Fi1eKey" * 5 + "abcd"


def _connect(provider: str, field: str, value: str) -> Any:
    return navi("connect", provider, "--no-test", "--stdin", stdin=f"{field}={value}\n")


def _one_line_error(result: Any) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_a_missing_key_file_is_reported_with_the_expected_key_never_replaced(
    navi_home: Path,
) -> None:
    assert _connect("notion", "token", NOTION).returncode == 0
    key_file = navi_home / "master.key"
    saved = key_file.read_bytes()
    key_id = parse_key(saved.decode(), "test").key_id
    key_file.unlink()  # lost: a wiped home, a restore that forgot it

    for result in (
        _connect("linear", "apiKey", LINEAR),  # would seal under a new key: the store splits
        navi("token", "notion"),  # reading never creates a key either
        navi("keys", "rotate"),
    ):
        line = _one_line_error(result)
        assert f"sealed with key {key_id}" in line
        assert str(key_file) in line and "keyring disabled" in line
        assert "a new key was not created" in line
        assert not key_file.exists()
        assert NOTION not in result.stdout + result.stderr

    status = navi("keys", "status")
    assert status.returncode == 1 and "Traceback" not in status.stderr
    assert "Master key: none in key file" in status.stdout
    assert f"1 credential(s) under {key_id} (key missing): notion (user scope)" in status.stdout
    doctor = navi("doctor")
    assert doctor.returncode == 1 and "Traceback" not in doctor.stderr
    assert "masterKey: unusable: the master key is missing" in doctor.stdout
    assert f"sealed with key {key_id}" in doctor.stdout
    assert not key_file.exists()

    key_file.write_bytes(saved)  # restored from a backup: everything is back
    key_file.chmod(0o600)
    assert navi("token", "notion").stdout.strip() == NOTION
    assert _connect("linear", "apiKey", LINEAR).returncode == 0
    assert navi("token", "linear").stdout.strip() == LINEAR


def test_once_nothing_is_sealed_a_first_key_is_created_by_a_write_only(navi_home: Path) -> None:
    key_file = navi_home / "master.key"
    for read_only in (("doctor",), ("keys", "status"), ("list",)):
        assert navi(*read_only).returncode == 0
        assert not key_file.exists(), read_only
    assert "masterKey: none yet (created on the first connect)" in navi("doctor").stdout
    assert _connect("notion", "token", NOTION).returncode == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    # The only credential goes away with its key: a fresh key is fine again.
    assert navi("disconnect", "notion").returncode == 0
    key_file.unlink()
    assert _connect("notion", "token", NOTION).returncode == 0
    assert navi("token", "notion").stdout.strip() == NOTION


def test_rows_sealed_only_with_retired_keys_let_a_new_current_key_be_made(
    navi_home: Path,
) -> None:
    sealed = {"0123456789abcdef"}
    source = FileKeySource(navi_home, "test", sealed_key_ids=lambda: sealed)
    with pytest.raises(MasterKeyMissing) as missing:
        source.current()
    assert missing.value.expected == ("0123456789abcdef",)
    retired = generate_key("old")
    (navi_home / "keys").mkdir(mode=0o700)
    write_key_file(navi_home / "keys" / f"{retired.key_id}.key", retired)
    sealed = {retired.key_id}
    assert source.current().key_id != retired.key_id  # the retired key still opens the rows
    assert set(source.by_id()) == {retired.key_id, source.current().key_id}


def test_the_keyring_is_never_silently_refilled(
    navi_home: Path, memory_keyring: MemoryKeyring, navi_registry: Any
) -> None:
    service = IntegrationService(registry=navi_registry)
    service.connect("notion", {"token": NOTION})
    key_id = service.keys.current().key_id
    del memory_keyring.entries[("navi-integrations", "master-key")]  # wiped keyring

    fresh = IntegrationService(registry=navi_registry)
    with pytest.raises(
        MasterKeyMissing, match=f"sealed with key {key_id}, looked for in OS keyring"
    ):
        fresh.connect("linear", {"apiKey": LINEAR})
    with pytest.raises(MasterKeyMissing, match="Restore the 'navi-integrations' entry"):
        fresh.get_token("notion")
    assert ("navi-integrations", "master-key") not in memory_keyring.entries


def test_a_keyring_gone_missing_does_not_start_a_key_file(
    navi_home: Path,
    memory_keyring: MemoryKeyring,
    navi_registry: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    IntegrationService(registry=navi_registry).connect("notion", {"token": NOTION})
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEYRING", "0")  # e.g. a session without a keyring
    fallback = IntegrationService(registry=navi_registry)
    assert isinstance(fallback.keys, FileKeySource)
    with pytest.raises(MasterKeyMissing, match="keyring disabled by NAVI_INTEGRATIONS_KEYRING=0"):
        fallback.connect("linear", {"apiKey": LINEAR})
    assert not (navi_home / "master.key").exists()


def test_a_locked_keyring_gives_one_line(
    navi_home: Path, memory_keyring: MemoryKeyring, navi_registry: Any
) -> None:
    from keyring.errors import KeyringLocked

    def locked(service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    memory_keyring.get_password = locked  # type: ignore[method-assign]
    with pytest.raises(MasterKeyError, match=r"OS keyring \(MemoryKeyring\) failed: KeyringLocked"):
        IntegrationService(registry=navi_registry).connect("notion", {"token": NOTION})


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_open_to_others_is_refused(navi_home: Path, mode: int) -> None:
    assert _connect("notion", "token", NOTION).returncode == 0
    key_file = navi_home / "master.key"
    key_file.chmod(mode)
    line = _one_line_error(navi("token", "notion"))
    assert f"is open to other users (mode {mode:04o}). Run chmod 600 {key_file}" in line
    assert NOTION not in line
    key_file.chmod(0o600)
    assert navi("token", "notion").stdout.strip() == NOTION


def test_a_retired_key_file_open_to_others_is_refused(navi_home: Path) -> None:
    source = FileKeySource(navi_home, "test")
    source.current()
    source.promote(generate_key("new"))
    [retired] = (navi_home / "keys").iterdir()
    retired.chmod(0o644)
    with pytest.raises(MasterKeyError, match=r"retired key file .* is open to other users"):
        source.retired()


def test_a_dangling_key_file_link_is_refused_not_replaced(navi_home: Path) -> None:
    assert _connect("notion", "token", NOTION).returncode == 0
    key_file = navi_home / "master.key"
    volume = navi_home / "unmounted-volume" / "master.key"
    volume.parent.mkdir()
    key_file.rename(volume)
    key_file.symlink_to(volume)
    volume.parent.rename(navi_home / "gone")  # the volume holding the key is not mounted
    for result in (navi("token", "notion"), _connect("linear", "apiKey", LINEAR)):
        line = _one_line_error(result)
        assert f"is a symbolic link to {volume}, which does not exist" in line
    assert key_file.is_symlink() and not volume.exists()


def test_keys_generate_refuses_a_dangling_link_and_an_unwritable_place(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "key"
    link = tmp_path / "link.key"
    link.symlink_to(target)
    result = navi("keys", "generate", str(link))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"is a symbolic link to {target}, which does not exist" in result.stderr
    assert "Wrote key" not in result.stdout
    assert not target.exists() and not target.parent.exists()

    missing_dir = navi("keys", "generate", str(tmp_path / "no" / "such" / "dir" / "key"))
    assert "cannot write the key to" in _one_line_error(missing_dir)
    assert "No such file or directory" in missing_dir.stderr

    made = navi("keys", "generate", str(tmp_path / "new.key"))
    assert made.returncode == 0 and "Wrote key" in made.stdout
    assert (tmp_path / "new.key").stat().st_mode & 0o777 == 0o600
