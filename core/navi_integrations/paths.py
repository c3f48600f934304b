"""Where navi-integrations keeps its files.

``NAVI_INTEGRATIONS_HOME`` puts everything (data and config) under one
directory; otherwise the platform's user data and config dirs are used
(platformdirs), e.g. ``~/.local/share/navi-integrations`` and
``~/.config/navi-integrations`` on Linux.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "config_dir", "custom_providers_dir", "data_dir", "private_dir"]

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
