"""Encryption of credential values: AES-256-GCM, one random nonce per value.

Each ciphertext is bound by associated data to (provider, scope, project),
so a row copied to another provider or project does not decrypt. Stored
form: ``nonce (12 bytes) || ciphertext+tag``, with the key id kept beside it
in the row so that rotation knows which key each row needs.

The master key comes from, in order (:func:`key_source`):

1. ``NAVI_INTEGRATIONS_KEY`` (32 bytes, base64 or hex), with retired keys in
   ``NAVI_INTEGRATIONS_OLD_KEYS`` during a rotation;
2. the OS keyring, when a usable backend exists;
3. a generated key file ``<data dir>/master.key`` with mode 0600, retired
   keys in ``<data dir>/keys/``.

Rotation never loses a credential: the new key becomes current only after
the old one is saved as retired, every row records the id of its key, and a
retired key is dropped only once no row uses it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidCiphertext, MasterKeyError
from ..paths import private_dir

__all__ = [
    "InvalidCiphertext",
    "KeySource",
    "MasterKey",
    "Sealed",
    "associated_data",
    "key_source",
    "open_sealed",
    "seal",
]

_NONCE = 12
_KEYRING_SERVICE = "navi-integrations"
_KEYRING_USER = "master-key"


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit key and its id (a short digest, safe to store and show)."""

    secret: bytes = field(repr=False)
    source: str

    @property
    def key_id(self) -> str:
        """First 16 hex digits of SHA-256 of the key: identifies it without revealing it."""
        import hashlib  # here: reading a credential with the current key needs no id

        return hashlib.sha256(b"navi-key-id:" + self.secret).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r}, source={self.source!r})"

    @functools.cached_property
    def aead(self) -> Any:
        """The AES-GCM cipher for this key (built once: it is used on every read)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(self.secret)


@dataclass(frozen=True)
class Sealed:
    """An encrypted value and the id of the key that sealed it."""

    blob: bytes = field(repr=False)
    key_id: str


def associated_data(provider: str, scope: str, project_id: str | None) -> bytes:
    """What a ciphertext is bound to: provider, scope and project."""
    return f"navi-integrations:v1:{provider}:{scope}:{project_id or ''}".encode()


def seal(key: MasterKey, plaintext: bytes, aad: bytes) -> Sealed:
    """Encrypt ``plaintext`` under ``key`` with a fresh random nonce."""
    nonce = os.urandom(_NONCE)
    return Sealed(nonce + key.aead.encrypt(nonce, plaintext, aad), key.key_id)


def open_sealed(key: MasterKey, blob: bytes, aad: bytes) -> bytes:
    """Decrypt ``blob``; raises :class:`InvalidCiphertext` (never returns garbage)."""
    from cryptography.exceptions import InvalidTag

    if len(blob) < _NONCE + 16:
        raise InvalidCiphertext("truncated")
    try:
        return bytes(key.aead.decrypt(blob[:_NONCE], blob[_NONCE:], aad))
    except InvalidTag:
        raise InvalidCiphertext("authentication failed") from None


def parse_key(text: str, source: str) -> MasterKey:
    """A key from its text form: 64 hex digits or base64 of 32 bytes."""
    raw = text.strip()
    decoded: bytes | None = None
    if len(raw) == 64:
        try:
            decoded = bytes.fromhex(raw)
        except ValueError:
            decoded = None
    if decoded is None:
        try:
            decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=False)
        except (binascii.Error, ValueError):
            decoded = None
    if decoded is None or len(decoded) != 32:
        raise MasterKeyError(f"the master key from {source} is not 32 bytes in base64 or hex")
    return MasterKey(decoded, source)


def encode_key(key: MasterKey) -> str:
    """Text form of a key (url-safe base64)."""
    return base64.urlsafe_b64encode(key.secret).decode()


def generate_key(source: str) -> MasterKey:
    """A new random key."""
    import secrets  # imported here, as tempfile below: reading a key needs neither

    return MasterKey(secrets.token_bytes(32), source)


def _usable_keyring() -> tuple[Any, str]:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None, "the keyring package is not installed"
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a misconfigured keyring must not stop us
        return None, f"the OS keyring failed to load: {type(exc).__name__}"
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None, f"no usable OS keyring ({type(backend).__name__})"
    return backend, type(backend).__name__


class KeySource:
    """Where the master key lives, and the older keys kept until no row uses them."""

    #: Human-readable description, e.g. "key file ~/.local/share/navi-integrations/master.key".
    description: str = ""
    #: Whether ``promote`` can install a new key here (an env var cannot be changed by us).
    can_rotate: bool = True

    def current(self) -> MasterKey:
        """The key new values are sealed with."""
        raise NotImplementedError

    def retired(self) -> list[MasterKey]:
        """Older keys still kept to open rows not yet re-encrypted."""
        raise NotImplementedError

    def promote(self, new: MasterKey) -> None:
        """Make ``new`` current, keeping the previous current key as retired (crash-safe)."""
        raise NotImplementedError

    def forget(self, key_id: str) -> None:
        """Drop a retired key (only once no row uses it)."""
        raise NotImplementedError

    def by_id(self) -> dict[str, MasterKey]:
        """Every known key by id, current included."""
        keys = {k.key_id: k for k in self.retired()}
        current = self.current()
        keys[current.key_id] = current
        return keys


class EnvKeySource(KeySource):
    """``NAVI_INTEGRATIONS_KEY``, with ``NAVI_INTEGRATIONS_OLD_KEYS`` (comma-separated) retired."""

    can_rotate = False

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.description = "NAVI_INTEGRATIONS_KEY"

    def current(self) -> MasterKey:
        return parse_key(self._environ["NAVI_INTEGRATIONS_KEY"], "NAVI_INTEGRATIONS_KEY")

    def retired(self) -> list[MasterKey]:
        raw = self._environ.get("NAVI_INTEGRATIONS_OLD_KEYS", "")
        return [
            parse_key(part, "NAVI_INTEGRATIONS_OLD_KEYS") for part in raw.split(",") if part.strip()
        ]

    def promote(self, new: MasterKey) -> None:
        raise MasterKeyError(
            "the master key comes from NAVI_INTEGRATIONS_KEY: set it to a new key (navi-int keys "
            "generate) and put the old one in NAVI_INTEGRATIONS_OLD_KEYS, then run navi-int keys "
            "rotate"
        )

    def forget(self, key_id: str) -> None:
        pass  # the user removes it from NAVI_INTEGRATIONS_OLD_KEYS


class FileKeySource(KeySource):
    """``<data dir>/master.key`` (0600), retired keys in ``<data dir>/keys/<id>.key``."""

    def __init__(self, data_dir: Path, why: str) -> None:
        self.path = data_dir / "master.key"
        self.retired_dir = data_dir / "keys"
        self.description = f"key file {self.path} ({why})"

    def current(self) -> MasterKey:
        try:
            return parse_key(self.path.read_text(encoding="ascii"), self.description)
        except FileNotFoundError:
            pass
        private_dir(self.path.parent)
        write_key_file(self.path, generate_key(self.description))
        # Another process may have created it first: whatever is there now wins.
        return parse_key(self.path.read_text(encoding="ascii"), self.description)

    def retired(self) -> list[MasterKey]:
        if not self.retired_dir.is_dir():
            return []
        return [
            parse_key(p.read_text(encoding="ascii"), f"retired key file {p}")
            for p in sorted(self.retired_dir.glob("*.key"))
        ]

    def promote(self, new: MasterKey) -> None:
        old = self.current()
        private_dir(self.retired_dir)
        write_key_file(self.retired_dir / f"{old.key_id}.key", old)  # keep it first
        write_key_file(self.path, new, replace=True)

    def forget(self, key_id: str) -> None:
        path = self.retired_dir / f"{key_id}.key"
        if path.exists():
            path.unlink()


class KeyringKeySource(KeySource):
    """The OS keyring: the current key and each retired key as separate entries."""

    def __init__(self, backend: Any, name: str) -> None:
        self._backend = backend
        self.description = f"OS keyring ({name})"

    def _get(self, user: str) -> str | None:
        value = self._backend.get_password(_KEYRING_SERVICE, user)
        return str(value) if value else None

    def current(self) -> MasterKey:
        stored = self._get(_KEYRING_USER)
        if stored:
            return parse_key(stored, self.description)
        key = generate_key(self.description)
        self._backend.set_password(_KEYRING_SERVICE, _KEYRING_USER, encode_key(key))
        return parse_key(self._get(_KEYRING_USER) or "", self.description)

    def _retired_ids(self) -> list[str]:
        return [i for i in (self._get("retired-key-ids") or "").split(",") if i]

    def retired(self) -> list[MasterKey]:
        keys = []
        for key_id in self._retired_ids():
            stored = self._get(f"key-{key_id}")
            if stored:
                keys.append(parse_key(stored, self.description))
        return keys

    def promote(self, new: MasterKey) -> None:
        old = self.current()
        self._backend.set_password(_KEYRING_SERVICE, f"key-{old.key_id}", encode_key(old))
        ids = sorted({*self._retired_ids(), old.key_id})
        self._backend.set_password(_KEYRING_SERVICE, "retired-key-ids", ",".join(ids))
        self._backend.set_password(_KEYRING_SERVICE, _KEYRING_USER, encode_key(new))

    def forget(self, key_id: str) -> None:
        ids = [i for i in self._retired_ids() if i != key_id]
        self._backend.set_password(_KEYRING_SERVICE, "retired-key-ids", ",".join(ids))
        with contextlib.suppress(Exception):  # already gone
            self._backend.delete_password(_KEYRING_SERVICE, f"key-{key_id}")


def key_source(data_dir: Path, environ: Mapping[str, str] | None = None) -> KeySource:
    """Where the master key comes from: env var, else OS keyring, else the key file.

    The description of a key-file source says why the keyring was not used.
    ``NAVI_INTEGRATIONS_KEYRING=0`` skips the keyring.
    """
    env = os.environ if environ is None else environ
    if env.get("NAVI_INTEGRATIONS_KEY"):
        return EnvKeySource(env)
    if env.get("NAVI_INTEGRATIONS_KEYRING", "1") == "0":
        return FileKeySource(data_dir, "keyring disabled by NAVI_INTEGRATIONS_KEYRING=0")
    backend, why = _usable_keyring()
    if backend is None:
        return FileKeySource(data_dir, why)
    return KeyringKeySource(backend, why)


def write_key_file(path: Path, key: MasterKey, *, replace: bool = False) -> None:
    """Write ``key`` to ``path`` (mode 0600) atomically: complete or absent, never partial.

    Without ``replace`` an existing file is left as it is.
    """
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(encode_key(key) + "\n")
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            with contextlib.suppress(FileExistsError):  # first writer wins
                os.link(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
