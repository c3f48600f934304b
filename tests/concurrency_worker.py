"""One writer process of the concurrency test: random mixed writes, each one logged."""

from __future__ import annotations

import json
import random
import sys

from navi_integrations import IntegrationService
from navi_integrations.store.engine import Store


def main(url: str, worker: int, count: int, log_path: str) -> None:
    rng = random.Random(worker)
    service = IntegrationService(store=Store(url))
    log = []
    for i in range(count):
        provider = rng.choice(["linear", "notion"])
        project = rng.choice([None, "p1", "p2"])
        op = rng.choice(["connect", "connect", "enable", "disable", "mcp", "skill", "error"])
        tag = f"{worker:02d}x{i:05d}"
        if op == "connect":
            value = ("lin_api_" if provider == "linear" else "ntn_") + tag.ljust(40, "z")
            field = "apiKey" if provider == "linear" else "token"
            service.connect(provider, {field: value}, project_id=project)
            log.append(["cred", provider, project, value])
        elif op in ("enable", "disable"):
            getattr(service, op)(provider, project_id=project)
            log.append(["enabled", provider, project, op == "enable"])
        elif op == "mcp":
            flag = rng.random() < 0.5
            service.update_settings(provider, project_id=project, mcp_enabled=flag)
            log.append(["mcp_enabled", provider, project, flag])
        elif op == "skill":
            flag = rng.random() < 0.5
            service.update_settings(provider, project_id=project, skill_enabled=flag)
            log.append(["skill_enabled", provider, project, flag])
        else:
            try:
                service.record_error(provider, f"HTTP 503 {tag}", project_id=project)
            except Exception as exc:  # not connected yet in that scope is fine
                if type(exc).__name__ != "NotConnected":
                    raise
    with open(log_path, "w") as out:
        json.dump(log, out)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
