"""Encryption of credential values: AES-256-GCM, one random nonce per value.

Each ciphertext is bound by associated data to (provider, scope, project),
so a row copied to another provider or project does not decrypt. Stored
form: ``nonce (12 bytes) || ciphertext+tag``, with the key id kept beside it
in the row so that rotation knows which key each row needs.

The master key and its sources live in :mod:`.keys`; their names are
re-exported here, where callers have always imported them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag

from ..errors import InvalidCiphertext
from .keys import (
    EnvKeySource,
    FileKeySource,
    KeyringKeySource,
    KeySource,
    MasterKey,
    MasterKeyMissing,
    SealedKeyIds,
    encode_key,
    generate_key,
    key_source,
    parse_key,
    read_key_file,
    sealed_key_ids_in,
    write_key_file,
)

__all__ = [
    "EnvKeySource",
    "FileKeySource",
    "InvalidCiphertext",
    "KeySource",
    "KeyringKeySource",
    "MasterKey",
    "MasterKeyMissing",
    "Sealed",
    "SealedKeyIds",
    "associated_data",
    "encode_key",
    "generate_key",
    "key_source",
    "open_sealed",
    "open_values",
    "parse_key",
    "read_key_file",
    "seal",
    "sealed_key_ids_in",
    "write_key_file",
]

_NONCE = 12
_JSON = json.JSONDecoder()


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
    if len(blob) < _NONCE + 16:
        raise InvalidCiphertext("truncated")
    if type(blob) is not bytes:  # a driver's memoryview or bytearray
        blob = bytes(blob)
    try:
        plain: bytes = key.aead.decrypt(blob[:_NONCE], blob[_NONCE:], aad)
    except InvalidTag:
        raise InvalidCiphertext("authentication failed") from None
    return plain


def open_values(key: MasterKey, blob: bytes, aad: bytes) -> dict[str, str]:
    """Decrypt a sealed credential set (a JSON object of strings) and parse it.

    Raises :class:`InvalidCiphertext` when it does not authenticate or is not one.
    """
    try:
        # raw_decode on text: json.loads(bytes) first guesses the encoding, twice the cost.
        text = open_sealed(key, blob, aad).decode()
        values, end = _JSON.raw_decode(text)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both
        raise InvalidCiphertext("not a credential set") from None
    if end != len(text) or not isinstance(values, dict):
        raise InvalidCiphertext("not a credential set")
    return {str(k): str(v) for k, v in values.items()}
