"""The master key: where it comes from, how it is stored, and when one may be created.

The master key comes from, in order (:func:`key_source`):

1. ``NAVI_INTEGRATIONS_KEY`` (32 bytes, base64 or hex), with retired keys in
   ``NAVI_INTEGRATIONS_OLD_KEYS`` during a rotation;
2. the OS keyring, when a usable backend exists;
3. a generated key file ``<data dir>/master.key`` with mode 0600, retired
   keys in ``<data dir>/keys/``.

The master key is never silently replaced. A key is generated only while no
stored credential is sealed with a key we do not have: a missing key file
(or keyring entry) next to sealed rows is reported with the key id expected
and where it was looked for (:class:`MasterKeyMissing`); reading never
creates a key. A key file other users can open, or a symbolic link to a
missing file, is refused.

Rotation never loses a credential: the new key becomes current only after
the old one is saved as retired (:meth:`KeySource.promote`), every row
records the id of its key, and a retired key is dropped only once no row
uses it.

A key itself (:class:`MasterKey`, its text form, reading and writing a key
file) is defined in :mod:`._master_key` and re-exported here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import Advice, MasterKeyError, MasterKeyMissing
from ..paths import private_dir
from ._master_key import (
    MasterKey,
    encode_key,
    generate_key,
    parse_key,
    read_key_file,
    write_key_file,
)

__all__ = [
    "EnvKeySource",
    "FileKeySource",
    "KeySource",
    "KeyringKeySource",
    "MasterKey",
    "MasterKeyMissing",
    "SealedKeyIds",
    "encode_key",
    "generate_key",
    "key_source",
    "parse_key",
    "read_key_file",
    "sealed_key_ids_in",
    "write_key_file",
]

_KEYRING_SERVICE = "navi-integrations"
_KEYRING_USER = "master-key"


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


#: A function answering which key ids the stored credentials use (asked only when a key is missing).
SealedKeyIds = Callable[[], Collection[str]]


class KeySource:
    """Where the master key lives, and the older keys kept until no row uses them.

    A source creates a key only when it has none **and** no stored credential
    is sealed with a key it does not know (``sealed_key_ids`` answers that);
    otherwise :class:`MasterKeyMissing` says which key is expected and where
    it was looked for.
    """

    #: Human-readable description, e.g. "key file ~/.local/share/navi-integrations/master.key".
    description: str = ""
    #: Whether ``promote`` can install a new key here (an env var cannot be changed by us).
    can_rotate: bool = True
    #: What to do to get the key back, for :class:`MasterKeyMissing`.
    restore_hint: str = "Restore that key, or set NAVI_INTEGRATIONS_KEY to it"

    def __init__(self, sealed_key_ids: SealedKeyIds | None = None) -> None:
        self._sealed_key_ids = sealed_key_ids

    def current(self, *, create: bool = True) -> MasterKey:
        """The key new values are sealed with.

        When there is none yet, one is created if ``create`` and if no stored
        credential needs a key this source does not have; otherwise
        :class:`MasterKeyMissing` is raised. Reading paths pass ``create=False``.
        """
        key = self._load()
        if key is not None:
            return key
        unknown = self.unknown_key_ids()
        if unknown or not create:
            raise MasterKeyMissing(self.description, unknown, self.restore_hint)
        return self._create()

    def unknown_key_ids(self) -> frozenset[str]:
        """Ids of keys stored credentials are sealed with that are neither current nor retired."""
        if self._sealed_key_ids is None:
            return frozenset()
        sealed = frozenset(self._sealed_key_ids())
        if not sealed:
            return sealed
        known = {k.key_id for k in self.retired()}
        key = self._load()
        if key is not None:
            known.add(key.key_id)
        return sealed - known

    def _load(self) -> MasterKey | None:
        """The current key if there is one (``None`` when none was ever stored here)."""
        raise NotImplementedError

    def _create(self) -> MasterKey:
        """Store a new random key as current and return the key now current."""
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
        """Every known key by id, current included; never creates a key.

        Raises :class:`MasterKeyMissing` when there is no current key and
        stored credentials are sealed with a key this source does not know.
        """
        keys = {k.key_id: k for k in self.retired()}
        try:
            current = self.current(create=False)
        except MasterKeyMissing as exc:
            if exc.expected:
                raise
            return keys  # no current key, and no row needs one
        keys[current.key_id] = current
        return keys


class EnvKeySource(KeySource):
    """``NAVI_INTEGRATIONS_KEY``, with ``NAVI_INTEGRATIONS_OLD_KEYS`` (comma-separated) retired."""

    can_rotate = False

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__()
        self._environ = environ
        self.description = "NAVI_INTEGRATIONS_KEY"

    def _load(self) -> MasterKey:
        return parse_key(self._environ["NAVI_INTEGRATIONS_KEY"], "NAVI_INTEGRATIONS_KEY")

    def _create(self) -> MasterKey:
        return self._load()  # never reached: the variable is set

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

    def __init__(
        self, data_dir: Path, why: str, sealed_key_ids: SealedKeyIds | None = None
    ) -> None:
        super().__init__(sealed_key_ids)
        self.path = data_dir / "master.key"
        self.retired_dir = data_dir / "keys"
        self.description = f"key file {self.path} ({why})"
        self.restore_hint = (
            f"Restore {self.path} from a backup, or set NAVI_INTEGRATIONS_KEY to that key"
        )

    def _load(self) -> MasterKey | None:
        return read_key_file(self.path, "key file")

    def _create(self) -> MasterKey:
        try:
            private_dir(self.path.parent)
            write_key_file(self.path, generate_key(self.description))
        except OSError as exc:
            raise MasterKeyError(
                f"cannot create the key file {self.path}: {exc.strerror}",
                advice=Advice(
                    "fix_store",
                    hint=f"make {self.path.parent} writable, or set NAVI_INTEGRATIONS_KEY",
                ),
            ) from None
        # Another process may have created it first: whatever is there now wins.
        key = self._load()
        if key is None:
            raise MasterKeyError(f"the key file {self.path} vanished just after it was written")
        return key

    def retired(self) -> list[MasterKey]:
        if not self.retired_dir.is_dir():
            return []
        keys = []
        for path in sorted(self.retired_dir.glob("*.key")):
            key = read_key_file(path, "retired key file")
            if key is not None:
                keys.append(key)
        return keys

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
    """The OS keyring: the current key and each retired key as separate entries.

    A first key is created under a lock file in ``lock_dir`` (the data dir),
    so two processes starting at once cannot each store their own.
    """

    def __init__(
        self,
        backend: Any,
        name: str,
        sealed_key_ids: SealedKeyIds | None = None,
        lock_dir: Path | None = None,
    ) -> None:
        super().__init__(sealed_key_ids)
        self._backend = backend
        self._lock_dir = lock_dir
        self.description = f"OS keyring ({name})"
        self.restore_hint = (
            f"Restore the '{_KEYRING_SERVICE}' entry '{_KEYRING_USER}' in the OS keyring, or set "
            "NAVI_INTEGRATIONS_KEY to that key"
        )

    def _get(self, user: str) -> str | None:
        try:
            value = self._backend.get_password(_KEYRING_SERVICE, user)
        except Exception as exc:  # locked, no session bus...: one line, not a traceback
            raise MasterKeyError(
                f"the {self.description} failed: {type(exc).__name__}",
                advice=Advice("fix_store", hint="unlock it, or set NAVI_INTEGRATIONS_KEY"),
            ) from None
        return str(value) if value else None

    def _load(self) -> MasterKey | None:
        stored = self._get(_KEYRING_USER)
        return parse_key(stored, self.description) if stored else None

    def _create(self) -> MasterKey:
        with _creation_lock(self._lock_dir):
            key = self._load()  # created by another process while we waited
            if key is None:
                fresh = encode_key(generate_key(self.description))
                self._backend.set_password(_KEYRING_SERVICE, _KEYRING_USER, fresh)
                key = self._load()
        if key is None:
            raise MasterKeyError(f"the {self.description} did not keep the new master key")
        return key

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


@contextlib.contextmanager
def _creation_lock(folder: Path | None) -> Iterator[None]:
    """An exclusive lock on ``<folder>/.master-key.lock`` (no-op without a folder or fcntl)."""
    try:
        import fcntl
    except ImportError:  # Windows: the keyring's own last-writer-wins applies
        fcntl = None  # type: ignore[assignment]  # the module or None, as Windows has none
    if folder is None or fcntl is None:
        yield
        return
    private_dir(folder)
    fd = os.open(folder / ".master-key.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def sealed_key_ids_in(environ: Mapping[str, str]) -> SealedKeyIds:
    """Key ids used by the credentials in the database ``environ`` selects (for key sources).

    The default answer of :func:`key_source`; a caller holding its own
    :class:`~navi_integrations.store.engine.Store` passes
    ``lambda: store.key_ids_in_use()`` instead.
    """

    def lookup() -> frozenset[str]:
        from .engine import database_url, key_ids_in_database

        return key_ids_in_database(database_url(environ))

    return lookup


def key_source(
    data_dir: Path,
    environ: Mapping[str, str] | None = None,
    *,
    sealed_key_ids: SealedKeyIds | None = None,
) -> KeySource:
    """Where the master key comes from: env var, else OS keyring, else the key file.

    The description of a key-file source says why the keyring was not used.
    ``NAVI_INTEGRATIONS_KEYRING=0`` skips the keyring. ``sealed_key_ids``
    answers which key ids stored credentials use, so that a missing key is
    reported instead of replaced (default: ask the database ``environ``
    selects, see :func:`sealed_key_ids_in`).
    """
    env = os.environ if environ is None else environ
    if env.get("NAVI_INTEGRATIONS_KEY"):
        return EnvKeySource(env)
    in_use = sealed_key_ids if sealed_key_ids is not None else sealed_key_ids_in(env)
    if env.get("NAVI_INTEGRATIONS_KEYRING", "1") == "0":
        return FileKeySource(data_dir, "keyring disabled by NAVI_INTEGRATIONS_KEYRING=0", in_use)
    backend, why = _usable_keyring()
    if backend is None:
        return FileKeySource(data_dir, why, in_use)
    return KeyringKeySource(backend, why, in_use, lock_dir=data_dir)
