"""Builds a store with 200,000 credential rows (10,000 projects x 20 providers) for benchmarks.

The 20 providers are the five plugins plus 15 user-defined TOML providers, so
that a `navi-int` process sees the same 20. Rows are sealed with the real
AES-GCM code and inserted in bulk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PLUGIN_FIELDS = {
    "linear": ("apiKey", "lin_api_"),
    "notion": ("token", "ntn_"),
    "slack": ("botToken", "xoxb-1-2-"),
    "google": ("clientSecret", "GOCSPX-"),
    "github": ("host", "gh"),
}


def write_custom_providers(home: Path, count: int = 15) -> list[str]:
    folder = home / "providers"
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for n in range(count):
        pid = f"custom{n:02d}"
        (folder / f"{pid}.toml").write_text(
            f'id = "{pid}"\nname = "Custom {n}"\nbase_url = "https://c{n}.example"\n'
        )
        ids.append(pid)
    return ids


def provider_fields(home: Path) -> dict[str, tuple[str, str]]:
    fields = dict(PLUGIN_FIELDS)
    for pid in write_custom_providers(home):
        fields[pid] = ("apiKey", "k_")
    return fields


def build(home: Path, projects: int) -> dict[str, tuple[str, str]]:
    """Point the env at ``home``, create the store and fill it; returns provider -> field."""
    os.environ["NAVI_INTEGRATIONS_HOME"] = str(home)
    os.environ["NAVI_INTEGRATIONS_KEYRING"] = "0"
    from navi_integrations.paths import data_dir
    from navi_integrations.store.crypto import associated_data, key_source, seal
    from navi_integrations.store.engine import Store
    from navi_integrations.store.tables import CREDENTIALS

    fields = provider_fields(home)
    store = Store()
    key = key_source(data_dir()).current()
    batch = []
    with store.write() as conn:
        for p in range(projects):
            project = f"project-{p:05d}"
            for provider, (field, prefix) in fields.items():
                value = prefix + f"{p:05d}".ljust(40, "v")
                aad = associated_data(provider, "project", project)
                sealed = seal(key, json.dumps({field: value}).encode(), aad)
                batch.append(
                    {
                        "provider": provider,
                        "scope": "project",
                        "project_id": project,
                        "value": sealed.blob,
                        "key_id": sealed.key_id,
                        "enabled": True,
                        "error_count": 0,
                        "created_at": 1,
                        "updated_at": 1,
                    }
                )
                if len(batch) >= 5000:
                    conn.execute(CREDENTIALS.insert(), batch)
                    batch = []
        if batch:
            conn.execute(CREDENTIALS.insert(), batch)
    store.engine.dispose()
    return fields
