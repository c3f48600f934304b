"""Write installed distributions straight into a site directory, for tests and benchmarks.

``write_distribution(site, "navi-acme", {"acme": "navi_acme"}, {"navi_acme": SOURCE})``
creates ``navi_acme-0.1.dist-info`` (METADATA, entry_points.txt, RECORD) and
the module file, as an installer would. With ``site`` on ``sys.path`` the
entry point is discovered like any installed plugin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ..plugins.discovery import ENTRY_POINT_GROUP

__all__ = ["write_distribution"]


def write_distribution(
    site: Path,
    name: str,
    entry_points: Mapping[str, str],
    modules: Mapping[str, str],
    *,
    version: str = "0.1",
    group: str = ENTRY_POINT_GROUP,
) -> Path:
    """Install distribution ``name`` into ``site``; returns its ``.dist-info`` folder."""
    site.mkdir(parents=True, exist_ok=True)
    normal = re.sub(r"[-_.]+", "_", name).lower()
    info = site / f"{normal}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{group}]", *(f"{k} = {v}" for k, v in entry_points.items()), ""]
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    records = [f"{info.name}/METADATA,,", f"{info.name}/entry_points.txt,,"]
    for module, source in modules.items():
        path = site / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        records.append(f"{path.relative_to(site)},,")
    (info / "RECORD").write_text("\n".join([*records, f"{info.name}/RECORD,,", ""]))
    return info
