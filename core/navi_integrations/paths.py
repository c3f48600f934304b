"""Where navi-integrations keeps its files.

``NAVI_INTEGRATIONS_HOME`` puts everything (data and config) under one
directory; otherwise the platform's user data and config dirs are used
(platformdirs), e.g. ``~/.local/share/navi-integrations`` and
``~/.config/navi-integrations`` on Linux.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "cache_dir",
    "config_dir",
    "custom_providers_dir",
    "data_dir",
    "private_dir",
    "write_atomic",
]

_APP = "navi-integrations"


def data_dir() -> Path:
    """Directory for the database and the key file (not created here)."""
    home = os.environ.get("NAVI_INTEGRATIONS_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(_APP, appauthor=False))


def config_dir() -> Path:
    """Directory for user configuration such as custom provider files (not created here)."""
    home = os.environ.get("NAVI_INTEGRATIONS_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(_APP, appauthor=False))


def custom_providers_dir() -> Path:
    """Directory holding user-defined providers, one ``<id>.toml`` file each."""
    return config_dir() / "providers"


def cache_dir() -> Path:
    """Directory for caches that can be deleted at any time (not created here)."""
    home = os.environ.get("NAVI_INTEGRATIONS_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(_APP, appauthor=False))


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (only the ones it creates)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    return path


def write_atomic(path: Path, text: str, *, private: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file in its folder and a rename: a
    reader sees the old file or the new one, whole. ``private``: mode 0600 from the start;
    else the umask's default (0644 with the usual 022)."""
    import secrets

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
