"""A master key: its secret and id, its text form, and the key file that holds it.

The sources a key comes from (environment, OS keyring, key file) and when a
key may be created are in :mod:`.keys`, which re-exports every name here.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Advice, MasterKeyError

__all__ = [
    "MasterKey",
    "encode_key",
    "generate_key",
    "parse_key",
    "read_key_file",
    "write_key_file",
]


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
        raise MasterKeyError(
            f"the master key from {source} is not 32 bytes in base64 or hex",
            advice=Advice(
                "fix_store",
                hint=f"put the key the credentials were sealed with in {source}"
                " (64 hex digits or base64 of 32 bytes); `navi-int keys status` says which",
            ),
        )
    return MasterKey(decoded, source)


def encode_key(key: MasterKey) -> str:
    """Text form of a key (url-safe base64)."""
    return base64.urlsafe_b64encode(key.secret).decode()


def generate_key(source: str) -> MasterKey:
    """A new random key."""
    import secrets  # imported here, as tempfile below: reading a key needs neither

    return MasterKey(secrets.token_bytes(32), source)


def read_key_file(path: Path, what: str) -> MasterKey | None:
    """The key in ``path``, ``None`` if there is no such file.

    Refused with :class:`MasterKeyError`: a file other users may read or
    write (a key that may have been copied must not keep sealing new
    credentials: fix the mode, then rotate), and a symbolic link whose target
    is missing (the key may live on a volume that is not mounted: creating a
    new one there would split the store).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise MasterKeyError(
                f"the {what} {path} is a symbolic link to {os.readlink(path)}, which does not "
                "exist",
                advice=Advice("fix_store", hint="mount or restore its target, or remove the link"),
            ) from None
        return None
    except OSError as exc:
        raise MasterKeyError(f"cannot read the {what} {path}: {exc.strerror}") from None
    if os.name != "nt" and mode & 0o077:
        raise MasterKeyError(
            f"the {what} {path} is open to other users (mode {stat.S_IMODE(mode):04o})",
            advice=Advice(
                "fix_store",
                hint=f"run chmod 600 {path}, then navi-int keys rotate in case it was copied",
            ),
        )
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None  # removed since the stat
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a key (not ASCII text)"
        raise MasterKeyError(f"cannot read the {what} {path}: {reason}") from None
    return parse_key(text, f"{what} {path}")


def write_key_file(path: Path, key: MasterKey, *, replace: bool = False) -> bool:
    """Write ``key`` to ``path`` (mode 0600) atomically: complete or absent, never partial.

    Without ``replace`` an existing file (or symbolic link, even a dangling
    one) is left as it is and ``False`` is returned; ``True`` when written.
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
            try:
                os.link(tmp, path)
            except FileExistsError:  # first writer wins
                return False
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(path.parent)
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
